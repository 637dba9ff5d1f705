"""Data-quality checks: each passes on the bundled sample and fails on a crafted bad input."""

from __future__ import annotations

import json
import math
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_assets import checks
from portfolio_assets.assets.prices import canonical_prices
from portfolio_assets.checks import FAILURE_COLUMNS, CheckOutcome
from portfolio_assets.features import TECHNICAL_FEATURES, compute_indicators, compute_targets
from portfolio_assets.features.adjustment import adjusted_close, rebase_levels, total_return_prices
from portfolio_assets.landing import SAMPLE_LANDING_ROOT
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.universe import load_universe

FEATURES = ["price_close", "volume", *TECHNICAL_FEATURES]
TARGETS = ["target_price_90d", "target_return_90d", "target_return_pct_90d"]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def universe():
    return load_universe()


@pytest.fixture(scope="module")
def has_volume(universe) -> dict[str, bool]:
    return checks.has_volume_for(universe.assets)


@pytest.fixture(scope="module")
def calendars(universe) -> dict[str, str]:
    return checks.calendars_for(universe.assets)


@pytest.fixture(scope="module")
def sample_prices() -> pd.DataFrame:
    return canonical_prices(LandingZoneResource(root=str(SAMPLE_LANDING_ROOT)))


@pytest.fixture(scope="module")
def sample_rows(sample_prices) -> pd.DataFrame:
    """Labelled rows of the whole sample: prices, technical features and targets (like sft_rows)."""
    keys = ["asset_symbol", "timestamp"]
    indicators = rebase_levels(compute_indicators(total_return_prices(sample_prices)), sample_prices)
    targets = compute_targets(sample_prices, horizon_days=90)
    rows = sample_prices.merge(indicators[[*keys, *TECHNICAL_FEATURES]], on=keys, validate="one_to_one")
    rows = rows.merge(targets, on=keys, validate="one_to_one")
    return rows[rows["target_price_90d"].notna()].sort_values(["timestamp", "asset_symbol"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def warmup(sample_prices, has_volume) -> dict[str, pd.Timestamp]:
    return checks.warmup_ends(sample_prices, features=FEATURES, has_volume=has_volume)


@pytest.fixture
def prices(sample_prices) -> pd.DataFrame:
    """The sample with the adjusted close the move checks see in the graph (TLT's synthetic split is no move)."""
    return adjusted_close(sample_prices)


@pytest.fixture
def rows(sample_rows) -> pd.DataFrame:
    return sample_rows.copy()


def at(frame: pd.DataFrame, symbol: str, day: str) -> int:
    """Index label of ``symbol``'s row on ``day``."""
    hit = frame.index[(frame["asset_symbol"] == symbol) & (frame["timestamp"] == utc(day))]
    assert len(hit) == 1, (symbol, day)
    return int(hit[0])


def assert_well_formed(outcome: CheckOutcome, *, max_cases: int = checks.MAX_CASES) -> None:
    assert outcome.severity in (checks.ERROR, checks.WARN)
    assert list(outcome.failures.columns[: len(FAILURE_COLUMNS)]) == FAILURE_COLUMNS
    assert len(outcome.failures) <= max_cases
    assert "\n" not in outcome.summary and outcome.summary
    json.dumps(outcome.metadata, allow_nan=False)
    if outcome.passed:
        assert outcome.failures.empty
    else:
        assert not outcome.failures.empty


def assert_fails(outcome: CheckOutcome, severity: str, *words: str) -> None:
    assert_well_formed(outcome)
    assert not outcome.passed
    assert outcome.severity == severity
    for word in words:
        assert word in outcome.summary, (word, outcome.summary)


# ---------------------------------------------------------------------------------------------
# The sample passes every check
# ---------------------------------------------------------------------------------------------


def test_every_check_passes_on_the_sample(sample_prices, sample_rows, has_volume, calendars, warmup):
    prices_before = sample_prices.copy()
    rows_before = sample_rows.copy()
    outcomes = [
        checks.completeness(sample_rows, features=FEATURES, has_volume=has_volume, warmup_end=warmup),
        checks.target_coverage(sample_rows),
        checks.value_bounds(sample_rows),
        checks.rsi_bounds(sample_rows),
        checks.temporal_gaps(sample_prices, calendars=calendars),
        checks.feature_distribution(adjusted_close(sample_prices)),
        checks.feature_distribution(adjusted_close(sample_rows)),
        checks.feature_target_ic(sample_rows, features=FEATURES),
        checks.cross_source_consistency(sample_prices),
    ]
    for outcome in outcomes:
        assert_well_formed(outcome)
        assert outcome.passed, (outcome.name, outcome.summary)
    # Nothing is dropped, filled or reordered in the inputs.
    pd.testing.assert_frame_equal(sample_prices, prices_before)
    pd.testing.assert_frame_equal(sample_rows, rows_before)


def test_severities():
    frame = pd.DataFrame({"asset_symbol": ["A"], "asset_class": ["equity"], "timestamp": [utc("2020-01-02")]})
    assert checks.temporal_gaps(frame, calendars={"A": "weekdays"}).severity == checks.ERROR
    assert checks.feature_distribution(frame.assign(price_close=1.0)).severity == checks.WARN
    assert checks.cross_source_consistency(frame.assign(price_close=1.0)).severity == checks.WARN


# ---------------------------------------------------------------------------------------------
# completeness
# ---------------------------------------------------------------------------------------------


def first_rows_after_warmup(rows: pd.DataFrame, warmup: dict[str, pd.Timestamp], n: int) -> pd.DataFrame:
    keep = rows["timestamp"] >= rows["asset_symbol"].map(warmup)
    return rows[keep].groupby("asset_symbol", group_keys=False).head(n).reset_index(drop=True)


def test_asset_with_60_percent_completeness_fails(rows, has_volume, warmup):
    frame = first_rows_after_warmup(rows, warmup, 100)
    goog = frame.index[frame["asset_symbol"] == "GOOG"]
    blanked = goog[::5].union(goog[1::5])  # 40 of GOOG's 100 dates
    frame.loc[blanked, "rsi_14"] = np.nan
    frame.loc[blanked[:10], "macd"] = np.nan
    outcome = checks.completeness(frame, features=FEATURES, has_volume=has_volume, warmup_end=warmup)
    assert_fails(outcome, checks.ERROR, "GOOG", "60.0%", "rsi_14 (40)", "macd (10)")
    assert outcome.metadata["fraction_complete"]["GOOG"] == pytest.approx(0.6)
    assert outcome.metadata["fraction_complete"]["IXIC"] == 1.0
    assert outcome.metadata["failing_assets"] == ["GOOG"]
    assert outcome.metadata["missing_by_feature"]["GOOG"] == {"rsi_14": 40, "macd": 10}
    cases = outcome.failures
    assert len(cases) == 40
    assert set(cases["asset_symbol"]) == {"GOOG"}
    assert set(cases["timestamp"]) == set(frame.loc[blanked, "timestamp"])
    assert (cases["column"] == "rsi_14, macd").sum() == 10
    assert (cases["column"] == "rsi_14").sum() == 30


def test_not_applicable_features_do_not_count(rows, has_volume, warmup):
    # EURUSD (fx) and XAUUSD (commodity from the FX endpoint) have no volume: their
    # volume features are empty and not applicable, so they stay 100% complete.
    frame = first_rows_after_warmup(rows, warmup, 50)
    assert frame.loc[frame["asset_symbol"].isin(["EURUSD", "XAUUSD"]), "mfi_14"].isna().all()
    outcome = checks.completeness(frame, features=FEATURES, has_volume=has_volume, warmup_end=warmup)
    assert outcome.passed
    assert outcome.metadata["not_applicable"]["XAUUSD"] == ["volume", "mfi_14", "volume_zscore_20"]
    # With a volume, XAUUSD's empty volume features are missing: 0% complete.
    claimed = {**has_volume, "XAUUSD": True}
    outcome = checks.completeness(frame, features=FEATURES, has_volume=claimed, warmup_end=warmup)
    assert_fails(outcome, checks.ERROR, "XAUUSD", "0.0%")
    assert outcome.metadata["failing_assets"] == ["XAUUSD"]


def test_warmup_rows_are_excluded(rows, has_volume, warmup, sample_prices):
    early = rows[rows["timestamp"] < utc("2010-01-01")]
    with_warmup = checks.completeness(early, features=FEATURES, has_volume=has_volume, warmup_end=warmup)
    without = checks.completeness(early, features=FEATURES, has_volume=has_volume)
    assert with_warmup.passed
    assert not without.passed  # sma_200, drawdown_252d ... are empty during their warm-up
    goog = sample_prices[sample_prices["asset_symbol"] == "GOOG"]["timestamp"].sort_values().reset_index(drop=True)
    assert warmup["GOOG"] == goog[251]  # drawdown_252d: first value at observation 251


def test_completeness_requires_has_volume_for_every_asset(rows):
    with pytest.raises(ValueError, match="GOOG"):
        checks.completeness(rows, features=FEATURES, has_volume={"BTC-USD": True})


def test_failure_cases_are_shared_between_assets(rows, has_volume, warmup):
    frame = first_rows_after_warmup(rows, warmup, 100)
    frame.loc[frame["asset_symbol"] == "GOOG", "rsi_14"] = np.nan  # 100 dates
    ixic = frame.index[frame["asset_symbol"] == "IXIC"][:10]
    frame.loc[ixic, "rsi_14"] = np.nan  # 10 dates
    outcome = checks.completeness(
        frame, features=FEATURES, has_volume=has_volume, warmup_end=warmup, min_fraction=0.95, max_cases=20
    )
    assert outcome.metadata["failing_assets"] == ["GOOG", "IXIC"]
    assert outcome.failures["asset_symbol"].value_counts().to_dict() == {"GOOG": 10, "IXIC": 10}
    assert outcome.metadata["failure_count"] == 110
    assert "20 of 110 failure cases shown" in checks.failures_markdown(outcome)


# ---------------------------------------------------------------------------------------------
# target_coverage
# ---------------------------------------------------------------------------------------------


def test_missing_target_fails(rows):
    i = at(rows, "ETH-USD", "2011-03-15")
    rows.loc[i, "target_return_90d"] = np.nan
    outcome = checks.target_coverage(rows)
    assert_fails(outcome, checks.ERROR, "ETH-USD", "target_return_90d", "missing", "2011-03-15")
    case = outcome.failures.iloc[0]
    assert (case["asset_symbol"], case["timestamp"], case["column"]) == (
        "ETH-USD",
        utc("2011-03-15"),
        "target_return_90d",
    )
    assert outcome.metadata["rows_failing"] == 1


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("target_price_90d", 0.0, "not positive"),
        ("target_return_pct_90d", np.inf, "not finite"),
        ("target_return_90d", 0.123456, "inconsistent"),
    ],
)
def test_invalid_target_fails(rows, column, value, reason):
    i = at(rows, "TLT", "2012-02-01")
    rows.loc[i, column] = value
    outcome = checks.target_coverage(rows)
    assert_fails(outcome, checks.ERROR, "TLT", column, reason)
    assert outcome.failures.iloc[0]["reason"].startswith(reason)


def test_target_not_after_the_row_fails(rows):
    i = at(rows, "USO", "2012-02-01")
    rows.loc[i, "target_timestamp"] = rows.loc[i, "timestamp"]
    assert_fails(checks.target_coverage(rows), checks.ERROR, "USO", "target_timestamp")


def test_absent_target_column_fails(rows):
    outcome = checks.target_coverage(rows.drop(columns="target_return_pct_90d"))
    assert_fails(outcome, checks.ERROR, "target_return_pct_90d")
    assert outcome.metadata["rows_failing"] == len(rows)


# ---------------------------------------------------------------------------------------------
# value_bounds / rsi_bounds
# ---------------------------------------------------------------------------------------------


def test_rsi_of_130_fails(rows):
    i = at(rows, "IXIC", "2010-05-06")
    rows.loc[i, "rsi_14"] = 130.0
    for outcome in (checks.rsi_bounds(rows), checks.value_bounds(rows)):
        assert_fails(outcome, checks.ERROR, "rsi_14", "[0, 100]", "IXIC", "130", "2010-05-06")
        assert len(outcome.failures) == 1
        case = outcome.failures.iloc[0]
        assert (case["column"], case["value"], case["timestamp"]) == ("rsi_14", 130.0, utc("2010-05-06"))
    assert checks.rsi_bounds(rows).name == "rsi_bounds"
    assert checks.value_bounds(rows).name == "value_bounds"


def test_price_of_zero_fails(rows):
    i = at(rows, "USDJPY", "2012-07-02")
    rows.loc[i, "price_close"] = 0.0
    outcome = checks.value_bounds(rows)
    assert_fails(outcome, checks.ERROR, "price_close", "(0, ∞)", "USDJPY")
    assert outcome.failures[["asset_symbol", "column", "value"]].values.tolist() == [["USDJPY", "price_close", 0.0]]
    assert checks.rsi_bounds(rows).passed


def test_bounds_skip_missing_values_and_catch_infinities(rows):
    rows.loc[at(rows, "GOOG", "2010-05-06"), "rsi_14"] = np.nan
    assert checks.value_bounds(rows).passed
    rows.loc[at(rows, "GOOG", "2010-05-07"), "atr_14"] = np.inf
    assert_fails(checks.value_bounds(rows), checks.ERROR, "atr_14")


def test_custom_bounds(rows):
    outcome = checks.value_bounds(rows, bounds={"momentum_5d": (-0.01, 0.01), "no_such_column": (0, 1)})
    assert_fails(outcome, checks.ERROR, "momentum_5d")
    assert outcome.metadata["columns_not_in_frame"] == ["no_such_column"]


# ---------------------------------------------------------------------------------------------
# temporal_gaps
# ---------------------------------------------------------------------------------------------


def test_ten_day_hole_fails(prices, calendars):
    days = prices["timestamp"]
    hole = (prices["asset_symbol"] == "GOOG") & (days >= utc("2010-03-01")) & (days <= utc("2010-03-12"))
    assert hole.sum() == 10
    outcome = checks.temporal_gaps(prices[~hole], calendars=calendars)
    assert_fails(outcome, checks.ERROR)
    assert outcome.summary == "GOOG: 1 gap of 10 days (2010-03-01..2010-03-12) exceeds 7"
    case = outcome.failures.iloc[0]
    assert (case["gap_start"], case["gap_end"], case["gap_days"]) == (utc("2010-03-01"), utc("2010-03-12"), 10)
    assert (case["last_before"], case["first_after"]) == (utc("2010-02-26"), utc("2010-03-15"))


def series(symbol: str, days: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"asset_symbol": symbol, "timestamp": [utc(d) for d in days]})


def test_weekends_and_holiday_weekends_are_not_gaps():
    # Fri -> Mon (weekend), Thu -> Tue (4-day holiday weekend: Fri and Mon missing).
    frame = series("GOOG", ["2021-04-01", "2021-04-06", "2021-04-09", "2021-04-12"])
    outcome = checks.temporal_gaps(frame, calendars={"GOOG": "weekdays"}, max_gap_days=2)
    assert outcome.passed
    assert outcome.metadata["longest_gap_days"] == {"GOOG": 2}
    assert not checks.temporal_gaps(frame, calendars={"GOOG": "weekdays"}, max_gap_days=1).passed


def test_crypto_calendar_counts_weekends(prices, calendars):
    btc = prices["asset_symbol"] == "BTC-USD"
    days = prices["timestamp"]
    seven = btc & (days >= utc("2011-05-01")) & (days < utc("2011-05-08"))
    assert checks.temporal_gaps(prices[~seven], calendars=calendars).passed
    eight = btc & (days >= utc("2011-05-01")) & (days < utc("2011-05-09"))
    outcome = checks.temporal_gaps(prices[~eight], calendars=calendars)
    assert outcome.summary == "BTC-USD: 1 gap of 8 days (2011-05-01..2011-05-08) exceeds 7"


def test_gap_straddling_the_window_start_needs_previous():
    before = series("GOOG", ["2010-02-25", "2010-02-26"])
    window = series("GOOG", ["2010-03-15", "2010-03-16"])
    assert checks.temporal_gaps(window, calendars={"GOOG": "weekdays"}).passed
    outcome = checks.temporal_gaps(window, calendars={"GOOG": "weekdays"}, previous=before)
    assert outcome.summary == "GOOG: 1 gap of 10 days (2010-03-01..2010-03-12) exceeds 7"
    # Gaps entirely before the window are not this run's to report.
    old = series("GOOG", ["2009-01-02", "2010-02-26"])
    assert checks.temporal_gaps(window.iloc[:0], calendars={"GOOG": "weekdays"}, previous=old).passed


def test_open_gap_up_to_the_window_end():
    window = series("ETH-USD", ["2012-01-01", "2012-01-02"])
    cal = {"ETH-USD": "daily"}
    assert checks.temporal_gaps(window, calendars=cal, window_end=utc("2012-01-09")).passed
    outcome = checks.temporal_gaps(window, calendars=cal, window_end=utc("2012-01-12"))
    assert outcome.summary == "ETH-USD: 1 gap of 10 days (2012-01-03..2012-01-12) exceeds 7"
    assert pd.isna(outcome.failures.iloc[0]["first_after"])


def test_unknown_calendar_is_an_error():
    with pytest.raises(ValueError, match="GOOG"):
        checks.temporal_gaps(series("GOOG", ["2021-01-04"]), calendars={})
    with pytest.raises(ValueError, match="monthly"):
        checks.temporal_gaps(series("GOOG", ["2021-01-04"]), calendars={"GOOG": "monthly"})


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=60), min_size=2, max_size=12, unique=True),
    calendar=st.sampled_from(["daily", "weekdays"]),
    max_gap=st.integers(min_value=0, max_value=10),
)
def test_gap_length_matches_a_day_by_day_count(offsets, calendar, max_gap):
    start = pd.Timestamp("2021-03-01", tz="UTC")
    days = sorted(start + pd.Timedelta(days=o) for o in offsets)
    frame = pd.DataFrame({"asset_symbol": "X", "timestamp": days})
    expected = 0
    for a, b in pairwise(days):
        between = pd.date_range(a + pd.Timedelta(days=1), b - pd.Timedelta(days=1), freq="D")
        if calendar == "weekdays":
            between = between[between.dayofweek < 5]
        expected = max(expected, len(between))
    outcome = checks.temporal_gaps(frame, calendars={"X": calendar}, max_gap_days=max_gap)
    assert outcome.metadata["longest_gap_days"] == {"X": expected}
    assert outcome.passed == (expected <= max_gap)


# ---------------------------------------------------------------------------------------------
# feature_distribution
# ---------------------------------------------------------------------------------------------


def scale_close(frame: pd.DataFrame, mask: pd.Series, factor: float) -> None:
    for c in ("price_open", "price_high", "price_low", "price_close"):
        frame.loc[mask, c] = frame.loc[mask, c] * factor


def test_bad_tick_and_unadjusted_split_are_flagged_with_the_ratio(prices):
    goog = prices["asset_symbol"] == "GOOG"
    scale_close(prices, goog & (prices["timestamp"] == utc("2010-05-04")), 1.5)  # one bad tick
    scale_close(prices, goog & (prices["timestamp"] >= utc("2011-06-01")), 0.5)  # 2-for-1, not adjusted
    outcome = checks.feature_distribution(prices)
    assert_fails(outcome, checks.WARN, "GOOG", "bad tick", "2010-05-04", "2011-06-01", "1/2", "unadjusted split")
    cases = outcome.failures.set_index("kind")
    assert sorted(cases.index) == ["bad_tick", "unadjusted_split"]
    tick = cases.loc["bad_tick"]
    assert (tick["asset_symbol"], tick["timestamp"], tick["column"]) == ("GOOG", utc("2010-05-04"), "price_close")
    assert tick["log_return"] > 0.3 and tick["next_log_return"] < -0.3
    split = cases.loc["unadjusted_split"]
    assert (split["asset_symbol"], split["timestamp"]) == ("GOOG", utc("2011-06-01"))
    assert split["suspected_ratio"] == 0.5
    assert split["suspected_ratio_label"] == "1/2"
    assert outcome.metadata["per_asset"]["GOOG"]["flagged"] == {"bad_tick": 1, "unadjusted_split": 1}
    assert outcome.metadata["flagged_total"] == {"bad_tick": 1, "unadjusted_split": 1}


def test_reversed_spike_below_the_class_threshold_is_a_bad_tick(prices):
    # +12% and back on a Treasury ETF: under the bond jump threshold (0.15) but far in the tails.
    scale_close(prices, (prices["asset_symbol"] == "TLT") & (prices["timestamp"] == utc("2012-03-05")), 1.12)
    outcome = checks.feature_distribution(prices)
    assert_fails(outcome, checks.WARN, "TLT", "bad tick")
    assert outcome.failures["kind"].tolist() == ["bad_tick"]


def test_large_unreversed_move_is_a_jump(prices):
    btc = prices["asset_symbol"] == "BTC-USD"
    scale_close(prices, btc & (prices["timestamp"] >= utc("2012-01-10")), 1.8)
    outcome = checks.feature_distribution(prices)
    assert outcome.failures["kind"].tolist() == ["jump"]
    assert outcome.failures.iloc[0]["suspected_ratio"] is None


def test_previous_rows_give_the_first_return(prices):
    goog = prices[prices["asset_symbol"] == "GOOG"].reset_index(drop=True)
    scale_close(goog, goog["timestamp"] >= utc("2011-06-01"), 0.5)
    window = goog[goog["timestamp"] >= utc("2011-06-01")]
    before = goog[goog["timestamp"] < utc("2011-06-01")]
    assert checks.feature_distribution(window).passed
    outcome = checks.feature_distribution(window, previous=before)
    assert outcome.failures["kind"].tolist() == ["unadjusted_split"]
    # The lookback's own moves are not reported again.
    assert checks.feature_distribution(before.iloc[-5:], previous=before.iloc[:-5]).passed


def test_distribution_works_on_training_rows(rows):
    scale_close(rows, (rows["asset_symbol"] == "EURUSD") & (rows["timestamp"] == utc("2011-09-14")), 0.8)
    outcome = checks.feature_distribution(adjusted_close(rows))
    assert outcome.failures[["asset_symbol", "kind"]].values.tolist() == [["EURUSD", "bad_tick"]]


def test_the_sample_split_is_an_unadjusted_split_as_traded(sample_prices):
    """TLT's synthetic 2-for-1 split, as traded, is what the check flags; adjusted (above), it is no move."""
    outcome = checks.feature_distribution(sample_prices[sample_prices["asset_symbol"] == "TLT"])
    assert outcome.failures[["timestamp", "kind", "suspected_ratio_label"]].values.tolist() == [
        [utc("2010-06-15"), "unadjusted_split", "1/2"]
    ]


# ---------------------------------------------------------------------------------------------
# cross_source_consistency
# ---------------------------------------------------------------------------------------------


def test_coingecko_close_5_percent_off_fails(prices):
    i = at(prices, "BTC-USD", "2012-04-02")
    prices.loc[i, "reference_close"] = prices.loc[i, "price_close"] / 1.05
    outcome = checks.cross_source_consistency(prices)
    assert_fails(outcome, checks.WARN, "BTC-USD", "+5.00%", "2012-04-02")
    case = outcome.failures.iloc[0]
    assert (case["asset_symbol"], case["timestamp"]) == ("BTC-USD", utc("2012-04-02"))
    assert case["deviation"] == pytest.approx(0.05)
    meta = outcome.metadata
    assert meta["tolerance"] == 0.01
    assert meta["per_asset"]["BTC-USD"]["max_abs_deviation"] == pytest.approx(0.05)
    assert meta["per_asset"]["BTC-USD"]["median_abs_deviation"] < 0.01
    assert meta["per_asset"]["ETH-USD"]["rows_over_tolerance"] == 0
    assert set(meta["per_asset"]) == {"BTC-USD", "ETH-USD"}  # only crypto has a reference


def test_worst_days_come_first(prices):
    for day, factor in (("2012-04-02", 1.02), ("2012-04-03", 1.10), ("2012-04-04", 0.97)):
        i = at(prices, "ETH-USD", day)
        prices.loc[i, "reference_close"] = prices.loc[i, "price_close"] / factor
    outcome = checks.cross_source_consistency(prices)
    assert outcome.failures["timestamp"].tolist() == [utc("2012-04-03"), utc("2012-04-04"), utc("2012-04-02")]


# ---------------------------------------------------------------------------------------------
# feature_target_ic
# ---------------------------------------------------------------------------------------------


def test_ic_has_a_coefficient_per_feature(rows):
    rows["flat"] = 1.0
    features = [*FEATURES, "flat"]
    outcome = checks.feature_target_ic(rows, features=features)
    assert_well_formed(outcome)
    assert outcome.passed and outcome.severity == checks.WARN
    pooled = outcome.metadata["ic_pooled"]
    assert list(pooled) == features
    assert pooled["flat"] is None
    assert outcome.metadata["not_computed"] == {"flat": "constant feature"}
    assert all(-1 <= v <= 1 for f, v in pooled.items() if f != "flat")
    by_class = outcome.metadata["ic_by_class"]
    assert set(by_class) == {"crypto", "equity", "fx", "commodity", "bond"}
    assert by_class["fx"]["mfi_14"] is None  # not applicable: no values
    assert isinstance(by_class["crypto"]["mfi_14"], float)


def test_ic_fails_only_when_nothing_can_be_computed(rows):
    outcome = checks.feature_target_ic(rows.head(10), features=["rsi_14", "macd"])
    assert_fails(outcome, checks.WARN, "no IC computed")
    assert outcome.failures["column"].tolist() == ["rsi_14", "macd"]
    assert_fails(checks.feature_target_ic(rows.drop(columns="target_return_90d"), features=["rsi_14"]), checks.WARN)


def test_spearman_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(7)
    x = rng.integers(0, 6, 40).astype(float)  # ties
    y = x * 0.3 + rng.normal(size=40)
    x[[3, 17]] = np.nan
    y[5] = np.nan
    ok = ~np.isnan(x) & ~np.isnan(y)
    expected = stats.spearmanr(x[ok], y[ok]).statistic
    assert checks.spearman(x, y) == pytest.approx(expected, abs=1e-12)
    frame = pd.DataFrame({"asset_class": "equity", "f": x, "target_return_90d": y})
    outcome = checks.feature_target_ic(frame, features=["f"], min_rows=30)
    assert outcome.metadata["ic_pooled"]["f"] == pytest.approx(expected, abs=1e-12)
    assert outcome.metadata["rows_used"]["f"] == int(ok.sum())
    assert math.isnan(checks.spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def test_failures_markdown(rows):
    rows.loc[at(rows, "IXIC", "2010-05-06"), "rsi_14"] = 130.0
    outcome = checks.rsi_bounds(rows)
    table = checks.failures_markdown(outcome).splitlines()
    assert table[0] == "| asset_symbol | timestamp | column | value | reason |"
    assert table[1] == "|---|---|---|---|---|"
    assert table[2] == "| IXIC | 2010-05-06 | rsi_14 | 130 | outside [0, 100] |"
    assert len(table) == 3
    assert "no failure cases" in checks.failures_markdown(checks.rsi_bounds(rows.drop(index=rows.index[0])[:0]))


def test_markdown_escapes_pipes():
    cases = pd.DataFrame(
        {"asset_symbol": ["A|B"], "timestamp": [utc("2020-01-01")], "column": ["c"], "value": [1], "reason": ["x"]}
    )
    outcome = CheckOutcome("x", False, checks.ERROR, "s", {}, cases)
    assert "A\\|B" in checks.failures_markdown(outcome)


def test_an_asset_without_any_observation_in_the_window_fails():
    """A window that starts before any data must not pass with empty rows."""
    calendars = {"GOOG": "weekdays", "BTC-USD": "daily"}
    some = pd.DataFrame({"asset_symbol": ["BTC-USD"] * 3, "timestamp": [utc(f"2000-01-0{d}") for d in (1, 2, 3)]})
    outcome = checks.temporal_gaps(
        some, calendars=calendars, window_start=utc("2000-01-01"), window_end=utc("2000-01-03")
    )
    assert outcome.passed  # three days: GOOG's missing weekdays do not exceed the limit
    outcome = checks.temporal_gaps(
        some, calendars=calendars, window_start=utc("2000-01-01"), window_end=utc("2000-03-31")
    )
    assert not outcome.passed
    goog = outcome.failures[outcome.failures["asset_symbol"] == "GOOG"].iloc[0]
    assert goog["reason"] == "65 missing weekdays from 2000-01-03 to 2000-03-31 (no observation in the window)"
    assert outcome.metadata["assets_without_observations"] == ["GOOG"]
    empty = some.iloc[0:0]
    outcome = checks.temporal_gaps(
        empty, calendars=calendars, window_start=utc("2000-01-01"), window_end=utc("2000-03-31")
    )
    assert sorted(outcome.failures["asset_symbol"]) == ["BTC-USD", "GOOG"]
