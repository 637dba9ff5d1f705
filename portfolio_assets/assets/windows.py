"""Days of a run, and the partitions of the days an asset reads from its inputs.

A run's days are its partitions' days cut to the window the partitions stand for
(``partitions.day_bounds``): a month partition may hold days before the window's
first day or after its last. An asset that needs a lookback or a look-ahead
states the days it needs, refuses to compute when the input's partitions do not
hold them (:func:`input_keys`), reads the partitions holding them from the store
and keeps exactly those days (:func:`in_window`), so its values do not depend on
the partitions' granularity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
from dagster import AssetExecutionContext

from portfolio_assets.errors import PartitionWindowError
from portfolio_assets.partitions import LABELLED_PARTITIONS, day_bounds, keys_holding


def _utc(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def run_window(context: AssetExecutionContext) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The run's days as [first day, last day] UTC midnights: its partitions cut to their window."""
    window = context.partition_time_window
    partitions_def = context.assets_def.partitions_def
    low, high = day_bounds(labelled=partitions_def == LABELLED_PARTITIONS)
    first = max(_utc(window.start), pd.Timestamp(low, tz="UTC"))
    last = min(_utc(window.end) - pd.Timedelta(days=1), pd.Timestamp(high, tz="UTC"))
    if first > last:
        raise PartitionWindowError(
            f"{context.assets_def.key.to_user_string()}: partitions {context.partition_key_range.start}.."
            f"{context.partition_key_range.end} hold no day of {low}..{high}"
            + (" (a day is labelled once its 90-day horizon has passed)" if high < _utc(window.start).date() else "")
        )
    return first, last


def input_keys(
    context: AssetExecutionContext, input_name: str, *, first_day: pd.Timestamp, last_day: pd.Timestamp
) -> list[str]:
    """The keys of input ``input_name``'s partitions holding ``first_day..last_day``; raises unless its
    partitions, cut to their window, hold every one of those days.

    Dagster hands an asset its inputs' partitions of the same days (the dependency is identity, so a backfill
    does not fan out); an asset that looks back or ahead reads the days it needs by these keys from the store,
    which names any partition not materialised.
    """
    partitions_def = context.asset_partitions_def_for_input(input_name)
    low, high = day_bounds(labelled=partitions_def == LABELLED_PARTITIONS)
    if first_day.date() < low or last_day.date() > high:
        raise PartitionWindowError(
            f"{context.assets_def.key.to_user_string()}: input '{input_name}' covers {low}..{high} but this run "
            f"needs {first_day:%Y-%m-%d}..{last_day:%Y-%m-%d}; materialise the missing upstream partitions "
            "(or widen the configured window)"
        )
    return keys_holding(partitions_def, first_day.date(), last_day.date())  # type: ignore[arg-type]


def clamp_lookback(first_day: pd.Timestamp, lookback_days: int, data_start: pd.Timestamp) -> pd.Timestamp:
    """Start of a lookback window, truncated only by the first observation day."""
    return max(first_day - timedelta(days=lookback_days), data_start)


def in_window(frame: pd.DataFrame, first_day: pd.Timestamp, last_day: pd.Timestamp) -> pd.DataFrame:
    """Rows whose ``timestamp`` falls on the run's days."""
    ts = frame["timestamp"]
    return frame[(ts >= first_day) & (ts < last_day + pd.Timedelta(days=1))].reset_index(drop=True)


@dataclass
class RunSummary:
    """The whole run's summary of one output.

    ``metadata`` goes on the output, and Dagster copies an output's metadata onto every partition's
    materialisation: it holds small run-scoped fields only (``run_rows``, ``run_partition_range``,
    ``run_date_range``, and what the step adds). Each partition's own rows, assets, days and preview are put on
    its own event where it is stored (``partsummary``). The rows per asset and the run's ``reports`` (its
    tables) are logged once, on the run (``log_run``)."""

    metadata: dict[str, object]
    per_asset: dict[str, int] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)
    """Title -> Markdown or JSON text of a table of the whole run (a count per field, the rules applied)."""


def run_summary(frame: pd.DataFrame, first_day: pd.Timestamp, last_day: pd.Timestamp) -> RunSummary:
    """The ``RunSummary`` of a run's output frame."""
    return summary_of([summary_part(frame)], first_day, last_day)


def summary_part(frame: pd.DataFrame) -> dict[str, object]:
    """What ``summary_of`` needs of a frame, or of each part of one (an asset's rows on Spark)."""
    part: dict[str, object] = {"rows": len(frame), "columns": list(frame.columns), "tail": frame.tail(5)}
    if "asset_symbol" in frame.columns:
        part["per_asset"] = frame["asset_symbol"].value_counts().to_dict()
    if len(frame):
        part["span"] = (frame["timestamp"].min(), frame["timestamp"].max())
    return part


def summary_of(parts: list[dict[str, object]], first_day: pd.Timestamp, last_day: pd.Timestamp) -> RunSummary:
    """The ``RunSummary`` of the frame ``parts`` (``summary_part``) were cut from."""
    meta: dict[str, object] = {
        "run_rows": sum(int(p["rows"]) for p in parts),  # type: ignore[call-overload]
        "run_partition_range": f"{first_day:%Y-%m-%d}..{last_day:%Y-%m-%d}",
    }
    spans = [p["span"] for p in parts if "span" in p]
    if spans:
        meta["run_date_range"] = f"{min(s[0] for s in spans):%Y-%m-%d}..{max(s[1] for s in spans):%Y-%m-%d}"
    per_asset: dict[str, int] = {}
    for part in parts:
        for symbol, rows in part.get("per_asset", {}).items():  # type: ignore[attr-defined]
            per_asset[str(symbol)] = per_asset.get(str(symbol), 0) + int(rows)
    return RunSummary(meta, dict(sorted(per_asset.items())))


def report_json(value: object) -> str:
    """A run's report as compact JSON text (for ``RunSummary.reports``)."""
    return json.dumps(value, default=str)


def log_run(context: AssetExecutionContext, name: str, run: RunSummary) -> None:
    """Log the run's summary of output ``name`` once: its rows and days, the rows per asset, its reports."""
    meta = run.metadata
    days = f", days {meta['run_date_range']}" if "run_date_range" in meta else ""
    lines = [f"{name} {meta['run_partition_range']}: {int(meta['run_rows']):,} rows{days}"]  # type: ignore[call-overload]
    if run.per_asset:
        lines += ["", "| asset | rows |", "|---|---:|", *(f"| {s} | {n:,} |" for s, n in run.per_asset.items())]
    for title, text in run.reports.items():
        lines += ["", f"{title}:", text]
    context.log.info("\n".join(lines))
