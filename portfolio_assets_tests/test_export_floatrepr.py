"""The compiled float writer (``export.floatrepr``, Ryu) writes Python's ``repr`` of every double, as
``numtext.repr_texts`` (the Arrow cast it replaces in the export) does: random bit patterns, subnormals,
powers of two and ten, ties, integral values both sides of 1e16, the positional / exponent borders, NaN and
±inf (null), negative zero, empty and one-value columns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from portfolio_assets.export.encoders import float_texts, part_texts
from portfolio_assets.export.frame import Column
from portfolio_assets.numtext import repr_texts
from portfolio_assets_tests.test_numtext import EDGES, values

BORDERS = [
    1e-4, 9.999999999999999e-05, 1e16, 9999999999999998.0, 1e15, 999999999999999.9, 1e17, 123456789012345680.0,
    2.0**53, 2.0**53 + 2, 2.0**63, 2.0**64, 9007199254740993.0, 0.1 + 0.2, 1 / 3, 2 / 3, 5e-324, 1e-323,
    2.225073858507201e-308, 2.2250738585072014e-308, 1.7976931348623157e308, 1e23, 8.41e21, 5.0e-05,
    4.35e-05, 1.0000000000000002, 0.9999999999999999, 12345.678, -0.0, 0.0, math.nan, math.inf, -math.inf,
]  # fmt: skip


def expected(v: np.ndarray) -> list[str | None]:
    return [repr(x) if math.isfinite(x) else None for x in v.tolist()]


def random_doubles(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**64, n, dtype=np.uint64).view(np.float64)


@pytest.mark.parametrize(
    "v",
    [
        np.array(BORDERS + EDGES),
        random_doubles(300_000, 1),
        values(n=200_000, seed=5),
        np.concatenate([10.0 ** np.arange(-323, 309), 2.0 ** np.arange(-1074, 1024), -(2.0 ** np.arange(-60, 60))]),
        np.random.default_rng(2).lognormal(0, 12, 200_000),
        np.arange(-2000, 2000) / 8.0,
    ],
    ids=["borders", "random-bits", "numtext-values", "powers", "lognormal", "eighths"],
)
def test_float_texts_are_python_repr(v: np.ndarray) -> None:
    with np.errstate(over="ignore"):
        v = np.asarray(v, dtype=np.float64)
    texts = float_texts(v)
    assert texts.to_pylist() == expected(v)
    assert texts.equals(repr_texts(v))


def test_empty_and_single_columns() -> None:
    assert float_texts(np.zeros(0)).to_pylist() == []
    assert float_texts(np.array([math.nan])).to_pylist() == [None]
    assert float_texts(np.array([-2.5e-7])).to_pylist() == ["-2.5e-07"]
    assert float_texts(np.array([1e22]))[0].as_py() == "1e+22"


def test_a_float_column_exports_negative_zero_as_zero() -> None:
    frame = pd.DataFrame({"x": [-0.0, 0.0, math.nan, -1.5]})
    (texts,) = part_texts(frame, [Column("x", "float64")])
    assert texts.to_pylist() == ["0.0", "0.0", None, "-1.5"]
    assert texts.type == pa.string()
