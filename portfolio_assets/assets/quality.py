"""Glue between the pure checks / schemas and Dagster asset checks.

Every check runs inside the asset's own step on the frame the run produced,
so it covers exactly the partitions the run materialised (a separate
``@asset_check`` on a partitioned asset would load every partition).
"""

import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import pandas as pd
from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MetadataValue,
    PartitionsDefinition,
    PreviewWarning,
)

from portfolio_assets.checks import FAILURE_COLUMNS, CheckOutcome, failures_markdown
from portfolio_assets.checks.outcome import readable_tables
from portfolio_assets.io_managers import BLOCKED_BY
from portfolio_assets.schemas import ValidationResult

# name -> (blocking, what it means); the README's "Checks" section says what to do.
CHECKS: dict[str, tuple[bool, str]] = {
    "schema": (
        True,
        "Every row matches the group's pandera schema: dtypes, class-aware nullability, ranges, "
        "uniqueness of (timestamp, asset_symbol). Offending rows are listed.",
    ),
    "completeness": (True, "At least 95% of each asset's dates have every applicable feature (after warm-up)."),
    "temporal_gaps": (
        True,
        "No asset has a gap longer than 7 days on its own calendar (weekends are not gaps "
        "for weekday-calendar assets).",
    ),
    "rsi_bounds": (True, "rsi_14 is within 0..100."),
    "point_in_time": (
        True,
        "No row used a value that became available after its decision time (its own price bar's end): every "
        "feature's available_at (bar end, benchmark window, macro release, sentiment day end or Trends download) "
        "is at or before the row's decision_time. A case names the row, the column and both instants.",
    ),
    "target_coverage": (True, "Every labelled row has its 90-day targets."),
    "feature_distribution": (
        False,
        "Report: robust z-scores of daily moves per class; one-day jumps that look "
        "like a bad tick or an unadjusted split.",
    ),
    "cross_source_consistency": (False, "Report: CoinGecko's close against Alpha Vantage's, within 1%."),
    "suspect_moves": (
        False,
        "Report: rows touched by a bad tick or an unadjusted split (their own day, or a label reaching it) are "
        "held in the quarantine instead of exported; moves listed under accepted_moves in the universe are kept.",
    ),
    "fetch": (
        False,
        "Every series the source's partitions need was fetched, or found fresh in the landing zone. A failed "
        "series names the universe assets it leaves out of this build (prices and sentiment build every other "
        "asset; training_set names them in universe_complete); a reference series (CoinGecko) only reports.",
    ),
    "universe_complete": (
        True,
        "Every universe asset is in the export. An asset left out because one of its sources failed is named "
        "here and under excluded_assets in the manifest; the export of the others is written. Fix the cause, "
        "re-run the source and the range, and the asset is filled in.",
    ),
    "feature_target_ic": (
        False,
        "Report: Spearman information coefficient of every feature against the 90-day log return.",
    ),
}


def check_specs(
    asset_name: str, names: Sequence[str], partitions_def: PartitionsDefinition | None = None
) -> list[AssetCheckSpec]:
    """Specs for ``names`` on ``asset_name``; blocking ones stop downstream assets in the run.

    ``partitions_def`` (the asset's): a run of one partition (a daily schedule's) records each evaluation against
    that partition. A run of several records it unpartitioned (Dagster has no range for an evaluation), and every
    result names the days it checked (``partition_range``). None: an unpartitioned check."""
    with warnings.catch_warnings():
        # Partitioned check specs are a preview feature of Dagster 1.13: said once here, not at every import.
        warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec", category=PreviewWarning)
        return [
            AssetCheckSpec(
                name,
                asset=asset_name,
                blocking=CHECKS[name][0],
                description=CHECKS[name][1],
                partitions_def=partitions_def,
            )
            for name in names
        ]


def check_result(outcome: CheckOutcome, *, days: str = "") -> AssetCheckResult:
    """A Dagster check result whose metadata names the assets, dates, column and count, and (``days``,
    ``first..last``) the days of the partitions it checked."""
    metadata: dict[str, object] = {"summary": outcome.summary}
    if days:
        metadata["partition_range"] = days
    for key, value in outcome.metadata.items():
        metadata[key] = MetadataValue.json(value) if isinstance(value, (dict, list)) else value
    for name, table in readable_tables(outcome).items():
        metadata[name] = MetadataValue.md(table)
    if len(outcome.failures):
        metadata["failure_cases"] = MetadataValue.md(failures_markdown(outcome))
    return AssetCheckResult(
        check_name=outcome.name,
        passed=outcome.passed,
        severity=AssetCheckSeverity.ERROR if outcome.severity == "ERROR" else AssetCheckSeverity.WARN,
        metadata=metadata,
        description=outcome.summary,
    )


def per_partition(context: AssetExecutionContext, results: Iterable[AssetCheckResult]) -> Iterator[AssetCheckResult]:
    """``results``, each first recorded against every partition of a run of several.

    Dagster 1.13 records a partitioned check's evaluation against its partition only in a run of one partition;
    in a run of a range it records it unpartitioned and leaves each partition's check "planned", which the UI
    shows as skipped although the check covered it. So each partition gets an evaluation of its own: the run's
    verdict (the check ran over the run's partitions together, and a failed blocking check keeps all of them
    from downstream), its days and a pointer to the run's evaluation, which holds the cases."""
    specs = {spec.name: spec for spec in context.assets_def.check_specs}
    for result in results:
        spec = specs.get(result.check_name or "")
        if spec is not None and spec.partitions_def is not None and not context.has_partition_key:
            checked = result.metadata.get("partition_range")
            metadata = {"partition_range": checked} if checked is not None else {}
            metadata["cases"] = "on this run's evaluation of the check, over all its partitions"
            for key in context.partition_keys:
                context.log_event(
                    AssetCheckEvaluation(  # type: ignore[arg-type]  # log_event takes them (Dagster 1.13)
                        asset_key=spec.asset_key,
                        check_name=spec.name,
                        passed=result.passed,
                        metadata=metadata,
                        severity=result.severity,
                        description=result.description,
                        blocking=spec.blocking,
                        partition=key,
                    )
                )
        yield result


def check_results(outcomes: Iterable[CheckOutcome], *, days: str = "") -> list[AssetCheckResult]:
    """Dagster check results of ``outcomes``, in order (``days``: the partitions' days they checked)."""
    return [check_result(o, days=days) for o in outcomes]


def days_of(first: object, last: object) -> str:
    """``YYYY-MM-DD..YYYY-MM-DD``: the days a run checked."""
    return f"{first:%Y-%m-%d}..{last:%Y-%m-%d}"


def failed_blocking(results: Iterable[AssetCheckResult]) -> list[str]:
    """Names of the blocking checks among ``results`` that failed."""
    return [r.check_name for r in results if CHECKS[r.check_name][0] and not r.passed]


def checked_metadata(metadata: dict[str, object], results: Iterable[AssetCheckResult]) -> dict[str, object]:
    """``metadata`` plus ``blocked_by`` when a blocking check failed: the store then keeps the partitions
    for diagnosis but refuses to hand them to any downstream asset."""
    failed = failed_blocking(results)
    return {**metadata, BLOCKED_BY: ", ".join(failed)} if failed else metadata


@dataclass
class SchemaCounts:
    """What the ``schema`` check needs of a validation (``schema_counts``): several, of disjoint rows, merge."""

    rows_valid: int
    invalid_assets: list[str] | None
    """The asset of each invalid row (None: the frame has no ``asset_symbol``)."""
    failures: pd.DataFrame
    frame_errors: list[str]


def schema_counts(result: ValidationResult) -> SchemaCounts:
    """The ``SchemaCounts`` of a validation."""
    assets = list(map(str, result.invalid["asset_symbol"])) if "asset_symbol" in result.invalid else None
    return SchemaCounts(len(result.valid), assets, result.failures, list(result.frame_errors))


def schema_outcome(result: ValidationResult, group: str, *, max_cases: int = 50) -> CheckOutcome:
    """The pandera validation of a group's frame as a blocking ``schema`` check."""
    return schema_outcome_of([schema_counts(result)], group, max_cases=max_cases)


def schema_outcome_of(
    parts: Sequence[SchemaCounts], group: str, *, max_cases: int = 50, order: Sequence[str] = ()
) -> CheckOutcome:
    """The ``schema`` check of the validations of parts of a frame (at least one), as one: consecutive parts, or
    whole assets of a frame sorted by ``order`` (their failures are put in that order)."""
    failures = pd.concat([p.failures for p in parts], ignore_index=True) if len(parts) > 1 else parts[0].failures
    if order and len(parts) > 1:
        failures = failures.sort_values(list(order), kind="stable", ignore_index=True)
    frame_errors = list(dict.fromkeys(e for p in parts for e in p.frame_errors))
    invalid = [a for p in parts for a in (p.invalid_assets or [])]
    named = any(p.invalid_assets is not None for p in parts)
    ok = not frame_errors and not invalid
    cases = failures.rename(columns={"failure_case": "value", "error": "reason"})
    cases = cases.reindex(columns=FAILURE_COLUMNS).head(max_cases)
    per_column = failures["column"].value_counts().sort_index().to_dict() if len(failures) else {}
    if ok:
        summary = f"{group}: all {sum(p.rows_valid for p in parts)} rows match the schema"
    else:
        texts = [f"{len(invalid)} invalid row(s)"]
        if per_column:
            texts.append("columns " + ", ".join(f"{c} ({n})" for c, n in per_column.items()))
        if invalid and named:
            texts.append("assets " + ", ".join(sorted(set(invalid))))
        if frame_errors:
            texts.append("frame errors: " + "; ".join(frame_errors))
        summary = f"{group}: " + "; ".join(texts)
    return CheckOutcome(
        name="schema",
        passed=ok,
        severity="ERROR",
        summary=summary,
        metadata={
            "failure_count": len(failures) + len(frame_errors),
            "invalid_rows": len(invalid),
            "failures_per_column": {str(k): int(v) for k, v in per_column.items()},
            "frame_errors": frame_errors,
        },
        failures=cases,
    )
