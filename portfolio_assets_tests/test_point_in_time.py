"""Point in time across every source: perturb every input value available after t, and no feature of a row
decided at or before t moves.

The inputs are the parsed responses of the bundled sample, read through ``replay`` as the assets read them.
Each value's availability is derived here from the documented rules, written out again in this file (bar ends,
release clocks and lags, the publishing calendar), not taken from the code under test:

* prices (Alpha Vantage): the bar end of its day (24:00 UTC crypto, 16:00 New York equities/ETFs, 16:00 UTC FX);
* splits and dividends: their effective / ex-date (announced before it; a new one dated after t is added);
* CoinGecko: its 00:00 UTC stamp;
* FRED: the release day (first-release ``realtime_start``, else period end + lag, past weekends and US federal
  holidays) at the series' release time;
* GDELT, the social feed, Fear & Greed: the end of their UTC day;
* Google Trends: the download's fetch instant (a later download is new, and rescales its whole range).

Everything available after t is changed (scaled, replaced or dropped) and a new Trends download fetched right
after t is added. The rows are then rebuilt by the assets' own functions (prices, benchmarks, macro, indicators,
sentiment, the gate's join), and every feature of every row whose ``decision_time`` is at or before t must be
bit-identical, while rows decided after t do change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.tseries.holiday import USFederalHolidayCalendar

from portfolio_assets import replay
from portfolio_assets.assets.benchmarks import benchmark_frame
from portfolio_assets.assets.indicators import indicator_frame
from portfolio_assets.assets.macro import macro_frame
from portfolio_assets.assets.prices import canonical_prices
from portfolio_assets.assets.sentiment import sentiment_frame
from portfolio_assets.assets.sft_rows import join_features
from portfolio_assets.assets.windows import in_window
from portfolio_assets.checks import point_in_time
from portfolio_assets.columns import FEATURE_COLUMNS, TARGET_COLUMNS
from portfolio_assets.features.adjustment import CorporateActions
from portfolio_assets.features.sentiment import TrendsSnapshot
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.universe import load_universe

FIRST, LAST = pd.Timestamp("2010-05-01", tz="UTC"), pd.Timestamp("2010-07-31", tz="UTC")
UNIVERSE = load_universe()
FRED = {spec.series_id: spec for spec in UNIVERSE.macro if spec.source == "fred"}

# The availability rules, written out here (not taken from the code under test).
BAR_ENDS = {  # price function -> (zone, hour, minute) of the daily bar's end
    "DIGITAL_CURRENCY_DAILY": ("UTC", 24, 0),
    "TIME_SERIES_DAILY": ("America/New_York", 16, 0),
    "FX_DAILY": ("UTC", 16, 0),
}
RELEASES = {  # FRED series -> (release clock zone, hour, minute, lag in days after the period end, period)
    "SP500": ("America/New_York", 16, 0, 0, "D"),
    "VIXCLS": ("America/New_York", 16, 15, 0, "D"),
    "DTWEXBGS": ("America/New_York", 16, 15, 7, "D"),
    "DGS10": ("America/New_York", 16, 15, 1, "D"),
    "DGS2": ("America/New_York", 16, 15, 1, "D"),
    "DCOILWTICO": ("America/New_York", 17, 0, 7, "D"),
    "CPILFESL": ("America/New_York", 8, 30, 20, "M"),
    "GDPC1": ("America/New_York", 8, 30, 35, "Q"),
    "UNRATE": ("America/New_York", 8, 30, 10, "M"),
}
HOLIDAYS = {d.date() for d in USFederalHolidayCalendar().holidays("1990-01-01", "2030-12-31")}


def at_local(days, zone: str, hour: int, minute: int) -> pd.DatetimeIndex:
    """hour:minute local time in ``zone`` on each calendar day (24:00 = the next midnight), in UTC."""
    out = []
    for day in pd.DatetimeIndex(days):
        local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)) + timedelta(hours=hour, minutes=minute)
        out.append(pd.Timestamp(local).tz_convert("UTC"))
    return pd.DatetimeIndex(out)


def release_day(observed: pd.Timestamp, lag: int, period: str) -> pd.Timestamp:
    """Period end + lag, moved past weekends and US federal holidays when the lag is a day or more."""
    end = {"D": observed, "M": observed + pd.offsets.MonthEnd(0), "Q": observed + pd.offsets.QuarterEnd(0)}[period]
    day = end + pd.Timedelta(days=lag)
    while lag and (day.dayofweek >= 5 or day.date() in HOLIDAYS):
        day += pd.Timedelta(days=1)
    return day


READERS = (
    "read_prices",
    "read_actions",
    "read_coingecko",
    "read_fred",
    "read_gdelt",
    "read_social",
    "read_fear_greed",
    "read_trends",
)
_PARSED: dict[tuple, object] = {}


def _copy(value: object) -> object:
    if isinstance(value, pd.DataFrame):
        return value.copy()
    if isinstance(value, list):
        return [TrendsSnapshot(s.fetched_at, s.frame.copy()) for s in value]
    if isinstance(value, CorporateActions):
        return CorporateActions(splits=value.splits.copy(), dividends=value.dividends.copy())
    return type(value)(series_id=value.series_id, vintage=value.vintage, frame=value.frame.copy())


def _parsed_once(name: str):
    """``replay.<name>`` reading each stored series once per session (the sample never changes), a copy per call."""
    read = getattr(replay, name)

    def cached(zone, *args):
        key = (name, str(zone.root), *(getattr(a, "symbol", a) for a in args))
        if key not in _PARSED:
            _PARSED[key] = read(zone, *args)
        return _copy(_PARSED[key])

    return cached


ORIGINAL = {name: _parsed_once(name) for name in READERS}

# Instants that separate the bar ends and releases of one day: before FX's 16:00 UTC bar end, between it and the
# S&P 500 close (20:00 UTC in summer), between that and the VIX close (20:15), and the end of the UTC day.
EDGES = [
    pd.Timestamp("2010-06-04 15:59:59", tz="UTC"),
    pd.Timestamp("2010-06-04 16:00", tz="UTC"),
    pd.Timestamp("2010-06-04 17:00", tz="UTC"),
    pd.Timestamp("2010-06-04 20:00", tz="UTC"),
    pd.Timestamp("2010-06-04 20:10", tz="UTC"),
    pd.Timestamp("2010-06-05 00:00", tz="UTC"),
    pd.Timestamp("2010-07-02 12:29", tz="UTC"),  # a minute before an UNRATE first release (08:30 New York)
]


def _scale(values: pd.Series, late: np.ndarray, rng: np.random.Generator, low: float = 0.5, high: float = 2.0):
    out = values.astype("float64").copy()
    out[late] = out[late] * rng.uniform(low, high, int(late.sum()))
    return out


def _drop_some(frame: pd.DataFrame, late: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    return frame[~late | (rng.random(len(frame)) > 0.1)].reset_index(drop=True)


def perturbed_readers(t: pd.Timestamp, seed: int) -> dict[str, object]:
    """Replacements of the ``replay`` readers that change every value available after ``t``."""
    rng = np.random.default_rng(seed)

    def read_prices(zone, spec):
        frame = ORIGINAL["read_prices"](zone, spec)
        late = np.asarray(at_local(frame["timestamp"], *BAR_ENDS[spec.params["function"]]) > t)
        factor = np.where(late, rng.uniform(0.5, 2.0, len(frame)), 1.0)
        for column in ("price_open", "price_high", "price_low", "price_close"):
            frame[column] = frame[column] * factor
        if frame["volume"].notna().any():
            frame["volume"] = _scale(frame["volume"], late, rng)
        return _drop_some(frame, late, rng)

    def read_actions(zone, spec):
        actions = ORIGINAL["read_actions"](zone, spec)
        if spec.params.get("function") != "TIME_SERIES_DAILY":
            return actions
        # An event is public before its effective / ex-date: one dated after t may be anything.
        splits, dividends = actions.splits, actions.dividends
        later = pd.DatetimeIndex([t.floor("D") + pd.Timedelta(days=int(d)) for d in rng.integers(1, 40, 2)])
        splits = pd.concat(
            [
                splits[splits["effective_date"] <= t],
                pd.DataFrame({"effective_date": later[:1], "split_factor": [float(rng.choice([0.5, 2.0, 3.0]))]}),
            ],
            ignore_index=True,
        )
        late = np.asarray(dividends["ex_dividend_date"] > t)
        dividends = dividends.assign(amount=_scale(dividends["amount"], late, rng))
        extra = dividends.iloc[:0].copy()
        extra["ex_dividend_date"], extra["amount"] = later[1:], [float(rng.uniform(0.1, 2.0))]
        dividends = pd.concat([dividends, extra.reindex(columns=dividends.columns)], ignore_index=True)
        return CorporateActions(splits=splits, dividends=dividends)

    def read_coingecko(zone, coin_id):
        frame = ORIGINAL["read_coingecko"](zone, coin_id)
        late = np.asarray(frame["timestamp"] > t)
        return frame.assign(price=_scale(frame["price"], late, rng))

    def read_fred(zone, series_id):
        observed = ORIGINAL["read_fred"](zone, series_id)
        frame = observed.frame.copy()
        tz, hour, minute, lag, period = RELEASES[series_id]
        if observed.vintage:
            days = pd.DatetimeIndex(frame["realtime_start"])
        else:
            days = pd.DatetimeIndex([release_day(d, lag, period) for d in frame["observation_date"]])
        late = np.asarray(at_local(days, tz, hour, minute) > t)
        frame["value"] = _scale(frame["value"], late, rng, 0.9, 1.1)
        return type(observed)(
            series_id=observed.series_id, vintage=observed.vintage, frame=_drop_some(frame, late, rng)
        )

    def daily(frame: pd.DataFrame, column: str, low: float, high: float) -> pd.DataFrame:
        late = np.asarray(frame["timestamp"] + pd.Timedelta(days=1) > t)
        return _drop_some(frame.assign(**{column: _scale(frame[column], late, rng, low, high)}), late, rng)

    def read_gdelt(zone, query, mode):
        return daily(ORIGINAL["read_gdelt"](zone, query, mode), "value", 0.5, 1.5)

    def read_social(zone):
        frame = ORIGINAL["read_social"](zone)
        late = np.asarray(frame["timestamp"] + pd.Timedelta(days=1) > t)
        frame["social_sentiment_score"] = frame["social_sentiment_score"].where(~late, rng.uniform(-1, 1, len(frame)))
        counts = pd.array(rng.integers(0, 10_000, len(frame)), dtype="Int64")
        frame["social_mention_count"] = frame["social_mention_count"].where(~late, counts)
        return _drop_some(frame, late, rng)

    def read_fear_greed(zone):
        frame = ORIGINAL["read_fear_greed"](zone)
        late = np.asarray(frame["timestamp"] + pd.Timedelta(days=1) > t)
        return frame.assign(value=frame["value"].where(~late, rng.integers(0, 101, len(frame)).astype("float64")))

    def read_trends(zone, query):
        snapshots = []
        for snapshot in ORIGINAL["read_trends"](zone, query):
            if snapshot.fetched_at > t:  # a later download rescales its whole range
                frame = snapshot.frame.assign(value=np.round(snapshot.frame["value"] * rng.uniform(0.1, 1.0)))
                snapshot = TrendsSnapshot(snapshot.fetched_at, frame)
            snapshots.append(snapshot)
        newest = snapshots[-1].frame
        spike = newest.assign(value=np.round(rng.uniform(0, 100, len(newest))))
        snapshots.append(TrendsSnapshot(t + pd.Timedelta(seconds=1), spike))  # fetched right after t
        return snapshots

    return {
        "read_prices": read_prices,
        "read_actions": read_actions,
        "read_coingecko": read_coingecko,
        "read_fred": read_fred,
        "read_gdelt": read_gdelt,
        "read_social": read_social,
        "read_fear_greed": read_fear_greed,
        "read_trends": read_trends,
    }


def rows() -> pd.DataFrame:
    """Every (asset, trading day) of FIRST..LAST with every feature and its availability, as the gate joins them."""
    landing = LandingZoneResource()
    history = canonical_prices(landing)
    benchmarks = benchmark_frame(landing)
    days = pd.date_range(FIRST, LAST, freq="D")
    targets = pd.DataFrame(columns=["asset_symbol", "timestamp", *TARGET_COLUMNS])
    joined = join_features(
        in_window(history, FIRST, LAST),
        in_window(indicator_frame(history, benchmarks), FIRST, LAST),
        macro_frame(landing, days),
        sentiment_frame(landing, days),
        targets.astype({"asset_symbol": str, "timestamp": "datetime64[ns, UTC]"}),
    )
    return joined.sort_values(["asset_symbol", "timestamp"]).set_index(["asset_symbol", "timestamp"])


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return rows_as_stored()


def rows_perturbed_after(t: pd.Timestamp, seed: int) -> pd.DataFrame:
    with pytest.MonkeyPatch.context() as patch:
        for name, reader in perturbed_readers(t, seed).items():
            patch.setattr(replay, name, reader)
        return rows()


def rows_as_stored() -> pd.DataFrame:
    with pytest.MonkeyPatch.context() as patch:
        for name, reader in ORIGINAL.items():
            patch.setattr(replay, name, reader)
        return rows()


def assert_decided_rows_unchanged(base: pd.DataFrame, after: pd.DataFrame, t: pd.Timestamp) -> None:
    decided = base.index[(base["decision_time"] <= t).to_numpy()]
    assert len(decided) > 0
    assert decided.isin(after.index).all()  # no row decided by t disappears
    pd.testing.assert_frame_equal(
        after.loc[decided, FEATURE_COLUMNS], base.loc[decided, FEATURE_COLUMNS], check_exact=True
    )


@pytest.mark.slow
@pytest.mark.parametrize("t", EDGES, ids=[f"{t:%Y-%m-%dT%H:%M:%S}" for t in EDGES])
def test_values_available_after_t_never_move_a_row_decided_by_t(base, t):
    after = rows_perturbed_after(t, seed=int(t.timestamp()))
    assert_decided_rows_unchanged(base, after, t)
    # and the perturbation is real: rows decided after t (still present) see different inputs
    later = base.index[(base["decision_time"] > t).to_numpy()].intersection(after.index)
    moved = (
        ~(after.loc[later, FEATURE_COLUMNS] == base.loc[later, FEATURE_COLUMNS])
        & after.loc[later, FEATURE_COLUMNS].notna()
    )
    for family in ("rsi_14", "beta_sp500_60d", "vix", "cpi_yoy", "news_sentiment_score", "google_trends_score"):
        assert moved[family].any(), family


@pytest.mark.slow
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    seconds=st.integers(2 * 86_400, int((LAST - FIRST).total_seconds()) - 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_instant_of_the_window(base, seconds, seed):
    t = FIRST + pd.Timedelta(seconds=seconds)
    assert_decided_rows_unchanged(base, rows_perturbed_after(t, seed), t)


def test_the_written_out_rules_are_the_universes():
    for series_id, spec in FRED.items():
        tz, hour, minute, lag, period = RELEASES[series_id]
        assert str(spec.release_time) == f"{hour:02d}:{minute:02d} {tz}" and spec.release_lag_days == lag
        assert spec.frequency[0].upper() == period
    for spec in UNIVERSE.assets:
        tz, hour, minute = BAR_ENDS[spec.params["function"]]
        assert str(spec.bar_end) == f"{hour:02d}:{minute:02d} {tz}"


def test_the_fx_row_of_a_day_is_decided_before_that_days_sp500_close(base):
    """The leak this closes: an FX or gold row of D used D's S&P 500 close and VIX (hours after its bar)."""
    friday = pd.Timestamp("2010-06-04", tz="UTC")
    fx = base.loc[("EURUSD", friday)]
    equity = base.loc[("GOOG", friday)]
    assert fx["decision_time"] == pd.Timestamp("2010-06-04 16:00", tz="UTC")
    assert equity["decision_time"] == pd.Timestamp("2010-06-04 20:00", tz="UTC")
    assert fx["sp500_close_available_at"] < friday  # Thursday's close
    assert equity["sp500_close_available_at"] == equity["decision_time"]  # the close it is decided at
    assert equity["vix_available_at"] < friday  # the VIX closes 15 minutes after the S&P
    assert fx["beta_sp500_60d_available_at"] < friday  # Friday's S&P return is not in the FX window yet
    assert point_in_time(base.reset_index(), features=FEATURE_COLUMNS).passed


def test_the_check_names_the_row_the_column_and_both_instants(base):
    rows = base.reset_index()
    at = rows.index[(rows["asset_symbol"] == "EURUSD") & (rows["timestamp"] == pd.Timestamp("2010-06-04", tz="UTC"))]
    late = rows.copy()
    late.loc[at, "sp500_close_available_at"] = pd.Timestamp("2010-06-04 20:00", tz="UTC")  # the same day's close
    outcome = point_in_time(late, features=FEATURE_COLUMNS)
    assert not outcome.passed and outcome.severity == "ERROR"
    case = outcome.failures.iloc[0]
    assert (case["asset_symbol"], case["column"]) == ("EURUSD", "sp500_close")
    assert case["timestamp"] == pd.Timestamp("2010-06-04", tz="UTC")
    assert case["available_at"] == "2010-06-04T20:00:00Z" and case["decision_time"] == "2010-06-04T16:00:00Z"
    assert "sp500_close_available_at 2010-06-04T20:00:00Z is after decision_time 2010-06-04T16:00:00Z" in case["reason"]
    assert outcome.metadata["violations"] == {"sp500_close": 1}
    assert "EURUSD 2010-06-04 sp500_close" in outcome.summary


def test_a_value_without_a_known_availability_fails_too(base):
    rows = base.reset_index()
    unknown = rows.assign(rsi_14_source=1).drop(columns=["vix_available_at"])
    outcome = point_in_time(unknown, features=FEATURE_COLUMNS)
    assert not outcome.passed
    assert set(outcome.failures["column"]) == {"vix"}
    assert outcome.failures["reason"].str.startswith("vix_available_at unknown, decision_time").all()
    assert outcome.metadata["violations"]["vix"] == int(rows["vix"].notna().sum())
    # a missing value needs no availability
    assert point_in_time(rows.assign(vix=np.nan).drop(columns=["vix_available_at"]), features=FEATURE_COLUMNS).passed
