"""Point-in-time split and dividend adjustment (``features.adjustment``), on crafted series and on the sample.

A pair of series: G never split and paid no dividend (its closes are the total-return path); A is G as
traded through a 2-for-1 split and a dividend. Scale-free features of A equal G's, price levels are G's
in A's share basis, and an event dated after D changes nothing at or before D.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from portfolio_assets import fpmath
from portfolio_assets.assets.prices import canonical_prices
from portfolio_assets.features import TECHNICAL_FEATURES, compute_indicators, compute_targets
from portfolio_assets.features.adjustment import (
    ADJUSTMENT_FACTOR,
    PRICE_LEVEL_FEATURES,
    SPLIT_FACTOR_CUM,
    CorporateActions,
    adjustment_factors,
    rebase_levels,
    total_return_prices,
    with_adjustment,
)
from portfolio_assets.features.sft import context_windows
from portfolio_assets.landing import SAMPLE_LANDING_ROOT
from portfolio_assets.resources import LandingZoneResource

N = 400
SPLIT_AT, DIVIDEND_AT = 150, 260
YIELD = 0.01
SCALE_FREE = [f for f in TECHNICAL_FEATURES if f not in PRICE_LEVEL_FEATURES]


def utc(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def gbm(symbol: str = "G", n: int = N, seed: int = 7) -> pd.DataFrame:
    """Business-day OHLCV of a seeded random walk (equity)."""
    rng = np.random.default_rng(seed)
    close = 100 * fpmath.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = close * fpmath.exp(rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * fpmath.exp(np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(open_, close) * fpmath.exp(-np.abs(rng.normal(0, 0.004, n)))
    return pd.DataFrame(
        {
            "timestamp": pd.bdate_range("2010-01-04", periods=n, tz="UTC"),
            "asset_symbol": symbol,
            "asset_class": "equity",
            "price_open": open_,
            "price_high": high,
            "price_low": low,
            "price_close": close,
            "volume": rng.lognormal(13, 0.3, n),
        }
    )


def as_traded(g: pd.DataFrame) -> tuple[pd.DataFrame, CorporateActions]:
    """G as traded through a 2-for-1 split at SPLIT_AT and a dividend at DIVIDEND_AT, and those events."""
    a = g.copy()
    scale = np.where(np.arange(N) >= SPLIT_AT, 0.5, 1.0) * np.where(np.arange(N) >= DIVIDEND_AT, 1 - YIELD, 1.0)
    for column in ("price_open", "price_high", "price_low", "price_close"):
        a[column] = g[column] * scale
    a["volume"] = g["volume"] * np.where(np.arange(N) >= SPLIT_AT, 2.0, 1.0)
    amount = a["price_close"].iloc[DIVIDEND_AT] * YIELD / (1 - YIELD)
    actions = CorporateActions(
        splits=pd.DataFrame({"effective_date": [g["timestamp"].iloc[SPLIT_AT]], "split_factor": [2.0]}),
        dividends=pd.DataFrame({"ex_dividend_date": [g["timestamp"].iloc[DIVIDEND_AT]], "amount": [amount]}),
    )
    return a, actions


def point_in_time_indicators(prices: pd.DataFrame) -> pd.DataFrame:
    """What the ``indicators`` asset computes (technical part)."""
    return rebase_levels(compute_indicators(total_return_prices(prices)), prices)


@pytest.fixture(scope="module")
def pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    g = with_adjustment(gbm(), {})
    a, actions = as_traded(gbm())
    return g, with_adjustment(a, {"G": actions})


# --- the factors --------------------------------------------------------------------------------------


def test_factors_apply_from_the_event_day_on_never_before(pair) -> None:
    _, a = pair
    split = a[SPLIT_FACTOR_CUM].to_numpy()
    assert (split[:SPLIT_AT] == 1.0).all() and (split[SPLIT_AT:] == 2.0).all()
    factor = a[ADJUSTMENT_FACTOR].to_numpy()
    assert (factor[:SPLIT_AT] == 1.0).all() and (factor[SPLIT_AT:DIVIDEND_AT] == 2.0).all()
    assert factor[DIVIDEND_AT:] == pytest.approx(2.0 / (1 - YIELD), rel=1e-12)


def test_weekend_events_apply_on_the_next_observation_and_events_outside_the_history_are_ignored() -> None:
    days = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], tz="UTC")
    close = np.array([10.0, 10.0, 5.0, 5.0])
    splits = pd.DataFrame(
        {
            "effective_date": pd.DatetimeIndex(["2019-06-01", "2020-01-02", "2020-01-04", "2020-02-01"], tz="UTC"),
            "split_factor": [10.0, 3.0, 2.0, 4.0],
        }
    )
    split_cum, factor = adjustment_factors(days, close, CorporateActions(splits=splits))
    # before / on the first observation: no observed move; Saturday: Monday; after the last: not yet
    assert split_cum.tolist() == [1.0, 1.0, 2.0, 2.0]
    assert factor.tolist() == [1.0, 1.0, 2.0, 2.0]


def test_an_asset_without_events_has_factors_of_exactly_one_and_identical_features() -> None:
    g = gbm()
    adjusted = with_adjustment(g, {"G": CorporateActions()})
    assert (adjusted[[SPLIT_FACTOR_CUM, ADJUSTMENT_FACTOR]] == 1.0).all().all()
    pd.testing.assert_frame_equal(point_in_time_indicators(adjusted), compute_indicators(g), check_exact=True)
    pd.testing.assert_frame_equal(compute_targets(adjusted), compute_targets(g), check_exact=True)


# --- the pair: as traded with a split and a dividend vs never split ----------------------------------


def test_scale_free_features_are_those_of_the_series_never_split(pair) -> None:
    g, a = pair
    fg, fa = point_in_time_indicators(g), point_in_time_indicators(a)
    pd.testing.assert_frame_equal(fa[SCALE_FREE], fg[SCALE_FREE], rtol=1e-9, atol=1e-9)
    # as traded, the split is a -69% log return and a volume spike
    naive = compute_indicators(a)
    assert naive["return_1d"].iloc[SPLIT_AT] < -0.6
    assert abs(fa["return_1d"].iloc[SPLIT_AT]) < 0.05


def test_price_levels_are_those_of_the_series_never_split_in_the_rows_share_basis(pair) -> None:
    g, a = pair
    fg, fa = point_in_time_indicators(g), point_in_time_indicators(a)
    basis = (a["price_close"] / g["price_close"]).to_numpy()  # 1, then 1/2, then (1 - y)/2
    for column in PRICE_LEVEL_FEATURES:
        np.testing.assert_allclose(fa[column], fg[column] * basis, rtol=1e-9, err_msg=column)


def test_levels_equal_features_on_the_history_back_adjusted_as_of_the_day(pair) -> None:
    """What a user at D sees: the history back-adjusted with the events dated <= D only, in D's basis."""
    _, a = pair
    fa = point_in_time_indicators(a)
    for d in (SPLIT_AT + 30, DIVIDEND_AT + 5, N - 1):
        history = a.iloc[: d + 1].copy()
        ratio = (history[ADJUSTMENT_FACTOR] / history[ADJUSTMENT_FACTOR].iloc[-1]).to_numpy()
        for column in ("price_open", "price_high", "price_low", "price_close"):
            history[column] = history[column] * ratio
        history["volume"] = history["volume"] / (history[SPLIT_FACTOR_CUM] / history[SPLIT_FACTOR_CUM].iloc[-1])
        seen = compute_indicators(history.drop(columns=[SPLIT_FACTOR_CUM, ADJUSTMENT_FACTOR])).iloc[-1]
        for column in TECHNICAL_FEATURES:
            assert fa[column].iloc[d] == pytest.approx(seen[column], rel=1e-9, abs=1e-9, nan_ok=True), (d, column)


def test_targets_show_no_split_and_the_total_return_adds_the_dividend(pair) -> None:
    g, a = pair
    tg, ta = compute_targets(g), compute_targets(a)
    known = ta["target_price_90d"].notna()
    paid = (ta["timestamp"] < a["timestamp"].iloc[DIVIDEND_AT]) & (
        ta["target_timestamp"] >= a["timestamp"].iloc[DIVIDEND_AT]
    )
    np.testing.assert_allclose(ta.loc[known, "target_total_return_90d"], tg.loc[known, "target_return_90d"], atol=1e-12)
    price_return = tg["target_return_90d"] + np.where(paid, fpmath.log(1 - YIELD), 0.0)
    np.testing.assert_allclose(ta.loc[known, "target_return_90d"], price_return[known], atol=1e-12)
    # the target price is in the row's own share basis: the return is the ratio to the row's close
    np.testing.assert_allclose(
        ta.loc[known, "target_return_90d"], fpmath.log(ta.loc[known, "target_price_90d"] / a.loc[known, "price_close"])
    )
    assert ta["target_return_90d"].abs().max() < 0.5  # as traded, rows spanning the split would show ~ -0.69


def test_context_window_shows_no_split_and_ends_with_the_as_traded_close(pair) -> None:
    _, a = pair
    windows = context_windows(a, 30, factors=a[ADJUSTMENT_FACTOR].to_numpy())
    for d in (SPLIT_AT, SPLIT_AT + 10, DIVIDEND_AT + 3):
        closes = np.array(json.loads(windows.iloc[d]))
        assert closes[-1] == float(f"{a['price_close'].iloc[d]:.6g}")
        assert np.abs(np.diff(fpmath.log(closes))).max() < 0.06, d
    # windows without an event are written exactly as before
    plain = context_windows(a, 30)
    same = [i for i in range(N) if not (SPLIT_AT <= i < SPLIT_AT + 30 or DIVIDEND_AT <= i < DIVIDEND_AT + 30)]
    assert windows.iloc[same].tolist() == plain.iloc[same].tolist()


# --- no row uses an event before its ex-date ---------------------------------------------------------


@pytest.mark.parametrize("day", [SPLIT_AT - 1, DIVIDEND_AT - 1, 320])
@pytest.mark.parametrize("kind", ["split", "dividend"])
def test_an_event_after_the_day_leaves_every_value_up_to_it_bit_identical(pair, day: int, kind: str) -> None:
    a_raw, actions = as_traded(gbm())
    when = a_raw["timestamp"].iloc[day + 1]
    extra = (
        CorporateActions(
            splits=pd.concat([actions.splits, pd.DataFrame({"effective_date": [when], "split_factor": [3.0]})]),
            dividends=actions.dividends,
        )
        if kind == "split"
        else CorporateActions(
            splits=actions.splits,
            dividends=pd.concat([actions.dividends, pd.DataFrame({"ex_dividend_date": [when], "amount": [0.7]})]),
        )
    )
    # the event removed (only the ones dated <= day stay) vs added after the day
    kept = CorporateActions(
        splits=actions.splits[actions.splits["effective_date"] <= a_raw["timestamp"].iloc[day]],
        dividends=actions.dividends[actions.dividends["ex_dividend_date"] <= a_raw["timestamp"].iloc[day]],
    )
    frames = [with_adjustment(a_raw, {"G": acts}) for acts in (kept, actions, extra)]
    upto = slice(0, day + 1)
    base = frames[0]
    for other in frames[1:]:
        pd.testing.assert_frame_equal(other.iloc[upto], base.iloc[upto], check_exact=True)
        pd.testing.assert_frame_equal(
            point_in_time_indicators(other).iloc[upto], point_in_time_indicators(base).iloc[upto], check_exact=True
        )
        factor = other[ADJUSTMENT_FACTOR].to_numpy()
        assert (
            context_windows(other, 30, factors=factor).iloc[upto].tolist()
            == context_windows(base, 30, factors=base[ADJUSTMENT_FACTOR].to_numpy()).iloc[upto].tolist()
        )


# --- the sample: TLT's synthetic 2-for-1 split on 2010-06-15 and quarterly dividends -------------------


@pytest.fixture(scope="module")
def sample_tlt() -> pd.DataFrame:
    prices = canonical_prices(LandingZoneResource(root=str(SAMPLE_LANDING_ROOT)))
    return prices[prices["asset_symbol"] == "TLT"].reset_index(drop=True)


def test_the_sample_split_is_in_the_stored_factors(sample_tlt) -> None:
    on = sample_tlt["timestamp"] >= utc("2010-06-15")
    assert (sample_tlt.loc[~on, SPLIT_FACTOR_CUM] == 1.0).all() and (sample_tlt.loc[on, SPLIT_FACTOR_CUM] == 2.0).all()
    steps = sample_tlt[ADJUSTMENT_FACTOR].to_numpy()
    changed = sample_tlt["timestamp"][np.r_[False, steps[1:] != steps[:-1]]]
    assert len(changed) == 1 + 20  # the split and the 20 quarterly dividends
    # as traded, the close halves
    assert sample_tlt["price_close"].pct_change()[on.idxmax()] < -0.45


def test_no_feature_or_target_of_the_sample_shows_the_split_as_a_move(sample_tlt) -> None:
    features = point_in_time_indicators(sample_tlt)
    targets = compute_targets(sample_tlt)
    near = (sample_tlt["timestamp"] >= utc("2010-02-01")) & (sample_tlt["timestamp"] <= utc("2010-12-31"))
    assert features.loc[near, "return_1d"].abs().max() < 0.05
    for column in ("return_5d", "return_20d", "return_60d", "momentum_5d", "momentum_10d", "momentum_30d"):
        assert features.loc[near, column].abs().max() < 0.25, column
    for column in ("volatility_30d", "volatility_60d", "volatility_90d"):
        assert features.loc[near, column].max() < 0.3, column
    assert features.loc[near, "volume_zscore_20"].abs().max() < 5
    assert features.loc[near, "drawdown_252d"].min() > -0.3
    assert targets.loc[near, "target_return_90d"].abs().max() < 0.3
    assert targets.loc[near, "target_total_return_90d"].abs().max() < 0.3
    # the price-level features are in each row's own basis: near its as-traded close
    ratio = features.loc[near, "sma_20"] / sample_tlt.loc[near, "price_close"]
    assert ratio.between(0.9, 1.1).all()


def test_the_sample_total_return_adds_the_dividends_in_the_horizon(sample_tlt) -> None:
    targets = compute_targets(sample_tlt).dropna(subset=["target_price_90d"])
    extra = (targets["target_total_return_90d"] - targets["target_return_90d"]).to_numpy()
    steps = sample_tlt[ADJUSTMENT_FACTOR] / sample_tlt[SPLIT_FACTOR_CUM]
    ex_dates = sample_tlt["timestamp"][np.r_[False, steps.to_numpy()[1:] != steps.to_numpy()[:-1]]].to_numpy()
    pairs = zip(targets["timestamp"], targets["target_timestamp"], strict=True)
    holds = np.array([((ex_dates > d) & (ex_dates <= t)).sum() for d, t in pairs])
    assert set(holds) == {0, 1}
    assert (extra[holds == 1] > 0.005).all() and (extra[holds == 1] < 0.015).all()  # ~ -ln(1 - 0.9%)
    assert np.abs(extra[holds == 0]).max() < 1e-12
