"""feature_target_ic's ranks: one sort per feature gives the pooled and the per-class ranks, bit for bit
those of ``Series.rank(method="average")`` on each subset (the IC's values must not move)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_assets import checks
from portfolio_assets.checks.ic import _pearson, _rank, _row_ranks


def pandas_ranks(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).rank(method="average").to_numpy()


VALUES = st.lists(st.one_of(st.sampled_from([0.0, -0.0, 1.0, 2.5, np.nan, np.inf]), st.floats(-1e6, 1e6)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(VALUES, st.data())
def test_row_ranks_are_pandas_ranks_of_each_subset(values, data):
    x = np.array(values, dtype="float64")
    codes = np.array(data.draw(st.lists(st.integers(0, 3), min_size=len(x), max_size=len(x))), dtype=np.uint8)
    ok = np.isfinite(x)
    pooled, within = _row_ranks(x, ok, codes)
    assert pooled[ok].tobytes() == pandas_ranks(x[ok]).tobytes()
    assert np.isnan(pooled[~ok]).all() and np.isnan(within[~ok]).all()
    for code in range(4):
        sel = codes == code
        assert within[sel][ok[sel]].tobytes() == pandas_ranks(x[sel][ok[sel]]).tobytes()
    finite = x[ok]
    assert _rank(finite).tobytes() == pandas_ranks(finite).tobytes()


def test_ranks_of_nothing():
    pooled, within = _row_ranks(np.array([np.nan]), np.array([False]), np.array([0], dtype=np.uint8))
    assert np.isnan(pooled).all() and np.isnan(within).all()
    assert _rank(np.zeros(0)).shape == (0,)


def reference_ic(x: np.ndarray, y: np.ndarray) -> float | None:
    """The coefficient as computed before: pandas ranks of the finite pairs, then Pearson."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 30 or x[ok].min() == x[ok].max():
        return None
    return _pearson(pandas_ranks(x[ok]), pandas_ranks(y[ok]))


def test_ic_pooled_and_by_class_are_the_pandas_rank_ones():
    rng = np.random.default_rng(3)
    n = 600
    classes = rng.choice(["equity", "fx", "crypto"], n)
    frame = pd.DataFrame(
        {
            "asset_class": classes,
            "a": np.round(rng.normal(size=n), 1),  # many ties
            "b": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "c": np.where(classes == "fx", np.nan, rng.integers(0, 3, n).astype(float)),
            "target_return_90d": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        }
    )
    meta = checks.feature_target_ic(frame, features=["a", "b", "c"]).metadata
    y = frame["target_return_90d"].to_numpy()
    for f in ("a", "b", "c"):
        x = frame[f].to_numpy()
        assert meta["ic_pooled"][f] == reference_ic(x, y)
        for c in ("crypto", "equity", "fx"):
            sel = classes == c
            assert meta["ic_by_class"][c][f] == reference_ic(x[sel], y[sel])
    assert meta["ic_by_class"]["fx"]["c"] is None
    assert isinstance(meta["ic_pooled"]["a"], float)
