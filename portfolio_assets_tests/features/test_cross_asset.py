"""compute_cross_asset: against a plain-Python reference on real calendars, hand-checked cases, no look-ahead.

Reference case: GOOG (real equity calendar and closes, from ``backtesting``), a
daily crypto and a weekday FX asset (seeded, driven by the benchmarks so the
statistics are far from 0), the real S&P 500 closes shipped with ``arch`` as
the ``sp500`` benchmark (released the same day) and a seeded dollar index with
gaps, released 7 days after each observation.
"""

from __future__ import annotations

import bisect
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_assets import fpmath
from portfolio_assets.features import (
    CROSS_ASSET_FEATURES,
    InvalidBenchmarkError,
    InvalidPricesError,
    compute_cross_asset,
)
from portfolio_assets.features.cross_asset import cross_asset_columns
from portfolio_assets_tests.features import price_frames

NAN = float("nan")
KNOWN_AT = [f"{c}_available_at" for c in CROSS_ASSET_FEATURES]
DAY = pd.Timedelta(days=1)
RTOL = 1e-10


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def within(index: pd.DatetimeIndex, start: pd.Timestamp, stop: pd.Timestamp) -> np.ndarray:
    """Whether each date is in [start, stop)."""
    return np.asarray((index >= start) & (index < stop))


def benchmark(dates, values, lag_days: int = 0) -> pd.DataFrame:
    dates = pd.DatetimeIndex(dates).as_unit("ns")
    return pd.DataFrame(
        {
            "observation_date": dates,
            "value": np.asarray(values, dtype="float64"),
            "available_at": dates + pd.Timedelta(days=lag_days),
        }
    )


def prices(symbol: str, dates, closes, asset_class: str = "crypto") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset_symbol": symbol,
            "asset_class": asset_class,
            "timestamp": pd.DatetimeIndex(dates).as_unit("ns"),
            "price_close": np.asarray(closes, dtype="float64"),
            # decisions at the start of the day: the day-level rules of these cases (intraday: see below)
            "available_at": pd.DatetimeIndex(dates).as_unit("ns"),
        }
    )


def walk(dates, seed: int, vol: float = 0.01, start: float = 100.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return start * fpmath.exp(np.cumsum(rng.normal(0.0, vol, len(dates))))


# --- reference -------------------------------------------------------------------------------------


def reference_cross_asset(
    dates: list[pd.Timestamp],
    closes: list[float],
    bench: pd.DataFrame,
    window: int = 60,
    fill_days: int = 7,
) -> tuple[list[float], list[float]]:
    """(beta, corr) at every asset row, from the written definition, with plain loops and explicit sums.

    At row t: the joint dates are those d <= t on which the asset has a row and the benchmark an
    observation released by t; the window is the last ``window`` returns between consecutive
    joint dates, known at the latest of its dates and release dates, usable for 7 days.
    """
    observed = {}
    for d, v, r in zip(bench["observation_date"], bench["value"], bench["available_at"], strict=True):
        if not math.isnan(v):
            observed[d] = (v, r)
    joint = [(d, c, *observed[d]) for d, c in zip(dates, closes, strict=True) if d in observed]
    joint_dates = [j[0] for j in joint]
    betas, corrs = [], []
    for t in dates:
        members = []  # the newest window + 1 joint dates public at t, newest first
        for i in range(bisect.bisect_right(joint_dates, t) - 1, -1, -1):
            if joint[i][3] <= t:
                members.append(joint[i])
                if len(members) == window + 1:
                    break
        if len(members) < window + 1:
            betas.append(NAN)
            corrs.append(NAN)
            continue
        members.reverse()
        a = [math.log(members[i][1] / members[i - 1][1]) for i in range(1, window + 1)]
        b = [math.log(members[i][2] / members[i - 1][2]) for i in range(1, window + 1)]
        mean_a = math.fsum(a) / window
        mean_b = math.fsum(b) / window
        cov = math.fsum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True)) / (window - 1)
        var_a = math.fsum((x - mean_a) ** 2 for x in a) / (window - 1)
        var_b = math.fsum((y - mean_b) ** 2 for y in b) / (window - 1)
        known_at = max([members[-1][0]] + [m[3] for m in members])
        if t - known_at > pd.Timedelta(days=fill_days):
            betas.append(NAN)
            corrs.append(NAN)
            continue
        betas.append(cov / var_b if var_b > 0 else NAN)
        corrs.append(cov / math.sqrt(var_a * var_b) if var_a > 0 and var_b > 0 else NAN)
    return betas, corrs


@pytest.fixture(scope="module")
def real_case() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    sp500_data = pytest.importorskip("arch.data.sp500", reason="the real S&P 500 series ships with `arch`").load()
    goog = price_frames.goog("equity")[["asset_symbol", "asset_class", "timestamp", "price_close"]]
    goog = goog.assign(available_at=goog["timestamp"])
    sp_index = pd.DatetimeIndex(sp500_data.index).tz_localize("UTC").as_unit("ns")
    sp500 = benchmark(sp_index, sp500_data["Close"].to_numpy(), lag_days=0)

    rng = np.random.default_rng(20240501)
    dxy_days = pd.date_range("1999-01-01", "2018-12-31", freq="B", tz="UTC").as_unit("ns")
    dxy_values = 100.0 * fpmath.exp(np.cumsum(rng.normal(0.0, 0.004, len(dxy_days))))
    dxy = benchmark(dxy_days, dxy_values, lag_days=7)
    dxy.loc[rng.random(len(dxy)) < 0.03, "value"] = np.nan  # missing observations
    # a few observations released out of order (first-release vintages can do that)
    late = rng.random(len(dxy)) < 0.01
    dxy.loc[late, "available_at"] += pd.to_timedelta(rng.integers(1, 30, late.sum()), unit="D")

    # The synthetic assets load on the benchmarks (carried over the days they do not trade) plus noise.
    sp_log = pd.Series(fpmath.log(sp500["value"].to_numpy()), index=sp_index)
    dxy_log = pd.Series(fpmath.log(dxy_values), index=dxy_days)
    crypto_days = pd.date_range("2004-08-19", "2013-03-01", freq="D", tz="UTC").as_unit("ns")
    crypto_log = 1.7 * sp_log.reindex(crypto_days, method="ffill").to_numpy() + np.cumsum(
        rng.normal(0, 0.03, len(crypto_days))
    )
    fx_days = pd.date_range("2004-08-19", "2013-03-01", freq="B", tz="UTC").as_unit("ns")
    fx_log = -0.8 * dxy_log.reindex(fx_days, method="ffill").to_numpy() + np.cumsum(rng.normal(0, 0.004, len(fx_days)))
    frame = pd.concat(
        [
            goog,
            prices("BTC-USD", crypto_days, 300.0 * fpmath.exp(crypto_log - crypto_log[0])),
            prices("EURUSD", fx_days, 1.2 * fpmath.exp(fx_log - fx_log[0]), asset_class="fx"),
        ],
        ignore_index=True,
    )
    return frame, {"sp500": sp500, "dxy": dxy}


def test_matches_the_plain_python_reference_on_real_calendars(real_case):
    frame, benchmarks = real_case
    out = compute_cross_asset(frame.sample(frac=1.0, random_state=0), benchmarks)
    assert list(out.columns) == ["asset_symbol", "timestamp", *CROSS_ASSET_FEATURES, *KNOWN_AT]
    assert (out[list(CROSS_ASSET_FEATURES)].dtypes == "float64").all()
    for symbol in ("BTC-USD", "EURUSD", "GOOG"):
        rows = frame[frame["asset_symbol"] == symbol].sort_values("timestamp")
        got = out[out["asset_symbol"] == symbol]
        assert got["timestamp"].tolist() == rows["timestamp"].tolist()
        dates, closes = list(rows["timestamp"]), list(rows["price_close"])
        beta, corr_sp = reference_cross_asset(dates, closes, benchmarks["sp500"])
        _, corr_dxy = reference_cross_asset(dates, closes, benchmarks["dxy"])
        for column, expected in (("beta_sp500_60d", beta), ("corr_sp500_60d", corr_sp), ("corr_dxy_60d", corr_dxy)):
            actual = got[column].to_numpy()
            expected = np.asarray(expected)
            np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"{symbol} {column}")
            np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0.0, err_msg=f"{symbol} {column}")
            assert np.isfinite(actual).mean() > 0.9, (symbol, column)
            assert np.isnan(actual[:60]).all(), (symbol, column)  # warm-up
        assert np.nanmax(np.abs(got[["corr_sp500_60d", "corr_dxy_60d"]].to_numpy())) <= 1.0
    crypto = out[out["asset_symbol"] == "BTC-USD"]
    assert crypto["corr_sp500_60d"].median() > 0.2 and crypto["beta_sp500_60d"].median() > 0.8
    fx = out[out["asset_symbol"] == "EURUSD"]
    assert fx["corr_dxy_60d"].median() < -0.3


# --- hand-checked cases ------------------------------------------------------------------------------

WEEKDAYS = pd.bdate_range("2024-01-01", "2024-03-29", tz="UTC").as_unit("ns")  # 2024-01-01 is a Monday
ALL_DAYS = pd.date_range("2024-01-01", "2024-03-31", freq="D", tz="UTC").as_unit("ns")


def flat_dxy(dates=WEEKDAYS) -> pd.DataFrame:
    return benchmark(dates, walk(dates, seed=99, vol=0.004), lag_days=7)


def test_a_crypto_weekend_return_is_paired_with_the_benchmarks_friday_to_monday_return():
    # Thu 2024-01-04 .. Mon 2024-01-08; window 2, so beta = (a2 − a1) / (b2 − b1).
    days = pd.date_range("2024-01-04", "2024-01-08", freq="D", tz="UTC")
    crypto = prices("BTC-USD", days, [100.0, 110.0, 50.0, 200.0, 99.0])
    sp = benchmark(days[[0, 1, 4]], [1000.0, 1010.0, 1030.0])
    out = compute_cross_asset(crypto, {"sp500": sp, "dxy": benchmark(days[[0, 1, 4]], [1.0, 2.0, 3.0])}, window=2)
    beta, corr, _ = cross_asset_columns(2)
    a1, a2 = math.log(110 / 100), math.log(99 / 110)  # Thu→Fri, Fri→Mon: Saturday and Sunday play no part
    b1, b2 = math.log(1010 / 1000), math.log(1030 / 1010)
    assert out[beta].iloc[:4].isna().all()  # only one joint return before Monday
    assert out[beta].iloc[4] == pytest.approx((a2 - a1) / (b2 - b1), rel=1e-14)
    assert out[corr].iloc[4] == pytest.approx(-1.0, rel=1e-14)  # two points: perfectly (anti-)correlated


def test_weekend_prices_do_not_enter_and_weekend_rows_carry_fridays_value():
    rng = np.random.default_rng(4)
    sp_values = walk(WEEKDAYS, seed=5)
    sp_log = pd.Series(fpmath.log(sp_values), index=WEEKDAYS)
    # On weekdays the crypto is exactly the S&P squared (log: 2×); weekends are wild.
    crypto_log = 2.0 * sp_log.reindex(ALL_DAYS).to_numpy()
    weekend = ALL_DAYS.dayofweek >= 5
    crypto_log[weekend] = rng.normal(0.0, 3.0, weekend.sum())
    crypto_log[-2:] = 0.0  # the weekend after the S&P's last day
    crypto = prices("BTC-USD", ALL_DAYS, fpmath.exp(crypto_log))
    out = compute_cross_asset(crypto, {"sp500": benchmark(WEEKDAYS, sp_values), "dxy": flat_dxy()}, window=10)
    beta, corr, _ = cross_asset_columns(10)
    values = out.set_index("timestamp")
    first = WEEKDAYS[10]  # the 11th joint date: 10 joint returns
    assert values.loc[: first - DAY, beta].isna().all()
    defined = values.loc[first:]
    np.testing.assert_allclose(defined[beta], 2.0, rtol=1e-12)
    np.testing.assert_allclose(defined[corr], 1.0, rtol=1e-12)
    saturdays = defined.index[defined.index.dayofweek == 5]
    for saturday in saturdays:
        for column in (beta, corr):
            assert values.loc[saturday, column] == values.loc[saturday - DAY, column]  # Friday's
            assert values.loc[saturday + DAY, column] == values.loc[saturday - DAY, column]


def test_dxy_values_wait_for_their_release():
    fx_values = walk(WEEKDAYS, seed=6, vol=0.005)
    dxy_values = walk(WEEKDAYS, seed=7, vol=0.004)
    fx = prices("EURUSD", WEEKDAYS, fx_values, asset_class="fx")
    sp = benchmark(WEEKDAYS, walk(WEEKDAYS, seed=8))
    lagged = compute_cross_asset(fx, {"sp500": sp, "dxy": benchmark(WEEKDAYS, dxy_values, 7)}, window=5)
    same_day = compute_cross_asset(fx, {"sp500": sp, "dxy": benchmark(WEEKDAYS, dxy_values, 0)}, window=5)
    _, _, corr = cross_asset_columns(5)
    lagged_by_day = lagged.set_index("timestamp")[corr]
    same_by_day = same_day.set_index("timestamp")[corr]
    # released 7 days late: the value computed at d appears on the row of d + 7, and not before
    for day in WEEKDAYS[within(WEEKDAYS, WEEKDAYS[0] + pd.Timedelta(days=7), WEEKDAYS[-1] + DAY)]:
        expected = same_by_day[day - pd.Timedelta(days=7)]
        assert lagged_by_day[day] == expected or (np.isnan(expected) and np.isnan(lagged_by_day[day]))
    assert same_by_day.notna().sum() == len(WEEKDAYS) - 5
    assert lagged_by_day.iloc[: 5 + 5].isna().all() and lagged_by_day.iloc[10:].notna().all()
    # the S&P (lag 0) features are the same either way
    pd.testing.assert_frame_equal(
        lagged.drop(columns=[corr, f"{corr}_available_at"]), same_day.drop(columns=[corr, f"{corr}_available_at"])
    )
    # and each row equals a computation from the DXY observations released by then only
    dxy = benchmark(WEEKDAYS, dxy_values, 7)
    for day in WEEKDAYS[::7]:
        visible = dxy[dxy["available_at"] <= day]
        truncated = compute_cross_asset(fx[fx["timestamp"] <= day], {"sp500": sp, "dxy": visible}, window=5)
        got, want = truncated[corr].iloc[-1], lagged_by_day[day]
        assert got == want or (np.isnan(got) and np.isnan(want))


def test_an_observation_released_out_of_order_enters_the_windows_only_once_released():
    fx = prices("EURUSD", WEEKDAYS, walk(WEEKDAYS, seed=23, vol=0.005), asset_class="fx")
    sp = benchmark(WEEKDAYS, walk(WEEKDAYS, seed=24))
    dxy = benchmark(WEEKDAYS, walk(WEEKDAYS, seed=25, vol=0.004), lag_days=7)
    late_day = WEEKDAYS[30]
    released = late_day + pd.Timedelta(days=20)  # 13 days after the observations that follow it
    late = dxy.assign(available_at=dxy["available_at"].where(dxy["observation_date"] != late_day, released))
    _, _, corr = cross_asset_columns(5)

    def corr_by_day(frame: pd.DataFrame) -> pd.Series:
        return compute_cross_asset(fx, {"sp500": sp, "dxy": frame}, window=5).set_index("timestamp")[corr]

    got = corr_by_day(late)
    without = corr_by_day(dxy[dxy["observation_date"] != late_day])  # as if it did not exist
    on_time = corr_by_day(dxy)
    before = got.index < released
    # before its release the rows use the windows of the observations already public (spanning it) ...
    pd.testing.assert_series_equal(got[before], without[before], check_exact=True)
    # ... from its release on, the windows that contain it
    pd.testing.assert_series_equal(got[~before], on_time[~before], check_exact=True)
    assert not without[before].equals(on_time[before])  # the two differ where it matters
    assert got[before].notna().sum() == without[before].notna().sum() > 0


def test_a_value_is_used_at_most_seven_days_after_it_became_known():
    sp_dates = WEEKDAYS[~within(WEEKDAYS, utc("2024-02-01"), utc("2024-02-15"))]  # a 2-week gap
    crypto = prices("BTC-USD", ALL_DAYS, walk(ALL_DAYS, seed=9, vol=0.03))
    out = compute_cross_asset(
        crypto, {"sp500": benchmark(sp_dates, walk(sp_dates, seed=10)), "dxy": flat_dxy()}, window=3
    )
    beta, corr, _ = cross_asset_columns(3)
    values = out.set_index("timestamp")
    last = utc("2024-01-31")  # the last joint date before the gap (a Wednesday)
    for day in pd.date_range(last, last + pd.Timedelta(days=7), freq="D"):
        assert values.loc[day, beta] == values.loc[last, beta]
    assert values.loc[last + pd.Timedelta(days=8) : utc("2024-02-14"), [beta, corr]].isna().all().all()
    # back after the gap: the first joint return spans it and the window is full again at once
    assert values.loc[utc("2024-02-15"), [beta, corr]].notna().all()
    assert values.loc[utc("2024-02-15"), beta] != values.loc[last, beta]


def test_warm_up_ends_at_the_61st_joint_date():
    days = pd.date_range("2023-06-01", "2024-03-31", freq="D", tz="UTC").as_unit("ns")
    sp_dates = pd.bdate_range(days[0], days[-1], tz="UTC").as_unit("ns")
    sp_dates = sp_dates[~sp_dates.isin([utc("2023-07-04"), utc("2023-09-04")])]  # holidays
    crypto = prices("BTC-USD", days, walk(days, seed=11, vol=0.03))
    out = compute_cross_asset(crypto, {"sp500": benchmark(sp_dates, walk(sp_dates, seed=12)), "dxy": flat_dxy()})
    values = out.set_index("timestamp")
    first = sp_dates[60]
    assert values.loc[: first - DAY, ["beta_sp500_60d", "corr_sp500_60d"]].isna().all().all()
    assert values.loc[first:, ["beta_sp500_60d", "corr_sp500_60d"]].notna().all().all()
    assert values["corr_dxy_60d"].isna().all()  # its dates start in 2024: fewer than 60 joint returns


def test_zero_variance_is_undefined_and_never_replaced_by_an_older_value():
    sp_values = walk(WEEKDAYS, seed=13)
    flat = within(WEEKDAYS, utc("2024-02-01"), utc("2024-02-15"))
    sp_values[flat] = 0.1 + 0.2  # an inexact float, repeated: returns exactly 0
    fx_values = walk(WEEKDAYS, seed=14, vol=0.005)
    fx_flat = within(WEEKDAYS, utc("2024-03-01"), utc("2024-03-15"))
    fx_values[fx_flat] = 1.1
    fx = prices("EURUSD", WEEKDAYS, fx_values, asset_class="fx")
    out = compute_cross_asset(fx, {"sp500": benchmark(WEEKDAYS, sp_values), "dxy": flat_dxy()}, window=3)
    beta, corr, _ = cross_asset_columns(3)
    values = out.set_index("timestamp")
    # windows of three zero S&P returns: 2024-02-06 (returns 02-02, 02-05, 02-06) .. 02-14
    zero_sp = values.loc[utc("2024-02-06") : utc("2024-02-14")]
    assert len(zero_sp) == 7 and zero_sp[[beta, corr]].isna().all().all()
    assert values.loc[utc("2024-02-05"), [beta, corr]].notna().all()
    assert values.loc[utc("2024-02-15"), [beta, corr]].notna().all()
    # a flat asset against a moving benchmark: beta exactly 0, correlation undefined
    zero_fx = values.loc[utc("2024-03-06") : utc("2024-03-14")]
    assert (zero_fx[beta] == 0.0).all() and zero_fx[corr].isna().all()


def test_a_nan_benchmark_value_is_a_missing_observation():
    crypto = prices("BTC-USD", ALL_DAYS, walk(ALL_DAYS, seed=15, vol=0.03))
    sp = benchmark(WEEKDAYS, walk(WEEKDAYS, seed=16))
    holes = np.random.default_rng(17).random(len(sp)) < 0.2
    with_nan = sp.assign(value=sp["value"].where(~holes))
    benchmarks = {"dxy": flat_dxy()}
    a = compute_cross_asset(crypto, {**benchmarks, "sp500": with_nan}, window=5)
    b = compute_cross_asset(crypto, {**benchmarks, "sp500": sp[~holes]}, window=5)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    c = compute_cross_asset(crypto, {**benchmarks, "sp500": sp}, window=5)
    assert not a["beta_sp500_5d"].equals(c["beta_sp500_5d"])


def test_each_asset_is_independent_and_order_does_not_matter():
    crypto = prices("BTC-USD", ALL_DAYS, walk(ALL_DAYS, seed=18, vol=0.03))
    fx = prices("EURUSD", WEEKDAYS, walk(WEEKDAYS, seed=19, vol=0.005), asset_class="fx")
    benchmarks = {"sp500": benchmark(WEEKDAYS, walk(WEEKDAYS, seed=20)), "dxy": flat_dxy()}
    both = pd.concat([fx, crypto], ignore_index=True)
    out = compute_cross_asset(both, benchmarks, window=5)
    assert out.index.equals(pd.RangeIndex(len(both)))
    assert out["asset_symbol"].tolist() == ["BTC-USD"] * len(ALL_DAYS) + ["EURUSD"] * len(WEEKDAYS)
    shuffled = both.sample(frac=1.0, random_state=3)
    shuffled.index = shuffled.index + 1000
    pd.testing.assert_frame_equal(compute_cross_asset(shuffled, benchmarks, window=5), out, check_exact=True)
    alone = compute_cross_asset(fx, {k: v.sample(frac=1.0, random_state=1) for k, v in benchmarks.items()}, window=5)
    pd.testing.assert_frame_equal(alone, out[out["asset_symbol"] == "EURUSD"].reset_index(drop=True))
    empty = compute_cross_asset(both.iloc[:0], benchmarks)
    assert list(empty.columns) == ["asset_symbol", "timestamp", *CROSS_ASSET_FEATURES, *KNOWN_AT] and empty.empty
    no_dxy = compute_cross_asset(both, {**benchmarks, "dxy": benchmarks["dxy"].iloc[:0]}, window=5)
    assert no_dxy["corr_dxy_5d"].isna().all()


def test_bad_input_raises():
    crypto = prices("BTC-USD", ALL_DAYS, walk(ALL_DAYS, seed=21))
    sp = benchmark(WEEKDAYS, walk(WEEKDAYS, seed=22))
    ok = {"sp500": sp, "dxy": flat_dxy()}
    with pytest.raises(InvalidBenchmarkError, match="benchmark 'dxy' is missing"):
        compute_cross_asset(crypto, {"sp500": sp})
    with pytest.raises(InvalidBenchmarkError, match="missing columns"):
        compute_cross_asset(crypto, {**ok, "sp500": sp.drop(columns="available_at")})
    with pytest.raises(InvalidBenchmarkError, match="duplicated observation_date 2024-01-02"):
        compute_cross_asset(crypto, {**ok, "sp500": pd.concat([sp, sp.iloc[[1]]])})
    for bad in (0.0, -1.0, np.inf):
        broken = sp.copy()
        broken.loc[3, "value"] = bad
        with pytest.raises(InvalidBenchmarkError, match=re.escape("'sp500' at 2024-01-04 00:00:00+00:00: value")):
            compute_cross_asset(crypto, {**ok, "sp500": broken})
    with pytest.raises(InvalidBenchmarkError, match="not a UTC midnight"):
        compute_cross_asset(
            crypto, {**ok, "sp500": sp.assign(observation_date=sp["observation_date"] + pd.Timedelta(hours=1))}
        )
    with pytest.raises(InvalidBenchmarkError, match="timezone-aware"):
        compute_cross_asset(crypto, {**ok, "sp500": sp.assign(available_at=sp["available_at"].dt.tz_localize(None))})
    broken = sp.copy()
    broken.loc[2, "available_at"] = pd.NaT
    with pytest.raises(InvalidBenchmarkError, match="missing available_at"):
        compute_cross_asset(crypto, {**ok, "sp500": broken})
    with pytest.raises(InvalidPricesError, match=r"'BTC-USD': timestamp .* is not a UTC midnight"):
        compute_cross_asset(crypto.assign(timestamp=crypto["timestamp"] + pd.Timedelta(hours=16)), ok)
    with pytest.raises(InvalidPricesError, match="price_close is missing, non-finite or non-positive"):
        compute_cross_asset(crypto.assign(price_close=crypto["price_close"].where(crypto.index != 5)), ok)
    with pytest.raises(InvalidPricesError, match="duplicated timestamp"):
        compute_cross_asset(pd.concat([crypto, crypto.iloc[[4]]]), ok)
    with pytest.raises(ValueError, match="window must be"):
        compute_cross_asset(crypto, ok, window=1)


# --- no look-ahead -----------------------------------------------------------------------------------

LA_DAYS = pd.date_range("2015-01-01", "2015-10-31", freq="D", tz="UTC").as_unit("ns")
LA_WEEKDAYS = LA_DAYS[LA_DAYS.dayofweek < 5]
LA_WINDOW = 20


def _look_ahead_case() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(123)
    holidays = rng.random(len(LA_WEEKDAYS)) < 0.04
    equity_days = LA_WEEKDAYS[~holidays]
    frame = pd.concat(
        [
            prices("BTC-USD", LA_DAYS, walk(LA_DAYS, seed=1, vol=0.03)),
            prices("EURUSD", LA_WEEKDAYS, walk(LA_WEEKDAYS, seed=2, vol=0.005), asset_class="fx"),
            prices("GOOG", equity_days, walk(equity_days, seed=3, vol=0.015), asset_class="equity"),
        ],
        ignore_index=True,
    )
    sp = benchmark(LA_WEEKDAYS, walk(LA_WEEKDAYS, seed=4))
    sp.loc[rng.random(len(sp)) < 0.05, "value"] = np.nan
    dxy = benchmark(LA_WEEKDAYS, walk(LA_WEEKDAYS, seed=5, vol=0.004), lag_days=7)
    dxy.loc[rng.random(len(dxy)) < 0.05, "value"] = np.nan
    # irregular releases: some observations come out later than the usual lag
    late = rng.random(len(dxy)) < 0.05
    dxy.loc[late, "available_at"] += pd.to_timedelta(rng.integers(1, 20, late.sum()), unit="D")
    return frame, {"sp500": sp, "dxy": dxy}


LA_PRICES, LA_BENCHMARKS = _look_ahead_case()
LA_BASE = compute_cross_asset(LA_PRICES, LA_BENCHMARKS, window=LA_WINDOW)


def _perturb_benchmark(frame: pd.DataFrame, cut: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    """Change everything released after ``cut``: values, missing observations, and new observation dates."""
    out = frame.copy()
    late = (out["available_at"] > cut).to_numpy()
    k = int(late.sum())
    values = out.loc[late, "value"].to_numpy() * rng.uniform(0.5, 2.0, k)
    values[rng.random(k) < 0.2] = np.nan  # now missing
    out.loc[late, "value"] = values
    out = out[~late | (rng.random(len(out)) > 0.1)]  # some rows dropped entirely
    lag = (frame["available_at"] - frame["observation_date"]).min()
    # new observations on dates that had none (weekends, holidays), all released after the cut
    taken = set(out["observation_date"])
    free = [d for d in LA_DAYS if d not in taken and d + lag > cut]
    new_dates = [d for d in free if rng.random() < 0.3]
    new = pd.DataFrame(
        {
            "observation_date": pd.DatetimeIndex(new_dates, tz="UTC").as_unit("ns"),
            "value": rng.uniform(50.0, 150.0, len(new_dates)),
            "available_at": [max(d + lag, cut + DAY) + pd.Timedelta(days=int(rng.integers(0, 5))) for d in new_dates],
        }
    )
    combined = pd.concat([out, new], ignore_index=True) if len(new) else out
    return combined.sample(frac=1.0, random_state=int(rng.integers(2**31)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(min_value=0, max_value=len(LA_DAYS) - 2),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_no_look_ahead(position, seed):
    """Prices after t and benchmark observations released after t change none of the values at rows <= t."""
    cut = LA_DAYS[position]
    rng = np.random.default_rng(seed)
    perturbed = LA_PRICES.copy()
    after = (perturbed["timestamp"] > cut).to_numpy()
    perturbed.loc[after, "price_close"] = perturbed.loc[after, "price_close"] * rng.uniform(0.5, 2.0, after.sum())
    perturbed = perturbed[~after | (rng.random(len(perturbed)) > 0.1)]  # and some later rows disappear
    benchmarks = {name: _perturb_benchmark(frame, cut, rng) for name, frame in LA_BENCHMARKS.items()}
    out = compute_cross_asset(perturbed, benchmarks, window=LA_WINDOW)
    before = out[out["timestamp"] <= cut].reset_index(drop=True)
    expected = LA_BASE[LA_BASE["timestamp"] <= cut].reset_index(drop=True)
    pd.testing.assert_frame_equal(before, expected, check_exact=True)


def test_the_look_ahead_case_is_not_trivial():
    assert LA_BASE[list(cross_asset_columns(LA_WINDOW))].notna().mean().min() > 0.6


def at_bar_end(frame: pd.DataFrame, clock) -> pd.DataFrame:
    """The same rows with decisions at ``clock`` on their day (their price bar's end)."""
    return frame.assign(available_at=clock.on(frame["timestamp"]))


def test_decision_instants_decide_which_same_day_sp500_close_a_row_sees():
    """FX bars end at 16:00 UTC, before the S&P 500 closes (16:00 New York): an FX row of D uses the window
    ending at D-1; a crypto row (24:00 UTC) uses D's. Each value carries when its window was complete."""
    from portfolio_assets.timing import END_OF_UTC_DAY, FX_BAR_END, NEW_YORK_CLOSE

    sp = benchmark(WEEKDAYS, walk(WEEKDAYS, seed=40)).assign(available_at=NEW_YORK_CLOSE.on(WEEKDAYS))
    benchmarks = {"sp500": sp, "dxy": flat_dxy()}
    closes = walk(WEEKDAYS, seed=41, vol=0.01)
    day_level = compute_cross_asset(prices("X", WEEKDAYS, closes), benchmarks, window=5)  # decisions at 00:00 UTC
    beta, _, _ = cross_asset_columns(5)
    # At 00:00 UTC of D the S&P close of D-1 (21:00 UTC) is public: the day-level row of D is the window of D-1.
    by_window_end = day_level.set_index("timestamp")[beta].shift(-1)  # the window ending at each day
    fx = compute_cross_asset(at_bar_end(prices("X", WEEKDAYS, closes, "fx"), FX_BAR_END), benchmarks, window=5)
    crypto = compute_cross_asset(at_bar_end(prices("X", WEEKDAYS, closes), END_OF_UTC_DAY), benchmarks, window=5)
    fx_by_day, crypto_by_day = fx.set_index("timestamp"), crypto.set_index("timestamp")
    previous = pd.Series(WEEKDAYS[:-1], index=WEEKDAYS[1:])
    checked = 0
    for day in WEEKDAYS[7:-1]:
        assert crypto_by_day.loc[day, beta] == by_window_end[day]  # D's own S&P return is in the window
        assert fx_by_day.loc[day, beta] == by_window_end[previous[day]]  # the window ends at D-1
        assert fx_by_day.loc[day, f"{beta}_available_at"] == NEW_YORK_CLOSE.on(pd.DatetimeIndex([previous[day]]))[0]
        assert crypto_by_day.loc[day, f"{beta}_available_at"] == END_OF_UTC_DAY.on(pd.DatetimeIndex([day]))[0]
        checked += 1
    assert checked > 40
    # Perturbing D's S&P close moves the crypto row of D but never the FX row of D.
    day = WEEKDAYS[30]
    moved = sp.assign(value=sp["value"].where(sp["observation_date"] != day, sp["value"] * 1.05))
    fx_moved = compute_cross_asset(
        at_bar_end(prices("X", WEEKDAYS, closes, "fx"), FX_BAR_END), {**benchmarks, "sp500": moved}, window=5
    )
    crypto_moved = compute_cross_asset(
        at_bar_end(prices("X", WEEKDAYS, closes), END_OF_UTC_DAY), {**benchmarks, "sp500": moved}, window=5
    )
    assert fx_moved.set_index("timestamp").loc[day, beta] == fx_by_day.loc[day, beta]
    assert crypto_moved.set_index("timestamp").loc[day, beta] != crypto_by_day.loc[day, beta]


def test_a_bar_end_before_its_day_is_refused():
    fx = prices("EURUSD", WEEKDAYS, walk(WEEKDAYS, seed=42), asset_class="fx")
    fx.loc[3, "available_at"] = fx.loc[3, "timestamp"] - pd.Timedelta(hours=1)
    benchmarks = {"sp500": benchmark(WEEKDAYS, walk(WEEKDAYS, seed=43)), "dxy": flat_dxy()}
    with pytest.raises(InvalidPricesError, match=r"'EURUSD' at 2024-01-04: available_at .* before the day starts"):
        compute_cross_asset(fx, benchmarks, window=5)
