"""training_set: the sharded, split CSV / JSONL / Parquet export a fine-tuning job reads."""

import itertools
import multiprocessing
import tempfile
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
from dagster import (
    AssetExecutionContext,
    AssetIn,
    MaterializeResult,
    MetadataValue,
    Nothing,
    asset,
)

from portfolio_assets.assets.export_meta import (
    code_version,
    export_text_options,
    fold_config,
    sources_provenance,
    universe_complete,
)
from portfolio_assets.assets.export_range import ExportRange, export_span
from portfolio_assets.assets.gate import gate_status
from portfolio_assets.assets.quality import CHECKS, check_result, check_specs, days_of
from portfolio_assets.assets.sft_rows import BLOCKING_GATE_CHECKS
from portfolio_assets.checks import has_volume_for
from portfolio_assets.codeversion import version_of
from portfolio_assets.columns import FEATURE_COLUMNS, SFT_COLUMNS
from portfolio_assets.engine import EngineResource
from portfolio_assets.export import SHARD_BY, ExportReport, SplitConfig, shard_key
from portfolio_assets.export.exporter import LIGHT_COLUMNS, StreamPlan, encode_chunk, export_stream, plan_stream
from portfolio_assets.export.files import EncodedChunk
from portfolio_assets.export.folds import FoldConfig
from portfolio_assets.export.naming import LATEST, export_name, export_settings, fold_settings, point_latest
from portfolio_assets.export.rowid import synthetic_symbols
from portfolio_assets.features.sft import format_rows, with_pairs
from portfolio_assets.features.sft_output import PAIR_COLUMNS, TextOptions, text_options
from portfolio_assets.io_managers import (
    EXCLUDED_ASSETS,
    PartitionStore,
    file_rows,
    files_schema,
    read_attested,
    read_files,
    recorded_digests,
)
from portfolio_assets.partitions import LABELLED_PARTITIONS, granularity_of
from portfolio_assets.resources import ExportResource, LandingZoneResource
from portfolio_assets.schedules import DAILY_FRESHNESS
from portfolio_assets.schemas import TRAINING_SET_SCHEMAS, TrainingSetSchema, table_schema, validate_rows
from portfolio_assets.schemas.attestation import TIMESTAMP_COLUMNS, attested
from portfolio_assets.spans import HORIZON_DAYS
from portfolio_assets.timeutil import ISO_UTC_FORMAT, strftime_distinct

CHUNK_ROWS = 50_000
"""Rows read, formatted, validated and encoded at once: whole partitions of one shard, at least one."""


TEXT_EXTRAS = ("messages", *PAIR_COLUMNS)
"""The text columns a prompt format adds after the canonical ones (``format_rows``)."""


def csv_ready(rows: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ISO 8601 UTC strings; everything else as stored (what the CSV holds, ``messages``, ``prompt``
    and ``completion`` too)."""
    out = rows[[*SFT_COLUMNS, *(c for c in TEXT_EXTRAS if c in rows.columns)]].copy()
    for column in TIMESTAMP_COLUMNS:
        out[column] = strftime_distinct(out[column], ISO_UTC_FORMAT)
    return out.sort_values(["timestamp", "asset_symbol"], kind="stable").reset_index(drop=True)


def _chunks(counts: Mapping[str, int], shard_by: str, chunk_rows: int) -> list[list[str]]:
    """Consecutive partition keys in groups of at most ``chunk_rows`` rows (a bigger partition alone), never
    two shards in a group; partitions without rows are left out (all of them in one group if none has rows)."""
    keys = [k for k, n in counts.items() if n]
    if not keys:
        return [list(counts)]
    shards = shard_key(pd.Series(pd.to_datetime(keys, utc=True)), shard_by) if shard_by in SHARD_BY else None
    groups: list[list[str]] = []
    held = 0
    for i, key in enumerate(keys):
        new_shard = shards is not None and i > 0 and shards.iloc[i] != shards.iloc[i - 1]
        if not groups or new_shard or held + counts[key] > chunk_rows:
            groups.append([])
            held = 0
        groups[-1].append(key)
        held += counts[key]
    return groups


def _formatted_rows(paths: list[Path], whole: object, prompt_format: str | TextOptions) -> pd.DataFrame:
    """The stored rows in ``prompt_format`` (a format, or ``TextOptions``), with ``prompt`` / ``completion``: the
    stored texts are exported as they are when they are the export's own (``TextOptions.as_stored``: sft_rows
    are written with ``format_rows``' features prompt and default output, unmasked); otherwise every text
    column is written anew from the stored canonical columns."""
    options = text_options(prompt_format)
    rows = read_files(paths, schema=whole)
    if options.as_stored:
        return with_pairs(rows, options.prompt_format)
    return format_rows(
        rows,
        FEATURE_COLUMNS,
        HORIZON_DAYS,
        prompt_format=options.prompt_format,
        output=options.output,
        mask_identity=options.mask_identity,
    )


Recorded = Mapping[Path, tuple[str, str]]
"""Stored file -> (sha256, validation fingerprint) from its commit record (``recorded_digests``)."""


def _judged(
    paths: list[Path],
    whole: object,
    prompt_format: str | TextOptions,
    has_volume: Mapping[str, bool] | None,
    recorded: Recorded,
) -> tuple[pd.DataFrame, int, int, list[str]]:
    """A group's rows in ``prompt_format`` (a format, or ``TextOptions``) and their verdict (valid, invalid rows,
    frame errors) as validating them as written gives it. The stored texts of files the gate stored and validated
    as the export would (``attested``: the bytes it hashed, today's schemas, code and ``has_volume``), exported
    as they are (``TextOptions.as_stored``), are not validated again; their ``prompt`` / ``completion`` are
    made of them here (``with_pairs``), agreeing with them by construction."""
    options = text_options(prompt_format)
    if options.as_stored and paths and all(p in recorded for p in paths):
        rows, fingerprint = read_attested(paths, schema=whole, recorded=recorded)  # type: ignore[arg-type]
        if fingerprint is not None and attested(rows, fingerprint, has_volume):
            return with_pairs(rows, options.prompt_format), len(rows), 0, []
        rows = with_pairs(rows, options.prompt_format)
    else:
        rows = _formatted_rows(paths, whole, options)
    schema = TRAINING_SET_SCHEMAS[options.prompt_format]
    result = validate_rows(csv_ready(rows), schema, has_volume=has_volume, output=options.output)
    return rows, len(result.valid), len(result.invalid), list(result.frame_errors)


def _not_exported(label: str, valid: int, invalid: int, frame_errors: list[str]) -> ValueError:
    summary = f"{valid} valid, {invalid} invalid rows" + (
        f"; frame errors: {'; '.join(frame_errors)}" if frame_errors else ""
    )
    return ValueError(f"{label}: not exported: {summary}")


def _formatted(
    files: Mapping[str, Path],
    groups: list[list[str]],
    *,
    whole: pa.Schema,
    prompt_format: str,
    has_volume: Mapping[str, bool] | None,
    label: str,
    recorded: Recorded,
) -> Iterator[pd.DataFrame]:
    """Each group's sft rows in ``prompt_format`` (``whole``: the files' schema), validated as they will be written
    (``_judged``); once a group fails, the rest are validated but not yielded, and the end raises the error
    validating all rows at once gives."""
    valid = invalid = 0
    frame_errors: list[str] = []
    for keys in groups:
        rows, group_valid, group_invalid, errors = _judged(
            [files[k] for k in keys], whole, prompt_format, has_volume, recorded
        )
        valid, invalid = valid + group_valid, invalid + group_invalid
        frame_errors += [e for e in errors if e not in frame_errors]
        if not invalid and not frame_errors:
            yield rows
    if invalid or frame_errors:
        raise _not_exported(label, valid, invalid, frame_errors)


@dataclass(frozen=True)
class Prepared:
    """A group of partitions read, formatted, validated and (when valid and planned) encoded in a worker."""

    valid: int
    invalid: int
    frame_errors: list[str]
    encoded: EncodedChunk | ValueError | TypeError | None


def prepare_chunk(
    paths: list[Path],
    whole: object,
    prompt_format: str | TextOptions,
    has_volume: Mapping[str, bool] | None,
    plan: StreamPlan | None,
    first_row: int,
    recorded: Recorded | None = None,
) -> Prepared:
    """What ``_formatted`` and ``export_stream`` do with one group, in a worker process: its rows formatted and
    validated (``_judged``: ``recorded`` as ``recorded_digests`` gives it); if all are valid and a ``plan`` is
    given, encoded (``encode_chunk``; its error, if it raises)."""
    rows, valid, invalid, frame_errors = _judged(paths, whole, prompt_format, has_volume, recorded or {})
    encoded: EncodedChunk | ValueError | TypeError | None = None
    if plan is not None and not invalid and not frame_errors:
        try:
            encoded = encode_chunk(
                rows,
                plan.splits,
                plan.formats,
                plan.shard_by,
                synthetic=plan.synthetic,
                first_row=first_row,
                json_valid=True,
            )
        except (ValueError, TypeError) as exc:
            encoded = exc
    return Prepared(valid, invalid, frame_errors, encoded)


def prepare_shipped(files: list[tuple[str, bytes]], *args: object) -> Prepared:
    """``prepare_chunk`` on another host (a Spark task): the group's stored files arrive as (name, bytes) and are
    read from a private directory (their recorded digests follow them), and the encoded chunk goes back as plain
    bytes (``EncodedChunk.portable``). The executors need no access to the store."""
    *rest, recorded = args
    with tempfile.TemporaryDirectory(prefix="portfolio-export-") as tmp:
        paths = []
        for name, data in files:
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(path)
        own = {path: recorded[name] for path, (name, _) in zip(paths, files, strict=True) if name in recorded}  # type: ignore[index,operator]
        prepared = prepare_chunk(paths, *rest, own)  # type: ignore[arg-type]
    encoded = prepared.encoded
    return Prepared(
        prepared.valid,
        prepared.invalid,
        prepared.frame_errors,
        encoded.portable() if isinstance(encoded, EncodedChunk) else encoded,  # type: ignore[arg-type]
    )


def _calls(
    files: Mapping[str, Path],
    groups: list[list[str]],
    counts: Mapping[str, int],
    args: tuple[object, ...],
    recorded: Recorded,
) -> list[tuple[object, ...]]:
    """``prepare_chunk``'s arguments for each group: its files, ``args`` (schema, prompt format, has_volume,
    plan), its first row, its files' recorded digests."""
    calls, first_row = [], 0
    for keys in groups:
        paths = [files[k] for k in keys]
        calls.append((paths, *args, first_row, {p: recorded[p] for p in paths if p in recorded}))
        first_row += sum(counts[k] for k in keys)
    return calls


def _in_workers(calls: list[tuple[object, ...]], workers: int) -> Iterator[Prepared]:
    """``prepare_chunk`` of each call in ``workers`` processes, in order; at most ``workers`` calls in flight
    besides the one being written: what is held is bounded by the group size, not by the export."""
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited Dagster threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[Prepared]] = deque()
        queue = iter(calls)
        for args in itertools.islice(queue, workers):
            pending.append(pool.submit(prepare_chunk, *args))
        while pending:
            prepared = pending.popleft().result()
            for args in itertools.islice(queue, 1):
                pending.append(pool.submit(prepare_chunk, *args))
            yield prepared


def _shipped(call: tuple[object, ...]) -> tuple[object, ...]:
    """A ``prepare_chunk`` call as ``prepare_shipped`` takes it: its files' bytes instead of their paths (named by
    position, so two partitions never share a name), the recorded digests keyed by those names."""
    paths, *rest, recorded = call
    names = [f"{i:04d}-{p.name}" for i, p in enumerate(paths)]  # type: ignore[attr-defined]
    files = [(name, p.read_bytes()) for name, p in zip(names, paths, strict=True)]  # type: ignore[call-overload]
    own = {name: recorded[p] for name, p in zip(names, paths, strict=True) if p in recorded}  # type: ignore[call-overload,index,operator]
    return (files, *rest, own)


def _on_engine(calls: list[tuple[object, ...]], engine: EngineResource, wave: int) -> Iterator[Prepared]:
    """``prepare_chunk`` of each call as Spark tasks, ``wave`` calls a job, in order; each task gets its group's
    stored Parquet bytes (``prepare_shipped``), so the executors need not see the store. The next job runs
    while this process writes the chunks of the one before (two jobs' chunks held at most)."""

    def job(start: int) -> list[Prepared]:
        return engine.map_calls(prepare_shipped, [_shipped(call) for call in calls[start : start + wave]])

    with ThreadPoolExecutor(max_workers=1) as ahead:
        pending = ahead.submit(job, 0)
        for start in range(0, len(calls), wave):
            done = pending.result()
            if start + wave < len(calls):
                pending = ahead.submit(job, start + wave)
            for prepared in done:
                encoded = prepared.encoded
                yield Prepared(
                    prepared.valid,
                    prepared.invalid,
                    prepared.frame_errors,
                    EncodedChunk.from_portable(encoded) if isinstance(encoded, tuple) else encoded,
                )


def _verdict(prepared: Iterator[Prepared], label: str) -> Iterator[EncodedChunk | ValueError | TypeError]:
    """The encoded chunks of ``prepared`` groups with ``_formatted``'s verdict: once a group fails, the rest are
    validated but not yielded, and the end raises the error validating all rows at once gives."""
    valid = invalid = 0
    frame_errors: list[str] = []
    for group in prepared:
        valid, invalid = valid + group.valid, invalid + group.invalid
        frame_errors += [e for e in group.frame_errors if e not in frame_errors]
        if not invalid and not frame_errors and group.encoded is not None:
            yield group.encoded
    if invalid or frame_errors:
        raise _not_exported(label, valid, invalid, frame_errors)


def export_partitions(
    files: Mapping[str, Path],
    out_dir: Path,
    *,
    split: SplitConfig,
    shard_by: str,
    prompt_format: str | TextOptions,
    provenance: Callable[[], Mapping[str, object]],
    synthetic: Collection[str] = (),
    has_volume: Mapping[str, bool] | None = None,
    label: str = "training_set",
    chunk_rows: int = CHUNK_ROWS,
    workers: int = 1,
    engine: EngineResource | None = None,
    folds: FoldConfig | None = None,
) -> tuple[ExportReport, list[str]]:
    """The training set of stored sft_rows partitions (``PartitionStore.files``, in time order), and its assets.

    What formatting, validating and exporting all the rows at once does (the same files and
    errors; ``label`` starts a validation error), holding one chunk of partitions at a time:
    a first pass reads ``LIGHT_COLUMNS`` of every row (the split, the manifest's counts).
    ``workers`` > 1: chunks of ``chunk_rows / workers`` rows are formatted, validated and encoded in that
    many worker processes, this one writing them in order (the same bytes and errors). With a Spark ``engine``,
    chunks of ``chunk_rows / P`` rows are Spark tasks instead, P a job (P: the cluster's task slots).
    The features prompt of files the gate validated and stored unchanged is not validated again (``_judged``).
    ``prompt_format``: a format, or ``TextOptions`` (the output format and identity masking too). ``folds``: the
    walk-forward folds (``export.folds.FoldConfig``) ``export_stream`` writes beside the manifest; None: none.
    ``synthetic``: the symbols whose own price series is synthetic (the rows' ``is_synthetic``)."""
    paths = list(files.values())
    recorded = recorded_digests(paths) if text_options(prompt_format).as_stored else {}
    whole = files_schema(paths)  # every file's footer, read once
    light = read_files(paths, columns=LIGHT_COLUMNS, schema=whole)
    counts = dict(zip(files, (file_rows(p) for p in paths), strict=True))
    # the workers share the chunk budget: as many rows are held at once as in one process
    on_spark = engine is not None and engine.uses_spark
    spread = engine.parallelism() if on_spark else workers  # type: ignore[union-attr]
    groups = _chunks(counts, shard_by, chunk_rows if spread <= 1 else max(1, chunk_rows // spread))
    chunks: Iterator[pd.DataFrame | EncodedChunk | ValueError | TypeError]
    if spread > 1 and len(groups) > 1:
        try:
            plan: StreamPlan | None = plan_stream(light, split=split, shard_by=shard_by, synthetic=synthetic)
        except (ValueError, TypeError):
            plan = None  # export_stream raises it, after the validation's verdict
        args = (whole, prompt_format, has_volume, plan)
        calls = _calls(files, groups, counts, args, recorded)
        prepared = _on_engine(calls, engine, spread) if on_spark else _in_workers(calls, workers)  # type: ignore[arg-type]
        chunks = _verdict(prepared, label)
    else:
        chunks = _formatted(
            files,
            groups,
            whole=whole,
            prompt_format=prompt_format,
            has_volume=has_volume,
            label=label,
            recorded=recorded,
        )
    report = export_stream(
        light,
        chunks,
        out_dir,
        split=split,
        shard_by=shard_by,
        provenance=provenance,
        synthetic=synthetic,
        folds=folds,
        json_valid=True,
    )
    return report, sorted(light["asset_symbol"].unique())


CODE_VERSION = version_of(__name__)
"""The code version of this module's assets (``codeversion``): the UI shows them stale after a change."""


@asset(
    code_version=CODE_VERSION,
    freshness_policy=DAILY_FRESHNESS,
    group_name="training_set",
    # Unpartitioned: a materialisation is one export (export_range). Not loaded: the export reads the stored
    # partitions a chunk at a time (export_partitions); the default mapping is every sft_rows partition.
    ins={"sft_rows": AssetIn(dagster_type=Nothing)},
    kinds={"csv", "parquet"},
    metadata={"dagster/column_schema": table_schema(TrainingSetSchema)},
    check_specs=check_specs("training_set", ["universe_complete"]),
)
def training_set(
    context: AssetExecutionContext,
    config: ExportRange,
    export: ExportResource,
    landing: LandingZoneResource,
    engine: EngineResource,
) -> MaterializeResult:
    """The training set for the fine-tuning job, one export per materialisation: the sft_rows of the run config's
    days (first_day / last_day), else of the labelled partitions the run targets, else of every labelled day,
    as CSV, JSONL and Parquet under <export dir>/training_set_<first>_<last>_<prompt format>_<settings digest>/
    (earlier exports are kept; LATEST.json there names the newest), sharded by date range (`shard_by`), split in
    time order into train / validation / test with purged label windows and an embargo, with manifest.json (rows
    per split/shard/asset, sha256 of every file, schema, real vs synthetic sources, checks passed, code version)
    and a dataset card. Deterministic: the same partitions give byte-identical files. Written atomically; a
    failed export leaves the previous one and its materialisation. Refuses to export past a failed gate check."""
    span = export_span(context, config)
    first, last, keys = span.first, span.last, span.keys
    context.log.info(f"training_set: exporting {span.days} ({span.source}; sft_rows {keys[0]}..{keys[-1]})")
    store = PartitionStore(export.storage.store_root())
    files = store.files(["sft_rows"], keys, granularity=granularity_of(LABELLED_PARTITIONS))
    excluded: dict[str, str] = {}

    def provenance() -> dict[str, object]:
        # Once every row is validated: which assets the rows leave out, and the gate's verdict.
        excluded.update(store.exclusions(["sft_rows"], keys))
        checks = gate_status(context.instance, store, list(BLOCKING_GATE_CHECKS), keys, log=context.log.info)
        return {
            "partitions": {"first": f"{first:%Y-%m-%d}", "last": f"{last:%Y-%m-%d}", "count": (last - first).days + 1},
            "sources": sources_provenance(landing),
            "checks": {name: {"blocking": CHECKS[name][0], **status} for name, status in checks.items()},
            "excluded_assets": excluded,
            "code_version": code_version(),
            "prompt_format": export.prompt_format,
            "context_window": export.context_window,
            "horizon_days": HORIZON_DAYS,
            "output": {
                "fields": list(options.output.fields),
                "return_decimals": options.output.return_decimals,
                "described": options.output.describe(timeseries=options.prompt_format == "timeseries"),
            },
            "mask_identity": options.mask_identity,
            "folds": fold_settings(export),
        }

    # sft_rows holds the canonical (features) prompt, exported as stored; other formats are derived
    # from the stored columns here; the rows are validated as they will be written, in the chosen format.
    options = export_text_options(export)
    folds = fold_config(export)
    name = export_name(export, first, last)
    report, assets = export_partitions(
        files,
        export.storage.export_root() / name,
        split=SplitConfig(
            validation_start=export.validation_start,
            test_start=export.test_start,
            embargo_days=export.embargo_days,
        ),
        shard_by=export.shard_by,
        prompt_format=options,
        provenance=provenance,
        synthetic=synthetic_symbols(sources_provenance(landing), landing.universe()),
        has_volume=has_volume_for(landing.universe().assets),
        label=f"training_set {span.days}",
        workers=export.workers,
        engine=engine,
        folds=folds,
    )
    point_latest(export.storage.export_root(), name, first, last)  # once the export is whole
    return MaterializeResult(
        check_results=[
            check_result(universe_complete(excluded, sorted(landing.universe().symbols)), days=days_of(first, last))
        ],
        metadata={
            EXCLUDED_ASSETS: MetadataValue.json(excluded),
            "path": MetadataValue.path(str(report.out_dir)),
            "manifest": MetadataValue.path(str(report.manifest_path)),
            "rows": int(sum(report.rows.values())),
            "rows_per_split": MetadataValue.json(report.rows),
            "excluded_rows": MetadataValue.json({**report.excluded, "by_boundary": report.excluded_by_boundary}),
            "boundaries": MetadataValue.json({k: str(v) for k, v in report.boundaries.items()}),
            "files": len(report.files),
            "assets": ", ".join(assets),
            "date_range": span.days,
            "range_from": span.source,
            "partitions": f"{keys[0]}..{keys[-1]} ({len(keys)} sft_rows partitions)",
            "settings": MetadataValue.json(export_settings(export)),
            "engine": engine.describe(),
            "latest": MetadataValue.path(str(export.storage.export_root() / LATEST)),
        },
    )
