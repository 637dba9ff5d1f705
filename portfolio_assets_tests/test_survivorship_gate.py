"""Survivorship through the graph: an asset that stops trading mid-range keeps its earlier rows in sft_rows (what
the gate exports), its later rows are held in the quarantine with the reason, and the gate passes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from portfolio_assets.assets.benchmarks import benchmark_frame
from portfolio_assets.assets.indicators import indicator_frame
from portfolio_assets.assets.macro import macro_frame
from portfolio_assets.assets.prices import canonical_prices
from portfolio_assets.assets.sentiment import sentiment_frame
from portfolio_assets.assets.windows import in_window
from portfolio_assets.definitions import gate_and_rows, prices, targets
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.runner import materialize_range
from portfolio_assets.spans import CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS
from portfolio_assets.universe import DEFAULT_UNIVERSE
from portfolio_assets_tests.resources import make_resources, run_evaluations
from portfolio_assets_tests.sample_frames import mapped_span, month_keys, store_frames
from portfolio_assets_tests.test_survivorship import END

pytestmark = pytest.mark.slow

SPAN = ("2010-02-01", "2010-07-31")
PRICES = mapped_span(*SPAN, CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS)
LAST_LABELLED = pd.Timestamp(END, tz="UTC") - pd.Timedelta(days=HORIZON_DAYS)
"""GOOG's last row whose horizon (day + 90) is on or before its last trading day."""


def days(first: str, last: str) -> list[str]:
    """The partition keys (months) holding ``first..last``."""
    return month_keys(first, last)


@pytest.fixture(scope="module")
def universe_file(tmp_path_factory) -> Path:
    """The packaged universe, with GOOG stopping trading on END (mid-range)."""
    data = yaml.safe_load(DEFAULT_UNIVERSE.read_text())
    next(a for a in data["assets"] if a["symbol"] == "GOOG")["last_trading_day"] = END
    path = tmp_path_factory.mktemp("universe") / "universe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def ended_store(tmp_path, universe_file) -> Path:
    """The upstream partitions the gate reads over SPAN, built with that universe (targets are left to the run)."""
    landing = LandingZoneResource(universe_file=str(universe_file))
    lo, hi = pd.Timestamp(SPAN[0], tz="UTC"), pd.Timestamp(SPAN[1], tz="UTC")
    history = canonical_prices(landing)
    calendar = pd.date_range(lo, hi, freq="D")
    frames = {
        "prices": in_window(history, pd.Timestamp(PRICES[0], tz="UTC"), pd.Timestamp(PRICES[1], tz="UTC")),
        "macro": macro_frame(landing, calendar),
        "sentiment": sentiment_frame(landing, calendar),
        "indicators": in_window(indicator_frame(history, benchmark_frame(landing)), lo, hi),
    }
    store_frames(tmp_path, frames, *SPAN, prices=PRICES)
    return tmp_path


def test_an_asset_that_stops_trading_keeps_its_labelled_rows_and_holds_the_rest(ended_store, universe_file, instance):
    result = materialize_range(
        [targets, gate_and_rows],
        *SPAN,
        resources=make_resources(ended_store, universe_file=universe_file),
        instance=instance,
        raise_on_error=False,
        log_level="CRITICAL",
    )
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in run_evaluations(result)}
    assert result.success, [e.metadata["summary"].value for e in evaluations.values() if not e.passed]
    assert all(e.passed for e in evaluations.values())
    store = PartitionStore(ended_store)
    end = pd.Timestamp(END, tz="UTC")

    # The targets asset: GOOG is labelled while its horizon is on or before its last trading day, then not.
    labels = store.read(["targets"], days(*SPAN))
    goog_labels = labels[labels["asset_symbol"] == "GOOG"].set_index("timestamp")
    assert goog_labels.index.max() == end
    assert goog_labels.loc[goog_labels.index <= LAST_LABELLED, "target_price_90d"].notna().all()
    assert goog_labels.loc[goog_labels.index > LAST_LABELLED, "target_price_90d"].isna().all()
    assert goog_labels["target_timestamp"].max() <= end

    # The quarantine: exactly GOOG's rows from the first whose horizon passes its end, through its end.
    held = store.read(["quarantine"], days(*SPAN))
    ended_days = goog_labels.index[goog_labels.index > LAST_LABELLED]
    assert set(held["asset_symbol"]) == {"GOOG"} and list(held["timestamp"]) == list(ended_days)
    assert set(held["validation_status"]) == {"no_target"}
    first = held.iloc[0]
    horizon = first["timestamp"] + pd.Timedelta(days=HORIZON_DAYS)
    assert first["validation_error"] == (
        f"no target: the 90-day horizon {horizon:%Y-%m-%d} passes GOOG's last trading day {END} "
        "(the asset stopped trading; survivorship policy)"
    )
    coverage = evaluations[("quarantine", "target_coverage")]
    assert coverage.metadata["rows_past_last_trading_day"].value == {"GOOG": len(ended_days)}
    assert evaluations[("quarantine", "temporal_gaps")].metadata["last_trading_days"].value == {"GOOG": END}

    # sft_rows: GOOG's earlier rows are there, labelled, none past LAST_LABELLED; every other asset complete.
    rows = store.read(["sft_rows"], days(*SPAN))
    goog_rows = rows[rows["asset_symbol"] == "GOOG"]
    assert list(goog_rows["timestamp"]) == list(goog_labels.index[goog_labels.index <= LAST_LABELLED])
    assert len(goog_rows) > 0
    stored_prices = in_window(store.read(["prices"], days(*PRICES)), *(pd.Timestamp(d, tz="UTC") for d in SPAN))
    others = stored_prices[stored_prices["asset_symbol"] != "GOOG"]
    assert len(rows) - len(goog_rows) == len(others) and len(set(rows["asset_symbol"])) == 9
    assert goog_rows["target_price_90d"].notna().all()
    assert goog_rows["target_timestamp"].max() <= end


def test_the_prices_asset_stops_at_the_last_trading_day_without_a_gap(tmp_path, universe_file, instance):
    resources = make_resources(tmp_path, universe_file=universe_file)
    for first, last in (("2010-05-01", "2010-06-30"), ("2010-06-01", "2010-06-30")):
        run = materialize_range([prices], first, last, resources=resources, instance=instance, log_level="CRITICAL")
        gaps = next(e for e in run_evaluations(run) if e.check_name == "temporal_gaps")
        assert gaps.passed and gaps.metadata["assets_without_observations"].value == []
        frame = PartitionStore(tmp_path).read(["prices"], days(first, last))
        goog = frame[frame["asset_symbol"] == "GOOG"]["timestamp"]
        assert (goog.max() == pd.Timestamp(END, tz="UTC")) if first < END else goog.empty
        assert len(set(frame["asset_symbol"])) == (9 if first < END else 8)
