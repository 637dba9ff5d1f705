"""Blocking checks on crafted bad data: the quarantine holds the rows, sft_rows and the export do not run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.definitions import gate_and_rows, training_set
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.runner import materialize_range
from portfolio_assets.spans import CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS
from portfolio_assets_tests.resources import make_resources, run_evaluations
from portfolio_assets_tests.sample_frames import group_frames, mapped_span, month_keys, store_frames

pytestmark = pytest.mark.slow

FIRST, LAST = "2010-03-01", "2010-03-31"
PRICES = mapped_span(FIRST, LAST, CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS)
"""The prices the gate reads: the partitions of the context window before the range and the horizon after it."""


def days(first: str, last: str) -> list[str]:
    """The partition keys (months) holding ``first..last``."""
    return month_keys(first, last)


@pytest.fixture(scope="module")
def upstream() -> dict[str, pd.DataFrame]:
    """The frames the gate reads for FIRST..LAST (prices from the context window's start), built directly."""
    return group_frames(FIRST, LAST, prices_from=PRICES[0], prices_to=PRICES[1])


@pytest.fixture
def store(tmp_path, upstream):
    """A fresh store holding just the upstream partitions the gate reads for FIRST..LAST."""
    store_frames(tmp_path, upstream, FIRST, LAST, prices=PRICES)
    return tmp_path


def mutate(data_dir, asset: str, change) -> None:
    """Rewrite every stored partition of ``asset`` in FIRST..LAST through ``change(frame)``."""
    part = PartitionStore(data_dir)
    keys = part.keys([asset])
    frame = part.read([asset], keys)
    part.write([asset], change(frame), keys, granularity="monthly")


def run_gate(data_dir, instance, selection=(gate_and_rows, training_set), engine=None):
    result = materialize_range(
        list(selection),
        FIRST,
        LAST,
        resources=make_resources(data_dir, engine=engine),
        instance=instance,
        raise_on_error=False,
        log_level="CRITICAL",
    )
    checks = {e.check_name: e for e in run_evaluations(result)}
    done = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    held = (
        PartitionStore(data_dir).read(["quarantine"], days(FIRST, LAST))
        if PartitionStore(data_dir).keys(["quarantine"])
        else None
    )
    return result, checks, done, held


def one(frame: pd.DataFrame, symbol: str, day: str) -> pd.Series:
    return (frame["asset_symbol"] == symbol) & (frame["timestamp"] == pd.Timestamp(day, tz="UTC"))


def assert_blocked(result, done, data_dir):
    assert not result.success
    assert "quarantine" in done
    assert "sft_rows" not in done and "training_set" not in done
    assert PartitionStore(data_dir).keys(["sft_rows"]) == []
    assert not list((data_dir / "exports").glob("*.csv")) if (data_dir / "exports").exists() else True


def test_the_sample_passes_the_gate(store, instance):
    # A month is too short to export (every training label would reach validation), so stop at sft_rows.
    result, checks, done, held = run_gate(store, instance, selection=(gate_and_rows,))
    assert result.success
    assert {"quarantine", "sft_rows"} <= done
    assert len(held) == 0
    assert all(c.passed for c in checks.values())
    # What a person reads is a table: completeness per asset, the information coefficient per feature.
    per_asset = checks["completeness"].metadata["per_asset"].value.splitlines()
    assert per_asset[0] == "| asset | complete | rows checked | incomplete | in warm-up | most missing |"
    assert len(per_asset) == 2 + len(checks["completeness"].metadata["rows_checked"].value)
    per_feature = checks["feature_target_ic"].metadata["per_feature"].value.splitlines()
    assert per_feature[0].startswith("| feature | IC (pooled) | rows | IC bond |") and len(per_feature) > 40


def test_an_rsi_of_130_is_quarantined_and_blocks(store, instance):
    mutate(store, "indicators", lambda f: f.assign(rsi_14=f["rsi_14"].where(~one(f, "GOOG", "2010-03-10"), 130.0)))
    result, checks, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert not checks["rsi_bounds"].passed and not checks["schema"].passed
    assert "GOOG" in checks["rsi_bounds"].metadata["summary"].value
    row = held[one(held, "GOOG", "2010-03-10")].iloc[0]
    assert row["validation_status"] == "invalid" and "rsi_14=130.0 outside 0..100" in row["validation_error"]
    assert len(held) == 1


def test_a_missing_target_is_quarantined_and_blocks(store, instance):
    cols = ["target_price_90d", "target_return_90d", "target_return_pct_90d"]

    def drop_target(frame):
        mask = one(frame, "BTC-USD", "2010-03-05")
        frame.loc[mask, cols] = np.nan
        frame.loc[mask, "target_timestamp"] = pd.NaT
        return frame

    mutate(store, "targets", drop_target)
    result, checks, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert not checks["target_coverage"].passed
    assert list(held["asset_symbol"]) == ["BTC-USD"]
    assert "target_price_90d is null" in held["validation_error"].iloc[0]


def test_a_price_of_zero_is_quarantined_and_blocks(store, instance):
    mutate(store, "prices", lambda f: f.assign(price_close=f["price_close"].where(~one(f, "TLT", "2010-03-15"), 0.0)))
    result, _, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert held[one(held, "TLT", "2010-03-15")]["validation_error"].str.contains("price_close=0.0 not > 0").all()


def test_a_duplicated_row_is_quarantined_and_blocks(store, instance):
    mutate(store, "sentiment", lambda f: pd.concat([f, f[one(f, "ETH-USD", "2010-03-20")]], ignore_index=True))
    result, _, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    dup = held[one(held, "ETH-USD", "2010-03-20")]
    assert len(dup) == 2 and dup["validation_error"].str.contains("duplicated").all()


def test_a_ten_day_hole_blocks(store, instance):
    hole = pd.date_range("2010-03-08", "2010-03-19", tz="UTC")  # two trading weeks
    mutate(store, "prices", lambda f: f[~((f["asset_symbol"] == "IXIC") & f["timestamp"].isin(hole))])
    result, checks, done, _ = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert not checks["temporal_gaps"].passed
    assert "IXIC" in checks["temporal_gaps"].metadata["summary"].value


def test_an_asset_60_percent_complete_blocks(store, instance):
    def blank(frame):
        rows = frame.index[frame["asset_symbol"] == "EURUSD"]
        frame.loc[rows[: int(len(rows) * 0.4)], "macd"] = np.nan
        return frame

    mutate(store, "indicators", blank)
    result, checks, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert not checks["completeness"].passed
    assert "EURUSD" in checks["completeness"].metadata["summary"].value
    assert len(held) == 0  # missing values are allowed by the schema; completeness judges them


# --------------------------------------------------------------------------- suspect moves


def spike(frame: pd.DataFrame, symbol: str, day: str, factor: float) -> pd.DataFrame:
    """Multiply one day's OHLC of ``symbol`` by ``factor`` (a bad tick when the next day is untouched)."""
    mask = one(frame, symbol, day)
    for column in ("price_open", "price_high", "price_low", "price_close"):
        frame.loc[mask, column] = frame.loc[mask, column] * factor
    return frame


def spike_prices_and_targets(data_dir, symbol: str, day: str, factor: float) -> None:
    """A bad tick in the stored prices, and the targets recomputed from them (as the targets asset would)."""
    from portfolio_assets.features import compute_targets

    mutate(data_dir, "prices", lambda f: spike(f, symbol, day, factor))
    prices = PartitionStore(data_dir).read(["prices"], days(*PRICES))
    end = pd.Timestamp(PRICES[1], tz="UTC")
    fresh = compute_targets(prices, horizon_days=HORIZON_DAYS, data_end=end)
    mutate(
        data_dir, "targets", lambda f: f[["timestamp", "asset_symbol"]].merge(fresh, on=["timestamp", "asset_symbol"])
    )


def test_a_bad_tick_goes_to_the_quarantine_not_to_the_export(store, instance):
    spike_prices_and_targets(store, "GOOG", "2010-03-10", 10.0)
    result, checks, _, held = run_gate(store, instance, selection=(gate_and_rows,))
    # Nothing else is wrong: the gate passes, the suspect row is held back, the others are written.
    assert result.success, [c.metadata["summary"].value for c in checks.values() if not c.passed]
    assert not checks["suspect_moves"].passed and checks["schema"].passed
    row = held[one(held, "GOOG", "2010-03-10")].iloc[0]
    assert row["validation_status"] == "suspect_move"
    assert row["validation_error"].startswith("suspect move on 2010-03-10: bad tick? equity close +929.0% then -89.9%")
    assert len(held) == 1
    rows = PartitionStore(store).read(["sft_rows"], days(FIRST, LAST))
    assert not one(rows, "GOOG", "2010-03-10").any() and one(rows, "GOOG", "2010-03-11").any()


def test_an_accepted_move_is_kept(store, instance, tmp_path):
    import yaml

    from portfolio_assets.universe import DEFAULT_UNIVERSE

    data = yaml.safe_load(DEFAULT_UNIVERSE.read_text())
    next(a for a in data["assets"] if a["symbol"] == "GOOG")["accepted_moves"] = ["2010-03-10"]
    universe = tmp_path / "universe.yaml"
    universe.write_text(yaml.safe_dump(data))
    spike_prices_and_targets(store, "GOOG", "2010-03-10", 10.0)
    result = materialize_range(
        [gate_and_rows],
        FIRST,
        LAST,
        resources=make_resources(store, universe_file=universe),
        instance=instance,
        raise_on_error=False,
        log_level="CRITICAL",
    )
    suspects = next(e for e in run_evaluations(result) if e.check_name == "suspect_moves")
    assert suspects.passed and suspects.metadata["accepted_moves"].value == 1
    assert one(PartitionStore(store).read(["sft_rows"], days(FIRST, LAST)), "GOOG", "2010-03-10").any()


# --------------------------------------------------------------------------- the export is bound to the gate


SPAN = ("2010-02-01", "2010-09-30")
SPLIT_DAYS = {"validation_start": "2010-05-15", "test_start": "2010-08-31"}
"""Every split's labels are purged against the next split's start: train and validation must each outlast the
90-day horizon, so the span's split days are set (two weeks of training rows, about three of validation rows)."""


@pytest.fixture
def span_store(tmp_path):
    """Upstream partitions for a six-month labelled range."""
    prices = mapped_span(*SPAN, CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS)
    store_frames(tmp_path, group_frames(*SPAN, prices_from=prices[0], prices_to=prices[1]), *SPAN, prices=prices)
    return tmp_path


def test_a_newer_failed_gate_refuses_the_export_of_any_overlapping_range(span_store, instance):
    resources = make_resources(span_store, **SPLIT_DAYS)
    clean = materialize_range([gate_and_rows, training_set], *SPAN, resources=resources, instance=instance)
    assert clean.success
    # A hole appears in one equity; the gate over March now fails and sft_rows of March are not rewritten.
    hole = pd.date_range("2010-03-08", "2010-03-19", tz="UTC")
    mutate(span_store, "prices", lambda f: f[~((f["asset_symbol"] == "GOOG") & f["timestamp"].isin(hole))])
    march = materialize_range(
        [gate_and_rows], FIRST, LAST, resources=resources, instance=instance, raise_on_error=False, log_level="CRITICAL"
    )
    assert not march.success
    assert {e.check_name for e in run_evaluations(march) if not e.passed} >= {"temporal_gaps"}
    # The export of the whole span, run on its own, refuses: the newest gate evaluation of March failed.
    again = materialize_range(
        [training_set], *SPAN, resources=resources, instance=instance, raise_on_error=False, log_level="CRITICAL"
    )
    assert not again.success
    error = str(next(e for e in again.all_events if e.is_step_failure).event_specific_data.error)
    assert "the newest evaluation of blocking check quarantine/temporal_gaps for 2010-03-01 is FAILED" in error
    assert f"is FAILED (run {march.run_id})" in error


def test_sft_rows_cannot_be_materialised_without_the_gate(store, instance):
    from dagster import DagsterInvalidDefinitionError, materialize

    from portfolio_assets.definitions import ALL_ASSETS

    # Dagster refuses the selection: the gate and sft_rows are one step that cannot be split.
    with pytest.raises(DagsterInvalidDefinitionError) as raised:
        materialize(
            ALL_ASSETS,
            selection=["sft_rows"],
            resources=make_resources(store),
            instance=instance,
            tags={"dagster/asset_partition_range_start": FIRST, "dagster/asset_partition_range_end": LAST},
        )
    assert "gate_and_rows" in str(raised.value.__cause__) and "does not support subsetting" in str(
        raised.value.__cause__
    )
    assert PartitionStore(store).keys(["sft_rows"]) == []


def test_a_partition_whose_blocking_check_failed_is_never_read_downstream(tmp_path, instance):
    """prices fails temporal_gaps: its partitions are stored for diagnosis, and an indicators-only run refuses them."""
    import json
    import shutil

    from portfolio_assets.definitions import benchmarks, indicators, prices
    from portfolio_assets.landing import SAMPLE_LANDING_ROOT

    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING_ROOT, landing)
    goog = next((landing / "alphavantage").glob("function=TIME_SERIES_DAILY,symbol=GOOG/*.json"))
    body = json.loads(goog.read_text())
    series = body["Time Series (Daily)"]
    for day in pd.date_range("2009-06-01", "2009-06-19"):
        series.pop(day.strftime("%Y-%m-%d"), None)
    goog.write_text(json.dumps(body))
    resources = make_resources(tmp_path / "data", landing_root=landing)
    first, last = "2008-01-01", "2009-06-30"
    stored = materialize_range(
        [prices, benchmarks],
        first,
        last,
        resources=resources,
        instance=instance,
        raise_on_error=False,
        log_level="CRITICAL",
    )
    assert not stored.success
    failed = {e.check_name for e in run_evaluations(stored) if not e.passed}
    assert failed == {"temporal_gaps"}
    commit = PartitionStore(tmp_path / "data").commit_of(["prices"], "2009-06-01")  # June 2009's partition
    assert commit.blocked_by == ("temporal_gaps",) and commit.run_id == stored.run_id
    later = materialize_range(
        [indicators], last, last, resources=resources, instance=instance, raise_on_error=False, log_level="CRITICAL"
    )
    assert not later.success
    error = str(next(e for e in later.all_events if e.is_step_failure).event_specific_data.error)
    assert f"failed blocking check(s) temporal_gaps in run {stored.run_id}" in error
    assert "not read downstream" in error


def test_an_asset_whose_source_failed_is_left_out_named_and_filled_in_by_a_rerun(span_store, instance):
    import json
    from pathlib import Path

    from portfolio_assets.export import read_export
    from portfolio_assets.universe import load_universe

    store = PartitionStore(span_store)
    keys = store.keys(["prices"])
    full = store.read(["prices"], keys)
    why = "alphavantage [function=TIME_SERIES_DAILY,symbol=TLT] failed at 2026-12-01T00:00:00Z: Invalid API call"
    # prices as a run stores them when TLT's series failed: without TLT, and the commit names it
    store.write(["prices"], full[full["asset_symbol"] != "TLT"], keys, excluded={"TLT": why}, granularity="monthly")

    def export(raise_on_error: bool):
        result = materialize_range(
            [gate_and_rows, training_set],
            *SPAN,
            resources=make_resources(span_store, **SPLIT_DAYS),
            instance=instance,
            raise_on_error=raise_on_error,
            log_level="CRITICAL",
        )
        check = next(e for e in run_evaluations(result) if e.check_name == "universe_complete")
        meta = result.asset_materializations_for_node("training_set")[-1].metadata
        path = Path(meta["path"].value)
        return result, check, json.loads((path / "manifest.json").read_text()), read_export(path, "csv")

    result, check, manifest, rows = export(raise_on_error=False)
    others = set(load_universe().symbols) - {"TLT"}
    # the others are gated and exported; the blocking check and the manifest name the one left out
    assert set(rows["asset_symbol"]) == others
    assert not result.success and not check.passed and check.severity.value == "ERROR"
    assert "TLT" in check.description and check.metadata["excluded_assets"].value == {"TLT": why}
    assert manifest["provenance"]["excluded_assets"] == {"TLT": why}
    assert all(e.passed for e in run_evaluations(result) if e.asset_key.path == ["quarantine"])

    # the cause fixed, prices rebuilt with TLT: the same range fills it in
    store.write(["prices"], full, keys, granularity="monthly")
    result, check, manifest, rows = export(raise_on_error=True)
    assert result.success and check.passed
    assert manifest["provenance"]["excluded_assets"] == {}
    assert set(rows["asset_symbol"]) == others | {"TLT"}


def test_an_asset_left_out_of_sentiment_only_is_left_out_of_the_gate_too(span_store, instance):
    store = PartitionStore(span_store)
    keys = store.keys(["sentiment"])
    frame = store.read(["sentiment"], keys)
    why = "gdelt [mode=timelinetone,query=treasury%20bonds]: HTTP 404 (failed at 2026-12-01T00:00:00Z)"
    store.write(
        ["sentiment"], frame[frame["asset_symbol"] != "TLT"], keys, excluded={"TLT": why}, granularity="monthly"
    )
    result = materialize_range(
        [gate_and_rows],
        *SPAN,
        resources=make_resources(span_store),
        instance=instance,
        raise_on_error=False,
        log_level="CRITICAL",
    )
    # prices still hold TLT, yet the gate leaves it out rather than failing completeness for every asset
    assert result.success, [e.metadata["summary"].value for e in run_evaluations(result) if not e.passed]
    rows = store.read(["sft_rows"], days(*SPAN))
    assert "TLT" not in set(rows["asset_symbol"]) and len(set(rows["asset_symbol"])) == 8
    assert store.exclusions(["sft_rows"], days(*SPAN)) == {"TLT": why}
