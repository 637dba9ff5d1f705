"""Which labelled days an export holds (``assets/export_range.py``): the run config, else the run's partitions
(or its backfill's), else every labelled day; config days are checked, naming the setting."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, PartitionKeyRange
from dagster._core.execution.backfill import PartitionBackfill

from portfolio_assets.assets.export_range import (
    ExportRange,
    ExportRangeError,
    backfill_keys,
    configured,
    default_span,
    export_run_config,
    span_of,
    whole_window,
)
from portfolio_assets.definitions import defs
from portfolio_assets.partitions import LABELLED_PARTITIONS, day_bounds


def days(span) -> tuple[str, str]:
    return f"{span.first:%Y-%m-%d}", f"{span.last:%Y-%m-%d}"


def no_backfill() -> tuple[str, list[str]]:
    return "", []


def test_the_default_is_the_runs_partitions_else_every_labelled_day():
    # a scheduled run: one partition (its dagster/partition tag); a single-run backfill: a range
    one = default_span(PartitionKeyRange("2010-03-01", "2010-03-01"), no_backfill)
    assert (one.keys, days(one), one.source) == (["2010-03-01"], ("2010-03-01", "2010-03-31"), "run partitions")
    ranged = default_span(PartitionKeyRange("2010-02-01", "2010-09-01"), no_backfill)
    assert len(ranged.keys) == 8 and ranged.days == "2010-02-01..2010-09-30"
    every = default_span(None, no_backfill)
    low, high = day_bounds(labelled=True)
    assert every == whole_window() and every.keys == LABELLED_PARTITIONS.get_partition_keys()
    assert days(every) == (str(low), str(high)) and every.source == "labelled window"
    # a run without partitions launched by an asset backfill: the backfill's labelled partitions
    assert default_span(None, lambda: ("b1", ["2011-01-01", "2011-03-01"])).days == "2011-01-01..2011-03-31"
    with pytest.raises(ExportRangeError, match=r"2008-01-01\.\.2008-01-01 \(run partitions\) are not labelled"):
        default_span(PartitionKeyRange("2008-01-01", "2008-01-01"), no_backfill)


def test_config_days_are_exported_and_one_left_out_is_the_defaults():
    march = lambda: span_of("2010-03-01", "2010-03-01", "run partitions")  # noqa: E731
    span = configured(ExportRange(first_day="2010-01-01", last_day="2010-06-30"), march)
    assert (span.keys[0], span.keys[-1], span.days, span.source) == (
        "2010-01-01",
        "2010-06-01",
        "2010-01-01..2010-06-30",
        "config",
    )
    assert configured(ExportRange(first_day="2010-01-01"), march).days == "2010-01-01..2010-03-31"
    assert configured(ExportRange(), march) == march()
    # what the runner passes for days naming partitions: their labelled days
    assert export_run_config("2010-03-15", "2010-04-02") == {
        "ops": {"training_set": {"config": {"first_day": "2010-03-01", "last_day": "2010-04-30"}}}
    }


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2010-13-01", "2010-06-30", "training_set config first_day='2010-13-01' is not a day (YYYY-MM-DD)"),
        ("2010-01-01", "June", "training_set config last_day='June' is not a day (YYYY-MM-DD)"),
        ("2010-06-01", "2010-03-31", "training_set config last_day=2010-03-31 is before first_day=2010-06-01"),
        (
            "2008-01-01",
            "2010-03-31",
            "training_set config first_day..last_day 2008-01-01..2010-03-31 is outside the labelled days "
            "2009-01-01..2012-11-30",
        ),
        (
            "2012-01-01",
            "2012-12-31",
            "training_set config first_day..last_day 2012-01-01..2012-12-31 is outside the labelled days",
        ),
        (
            "2010-03-15",
            "2010-04-30",
            "training_set config first_day..last_day 2010-03-15..2010-04-30: an export holds whole monthly "
            "partitions, whose labelled days here are 2010-03-01..2010-04-30; set first_day=2010-03-01 and "
            "last_day=2010-04-30",
        ),
    ],
)
def test_config_days_are_refused_naming_the_setting(first, last, message):
    with pytest.raises(ExportRangeError) as raised:
        configured(ExportRange(first_day=first, last_day=last), whole_window)
    assert message in str(raised.value)


def test_a_run_of_an_asset_backfill_exports_the_backfills_labelled_partitions():
    """Dagster runs an unpartitioned asset of an asset backfill (the UI's Materialize → partitions) in a run of
    its own, without partition tags: the export takes the labelled partitions the backfill targets."""
    graph = defs.get_repository_def().asset_graph
    with DagsterInstance.ephemeral() as instance:
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id="bf1",
            asset_graph=graph,
            partition_names=["2010-03-01", "2010-04-01", "2010-05-01"],
            asset_selection=[AssetKey(n) for n in ("targets", "quarantine", "sft_rows", "training_set")],
            backfill_timestamp=time.time(),
            tags={},
            dynamic_partitions_store=instance,
            all_partitions=False,
            title=None,
            description=None,
            run_config=None,
        )
        instance.add_backfill(backfill)
        found = backfill_keys(instance, {"dagster/backfill": "bf1"}, graph)
        assert found == ("bf1", ["2010-03-01", "2010-04-01", "2010-05-01"])
        span = default_span(None, lambda: found)
        assert (span.days, span.source) == ("2010-03-01..2010-05-31", "backfill bf1")
        assert backfill_keys(instance, {}, graph) == ("", [])
        assert backfill_keys(instance, {"dagster/backfill": "gone"}, graph) == ("", [])


def test_days_are_cut_to_the_labelled_window():
    low, high = day_bounds(labelled=True)
    last_key = LABELLED_PARTITIONS.get_last_partition_key()
    span = span_of(last_key, last_key, "run partitions")
    assert span.last == pd.Timestamp(high, tz="UTC") and span.first >= pd.Timestamp(low, tz="UTC")
