"""Newey-West intervals, the metrics and the point-in-time baselines of the evaluation harness."""

import math

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.evaluate.baselines import historical_drift, momentum_12_1
from portfolio_assets.evaluate.intervals import (
    delta_method,
    horizon_lag,
    independent_outcomes,
    long_run_cov,
    mean_with_hac,
)
from portfolio_assets.evaluate.metrics import compare, long_short, rebalance_dates, score


def test_newey_west_by_hand():
    # x = 1, 2, 3, 4: deviations -1.5, -0.5, 0.5, 1.5; gamma0 = 5/4, gamma1 = (0.75 - 0.25 + 0.75)/4 = 0.3125;
    # lag 1 Bartlett weight 1/2: omega = 1.25 + 2 * 0.5 * 0.3125 = 1.5625; variance of the mean = omega / 4.
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert long_run_cov(x, 1)[0, 0] == pytest.approx(0.390625, rel=1e-15)
    assert long_run_cov(x, 0)[0, 0] == pytest.approx(x.var() / 4, rel=1e-15)
    assert mean_with_hac(x, 1, "m").se == pytest.approx(math.sqrt(0.390625), rel=1e-15)


def test_newey_west_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(3)
    e = rng.normal(size=400)
    x = e + np.convolve(e, np.ones(10), mode="same") * 0.5  # strongly autocorrelated
    fit = sm.OLS(x, np.ones(len(x))).fit(cov_type="HAC", cov_kwds={"maxlags": 20, "use_correction": False})
    assert mean_with_hac(x, 20, "m").se == pytest.approx(float(fit.bse[0]), rel=1e-10)


def test_overlap_widens_the_interval():
    rng = np.random.default_rng(0)
    x = np.convolve(rng.normal(size=2000), np.ones(90), mode="valid")  # 90-day overlapping sums
    naive = mean_with_hac(x, 0, "m").se
    hac = mean_with_hac(x, 89, "m").se
    assert hac > 5 * naive


def test_delta_method_of_a_ratio():
    x = np.column_stack([np.array([1.0, 2.0, 3.0, 6.0]), np.array([2.0, 2.0, 2.0, 2.0])])
    e = delta_method(x, lambda m: m[0] / m[1], 0, "ratio")
    assert e.value == pytest.approx(1.5)
    # the denominator is constant: se = se(mean of numerator) / 2
    assert e.se == pytest.approx(math.sqrt(x[:, 0].var() / 4) / 2, rel=1e-6)


def test_horizon_lag_and_independent_outcomes():
    daily = pd.date_range("2012-01-01", periods=300, freq="D")
    assert horizon_lag(daily, 90) == 89
    weekly = pd.date_range("2012-01-01", periods=30, freq="7D")
    assert horizon_lag(weekly, 90) == 12  # 7, 14, ..., 84 days later
    assert independent_outcomes(daily[:200], 90) == 3  # day 0, day 90, day 180
    assert horizon_lag(daily[:1], 90) == 0


def _frame(pred, y, days, symbols):
    return pd.DataFrame({"pred": pred, "y": y, "timestamp": days, "asset_symbol": symbols})


def test_score_of_perfect_and_random_walk_forecasts():
    rng = np.random.default_rng(1)
    days = np.repeat(pd.date_range("2012-01-01", periods=200, freq="D", tz="UTC"), 4)
    symbols = np.tile(["A", "B", "C", "D"], 200)
    y = rng.normal(0, 0.1, len(days))
    perfect = score(_frame(y, y, days, symbols), 90)
    assert perfect["mae"].value == 0.0
    assert perfect["skill"].value == 1.0
    assert perfect["direction_accuracy"].value == 1.0
    assert perfect["mcc"].value == pytest.approx(1.0)
    assert perfect["ic"]["mean"].value == pytest.approx(1.0)
    assert perfect["rank_ic"]["mean"].value == pytest.approx(1.0)
    rw = score(_frame(np.zeros(len(y)), y, days, symbols), 90)
    assert rw["skill"].value == 0.0
    assert rw["mae"].value == pytest.approx(np.abs(y).mean())
    assert rw["mcc"].value == 0.0
    assert math.isnan(rw["ic"]["mean"].value)  # a constant forecast has no cross-sectional correlation
    assert rw["lag"] == 89 and rw["independent_outcomes"] == 3
    assert math.isnan(rw["mcc"].se)  # undefined for a constant forecast, reported as 0 without an interval
    assert perfect["skill_non_overlapping"].value == 1.0 and rw["skill_non_overlapping"].value == 0.0
    assert "non-overlapping" in rw["skill_non_overlapping"].method


def test_long_short_uses_non_overlapping_rebalance_dates():
    days = np.repeat(pd.date_range("2012-01-01", periods=200, freq="D", tz="UTC"), 3)
    symbols = np.tile(["A", "B", "C"], 200)
    pred = np.tile([0.1, 0.0, -0.1], 200)
    y = np.tile([0.2, 0.0, -0.1], 200)
    frame = _frame(pred, y, days, symbols)
    dates = rebalance_dates(frame, 90)
    assert [d.strftime("%Y-%m-%d") for d in dates] == ["2012-01-01", "2012-03-31", "2012-06-29"]
    result = long_short(frame, 90)
    assert [p["long"] for p in result["periods"]] == [["A"]] * 3
    assert result["mean"].value == pytest.approx(math.expm1(0.2) - math.expm1(-0.1))


def _known(symbol, days, targets, horizon=90):
    return pd.DataFrame(
        {
            "asset_symbol": symbol,
            "timestamp": days,
            "target_timestamp": days + pd.Timedelta(days=horizon),
            "target_return_90d": targets,
        }
    )


def test_historical_drift_uses_only_outcomes_known_by_the_row_date():
    days = pd.date_range("2012-01-01", periods=200, freq="D", tz="UTC")
    known = _known("A", days, np.arange(200, dtype=float))
    rows = known.iloc[[50, 95, 150]]
    drift, fallback = historical_drift(known, rows)
    # day 50: nothing known yet; day 95: targets of days 0..5 known; day 150: days 0..60
    assert drift.tolist() == [0.0, pytest.approx(2.5), pytest.approx(30.0)]
    assert fallback == 1


def _path(days, log_close):
    return pd.DataFrame(
        {
            "asset_symbol": "A",
            "timestamp": days,
            "price_close": np.exp(log_close),
            "return_1d": np.concatenate([[np.nan], np.diff(log_close)]),
            "target_timestamp": days + pd.Timedelta(days=90),
            "target_return_90d": np.nan,
            "target_price_90d": np.nan,
        }
    )


def test_momentum_12_1_on_a_constant_trend_and_without_look_ahead():
    days = pd.date_range("2010-01-01", periods=800, freq="D", tz="UTC")
    mu = 0.001
    rows = _path(days, np.log(50.0) + mu * np.arange(800))
    momentum, fallback = momentum_12_1(rows, rows, 90)
    assert fallback == 365  # the first year has no 12-month history
    assert momentum.iloc[400] == pytest.approx(90 * mu, rel=1e-9)
    future = rows.copy()
    future.loc[future.index > 600, "price_close"] *= 3.0  # the future changes
    future.loc[future.index > 600, "return_1d"] = 0.5
    again, _ = momentum_12_1(future, future.iloc[:601], 90)
    assert again.iloc[400:601].tolist() == momentum.iloc[400:601].tolist()


def test_momentum_fills_a_purged_gap_with_realised_targets():
    days = pd.date_range("2010-01-01", periods=800, freq="D", tz="UTC")
    mu = 0.001
    log_close = np.log(50.0) + mu * np.arange(800)
    rows = _path(days, log_close)
    rows["target_return_90d"] = np.concatenate([log_close[90:] - log_close[:-90], np.full(90, np.nan)])
    rows["target_price_90d"] = np.exp(np.concatenate([log_close[90:], np.full(90, np.nan)]))
    kept = rows[(rows.index < 500) | (rows.index >= 590)]  # 90 days purged
    momentum, fallback = momentum_12_1(kept, kept[kept.index >= 590], 90)
    assert fallback == 0
    # day 600 looks back to day 570, inside the gap: the target of day 480 (known on day 570) fills it
    assert momentum.loc[600] == pytest.approx(90 * mu, rel=1e-9)
    assert momentum.loc[700] == pytest.approx(90 * mu, rel=1e-9)
    without_targets = kept.assign(target_return_90d=np.nan)
    stale, fallback = momentum_12_1(without_targets, without_targets.loc[[600]], 90)
    assert (stale.loc[600], fallback) == (0.0, 1)  # no point within 7 days of day 570


def test_compare_against_a_baseline():
    rng = np.random.default_rng(2)
    days = np.repeat(pd.date_range("2012-01-01", periods=200, freq="D", tz="UTC"), 3)  # 3 independent outcomes
    y = rng.normal(0, 0.1, len(days))
    frame = pd.DataFrame({"y": y, "timestamp": days, "perfect": y, "zero": 0.0, "half": y / 2})
    against_rw = compare(frame, "perfect", "zero", 90)
    assert against_rw["relative_skill"].value == 1.0
    assert against_rw["mae_difference"].value == pytest.approx(-np.abs(y).mean())
    assert against_rw["mae_difference"].high < 0  # clearly better
    itself = compare(frame, "half", "half", 90)
    assert itself["relative_skill"].value == 0.0 and itself["mae_difference"].value == 0.0
    half = compare(frame, "half", "zero", 90)
    assert half["relative_skill"].value == pytest.approx(0.5)


def test_fixed_b_critical_values():
    from portfolio_assets.evaluate.intervals import critical_value

    assert critical_value(99, 100) == pytest.approx(1.96 + 2.9694 + 0.4160 - 0.5324, abs=1e-3)  # b = 1
    assert critical_value(89, 900) == pytest.approx(1.96 + 0.29694 + 0.00416 - 0.0005324, abs=1e-3)  # b = 0.1
    assert critical_value(0, 3) == pytest.approx(4.302653 * math.sqrt(3 / 2), rel=1e-6)  # Student t, 2 df
    assert critical_value(0, 10_000) == pytest.approx(1.96, abs=1e-3)


def _coverage(dates: int, horizon: int, reps: int, seed: int) -> float:
    """Share of seeded simulations whose 95% interval of the mean of overlapping ``horizon``-day sums of iid
    shocks (true mean 0) holds 0."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2012-01-01", periods=dates, freq="D")
    lag = horizon_lag(days, horizon)
    hits = 0
    for _ in range(reps):
        y = np.convolve(rng.normal(size=dates + horizon - 1), np.ones(horizon), mode="valid")
        estimate = mean_with_hac(y, lag, "m")
        hits += estimate.low <= 0.0 <= estimate.high
    return hits / reps


def test_intervals_of_overlapping_labels_cover_on_a_short_span():
    # with +-1.96 the coverage was about 72% here (250 dates, 63-day overlap); fixed-b critical values bring it
    # to about 84% (3,000 simulations); 400 seeded ones keep the test fast
    coverage = _coverage(250, 63, 400, seed=11)
    assert coverage >= 0.80
    assert _coverage(1000, 63, 100, seed=12) >= 0.85


def test_too_few_independent_outcomes_give_no_interval():
    rng = np.random.default_rng(4)
    short = np.repeat(pd.date_range("2012-01-01", periods=150, freq="D", tz="UTC"), 4)  # 2 outcomes
    y = rng.normal(0, 0.1, len(short))
    frame = _frame(y / 2, y, short, np.tile(["A", "B", "C", "D"], 150))
    scored = score(frame, 90)
    assert scored["independent_outcomes"] == 2
    for key in ("mae", "skill", "direction_accuracy", "mcc", "skill_non_overlapping"):
        assert math.isfinite(scored[key].value) and math.isnan(scored[key].low), key
        assert scored[key].note == "not identifiable: fewer than 3 independent 90-day outcomes (2)"
    assert math.isnan(scored["ic"]["mean"].high) and math.isnan(scored["long_short"]["mean"].high)
    versus = compare(frame.assign(zero=0.0, half=y / 2), "half", "zero", 90)
    assert versus["mae_difference"].note.startswith("not identifiable") and math.isnan(versus["mae_difference"].high)
    long = np.repeat(pd.date_range("2012-01-01", periods=200, freq="D", tz="UTC"), 4)  # 3 outcomes
    y = rng.normal(0, 0.1, len(long))
    scored = score(_frame(y / 2, y, long, np.tile(["A", "B", "C", "D"], 200)), 90)
    assert scored["skill"].note == "" and scored["skill"].low < scored["skill"].value < scored["skill"].high
    assert scored["skill"].crit > 3  # b = 90 / 200: fixed-b


def test_a_failed_answer_counts_as_the_wrong_direction():
    days = np.repeat(pd.date_range("2012-01-01", periods=200, freq="D", tz="UTC"), 4)
    y = np.full(len(days), -0.05)  # a falling market: "not up" would always be right
    y[::4] = 0.05
    frame = _frame(np.zeros(len(days)), y, days, np.tile(["A", "B", "C", "D"], 200))
    failed = score(frame.assign(valid=False), 90)
    assert failed["direction_accuracy"].value == 0.0
    assert failed["mcc"].value == pytest.approx(-1.0)
    assert failed["mae"].value == pytest.approx(0.05) and failed["skill"].value == 0.0  # the random walk's 0
    half = score(frame.assign(valid=np.arange(len(days)) % 2 == 0), 90)
    # valid rows (A and C): predicted 0 = "not up", right for C only; invalid rows (B and D): wrong
    assert half["direction_accuracy"].value == pytest.approx(0.25)


def test_rebalance_dates_come_from_every_evaluated_row():
    days = np.repeat(pd.date_range("2012-01-01", periods=200, freq="D", tz="UTC"), 3)
    symbols = np.tile(["A", "B", "C"], 200)
    pred = np.tile([0.1, 0.0, -0.1], 200)
    y = np.tile([0.2, 0.0, -0.1], 200)
    pred[0] = np.nan  # the first date's forecast of A failed (valid-only view drops it)
    result = score(_frame(pred, y, days, symbols), 90)
    dates = [p["date"] for p in result["long_short"]["periods"]]
    assert dates == ["2012-01-01", "2012-03-31", "2012-06-29"]  # not moved to 2012-01-02
