"""numtext writes exactly what the per-value Python code writes: ``repr`` and ``json.dumps(round_number(v))``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from portfolio_assets.features.sft import round_number
from portfolio_assets.numtext import json_number_texts, repr_texts, round_significant

EDGES = [
    -0.0, 0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, 1.7976931348623157e308, 1e-4, 9.99e-5, 1e-6,
    9.9e-7, 1e10, 1e16, 1e15, 2.0**53 + 2, 1.234565, 0.5, 1234565.0, 999999.5, 9.999995, 99999.95, 1e22, 1e23,
    0.1 + 0.2, 16273002546.231, 862444796315746.8, np.nan, np.inf, -np.inf,
]  # fmt: skip


def values(n: int = 200_000, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)
    v[: n // 4] = np.round(v[: n // 4] * 1e3) / 1e3  # integral and short values
    v[n // 4 : n // 2] = rng.integers(-(10**7), 10**7, n // 4) * 10.0 ** rng.integers(-12, 12, n // 4)  # ties
    return np.concatenate([np.array(EDGES), v])


@pytest.mark.parametrize("seed", [3, 4])
def test_repr_texts_is_python_repr(seed) -> None:
    v = values(seed=seed)
    expected = [repr(x) if math.isfinite(x) else None for x in v.tolist()]
    assert repr_texts(v).to_pylist() == expected


def test_json_number_texts_is_json_of_round_number() -> None:
    v = values()
    assert json_number_texts(v).to_pylist() == [json.dumps(round_number(x)) for x in v.tolist()]


def test_round_significant_is_six_digit_formatting() -> None:
    v = values()
    got = round_significant(v)
    for x, r in zip(v.tolist(), got.tolist(), strict=True):
        if not math.isfinite(x):
            assert math.isnan(r)
        else:
            assert repr(r) == repr(float(f"{x:.6g}") + 0.0)
