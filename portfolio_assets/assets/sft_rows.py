"""The gate and sft_rows: every candidate row built once, checked, and either held or exported."""

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace

import numpy as np
import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    BackfillPolicy,
    Failure,
    MetadataValue,
    Nothing,
    Output,
    multi_asset,
)

from portfolio_assets.assets.gate_checks import GATE_SIDES, gate_partial, gate_results
from portfolio_assets.assets.gate_checks import TARGET as IC_TARGET
from portfolio_assets.assets.quality import CHECKS, check_specs, failed_blocking, per_partition
from portfolio_assets.assets.stored import Source, Step, commit, given_up_on_error, read_source, run_step
from portfolio_assets.assets.windows import (
    clamp_lookback,
    in_window,
    log_run,
    run_window,
)
from portfolio_assets.checks import (
    calendars_for,
    feature_distribution,
    has_volume_for,
    last_trading_days_for,
    no_target_reasons,
    suspect_moves,
)
from portfolio_assets.codeversion import version_of
from portfolio_assets.columns import (
    AVAILABLE_AT,
    CROSS_ASSET_AVAILABILITY,
    DECISION_TIME,
    FEATURE_COLUMNS,
    INDICATOR_COLUMNS,
    MACRO_AVAILABILITY,
    MACRO_COLUMNS,
    PRICE_COLUMNS,
    SENTIMENT_AVAILABILITY,
    SFT_COLUMNS,
    TARGET_COLUMNS,
    not_applicable,
)
from portfolio_assets.direct import StepCall
from portfolio_assets.engine import EngineResource
from portfolio_assets.features.adjustment import ADJUSTMENT_COLUMNS, adjusted_close, factors_of
from portfolio_assets.features.registry import SENTIMENT_FIELDS
from portfolio_assets.features.sft import context_windows, format_rows
from portfolio_assets.io_managers import EXCLUDED_ASSETS, VALIDATED, PartitionStore
from portfolio_assets.partitions import LABELLED_PARTITIONS
from portfolio_assets.resources import ExportResource, LandingZoneResource
from portfolio_assets.schedules import DAILY_FRESHNESS
from portfolio_assets.schemas import SftRowsSchema, table_schema, validate_rows
from portfolio_assets.settings import WINDOW
from portfolio_assets.spans import CONTEXT_LOOKBACK_DAYS, HORIZON_DAYS
from portfolio_assets.universe import Universe


def join_features(
    prices: pd.DataFrame,
    indicators: pd.DataFrame,
    macro: pd.DataFrame,
    sentiment: pd.DataFrame,
    targets: pd.DataFrame,
) -> pd.DataFrame:
    """One row per (asset, trading day) of ``prices``, with every feature and target, the row's
    ``decision_time`` (its bar end) and every feature's availability column (``available_column``).

    Duplicated keys in any input are not resolved here: they surface as duplicated
    rows, which the schema's uniqueness check quarantines.
    """
    keys = ["asset_symbol", "timestamp"]
    own = prices[[c for c in PRICE_COLUMNS if c not in ("source", *ADJUSTMENT_COLUMNS)]]
    own = own.rename(columns={AVAILABLE_AT: DECISION_TIME}).reset_index(drop=True)
    # Macro as available at each row's own decision time (its bar end), not at the day's.
    parts = [
        (indicators[[*keys, *INDICATOR_COLUMNS, AVAILABLE_AT, *CROSS_ASSET_AVAILABILITY]], keys),
        (sentiment[[*keys, *SENTIMENT_FIELDS, *SENTIMENT_AVAILABILITY]], keys),
        (macro[["timestamp", DECISION_TIME, *MACRO_COLUMNS, *MACRO_AVAILABILITY]], ["timestamp", DECISION_TIME]),
        (targets[[*keys, *TARGET_COLUMNS]], keys),
    ]
    added = [c for right, on in parts for c in right.columns if c not in on]
    if len(set(added)) == len(added) and not set(added) & set(own.columns):
        # Each input joined to the keys alone, the columns put side by side once: the chain of merges below
        # copied the growing frame at every step. The same frame while no row meets two rows of an input.
        found = [own[on].merge(right, on=on, how="left").drop(columns=on) for right, on in parts]
        if all(len(frame) == len(own) for frame in found):
            return pd.concat([own, *found], axis=1)
    joined = own
    for right, on in parts:
        joined = joined.merge(right, on=on, how="left")
    return joined


def build_sft_rows(joined: pd.DataFrame, context: pd.Series, universe: Universe) -> pd.DataFrame:
    """Format joined rows into the canonical sft_rows columns, sorted by (timestamp, asset_symbol)."""
    rows = format_rows(joined, FEATURE_COLUMNS, HORIZON_DAYS, pairs=False)  # prompt / completion: the export's
    rows["context_window"] = context.reindex(rows.index).to_numpy()
    rows["not_applicable"] = not_applicable_texts(rows, has_volume_for(universe.assets))
    return rows[SFT_COLUMNS].sort_values(["timestamp", "asset_symbol"], ignore_index=True)


def not_applicable_texts(rows: pd.DataFrame, has_volume: dict[str, bool]) -> list[str]:
    """``json.dumps(not_applicable(cls, has_volume[sym]))`` of each row, computed once per distinct (sym, cls);
    a missing symbol raises the same ``KeyError`` as row by row (the first such row's)."""
    symbols, classes = rows["asset_symbol"].to_numpy(dtype=object), rows["asset_class"].to_numpy(dtype=object)
    try:
        if not len(rows) or pd.isna(symbols).any() or pd.isna(classes).any():  # None and NaN would share a code
            raise TypeError
        symbol_codes, class_codes = pd.factorize(symbols)[0], pd.factorize(classes)[0]
    except TypeError:  # also an unhashable cell: row by row
        return [json.dumps(not_applicable(c, has_volume[s])) for s, c in zip(symbols, classes, strict=True)]
    pairs = symbol_codes.astype(np.int64) * (int(class_codes.max()) + 1) + class_codes
    _, first, codes = np.unique(pairs, return_index=True, return_inverse=True)
    texts = np.empty(len(first), dtype=object)
    for i in np.argsort(first).tolist():  # in order of first appearance: the first error is the first row's
        texts[i] = json.dumps(not_applicable(classes[first[i]], has_volume[symbols[first[i]]]))
    return texts[codes.reshape(-1)].tolist()


LABELLED_INS = {  # read by the step itself, by days (day to day in Dagster: a backfill of N days targets N days)
    "prices": AssetIn(dagster_type=Nothing),
    "indicators": AssetIn(dagster_type=Nothing),
    "macro": AssetIn(dagster_type=Nothing),
    "sentiment": AssetIn(dagster_type=Nothing),
    "targets": AssetIn(dagster_type=Nothing),
}
KEYS = ["timestamp", "asset_symbol"]


def _key_codes(rows: pd.DataFrame, invalid: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(a code per row of ``rows`` for its (timestamp, asset_symbol), per code: whether ``invalid`` holds that key).

    Keys compare as the tuples would (``==``); a null key part falls back to the tuples themselves."""
    keys = pd.concat([rows[KEYS], invalid[KEYS]], ignore_index=True)
    if keys.empty:
        codes = np.zeros(0, dtype=np.int64)
    elif keys.isna().any(axis=None):  # None, NaN and NaT: tuples compare by identity as well as by value
        tuples = list(zip(keys["timestamp"], keys["asset_symbol"], strict=True))
        codes = np.fromiter(map({k: i for i, k in enumerate(dict.fromkeys(tuples))}.get, tuples), np.int64, len(tuples))
    else:
        days, symbols = (pd.factorize(keys[k])[0].astype(np.int64) for k in KEYS)
        codes = pd.factorize(days * (int(symbols.max()) + 1) + symbols)[0]
    held = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=bool)
    held[codes[len(rows) :]] = True
    return codes[: len(rows)], held


def held_rows(
    rows: pd.DataFrame, invalid: pd.DataFrame, suspect: pd.Series, no_target: pd.Series | None = None
) -> pd.DataFrame:
    """The quarantine: rows that failed validation, then rows without a target because their horizon passes
    their asset's last trading day (``no_target``), then valid rows held back by a suspect move.

    ``suspect`` and ``no_target`` hold a reason per row of ``rows`` (positionally), None where it does not apply;
    a row is held once, under the first of these that applies.
    """
    row_codes, held = _key_codes(rows, invalid)
    parts = [invalid]
    for status, reasons in (("no_target", no_target), ("suspect_move", suspect)):
        if reasons is None:
            continue
        extra = reasons.notna().to_numpy() & ~held[row_codes]
        parts.append(rows[extra].assign(validation_status=status, validation_error=reasons[extra].to_numpy()))
        held[row_codes[extra]] = True
    parts = [frame for frame in parts if len(frame)]
    if not parts:
        return invalid.reset_index(drop=True)
    return pd.concat(parts, ignore_index=True).sort_values(KEYS, kind="stable").reset_index(drop=True)


def not_held(rows: pd.DataFrame, held: pd.DataFrame) -> np.ndarray:
    """Per row of ``rows``: its (timestamp, asset_symbol) is not among ``held``'s keys, as a left merge on the
    keys finds them (a null matches a null); by key codes when no key is null, without copying ``rows``."""
    if rows[KEYS].isna().any(axis=None) or held[KEYS].isna().any(axis=None):
        held_keys = held[KEYS].drop_duplicates()
        return rows.merge(held_keys, on=KEYS, how="left", indicator=True)["_merge"].eq("left_only").to_numpy()
    row_codes, in_held = _key_codes(rows, held)
    return ~in_held[row_codes]


def sft_rows_of(
    prices: pd.DataFrame,
    joined: pd.DataFrame,
    *,
    context_window: int,
    first: pd.Timestamp,
    last: pd.Timestamp,
    universe: Universe,
) -> pd.DataFrame:
    """The SFT rows of ``joined`` (``join_features`` of the run's days of ``prices``, in their order), each with
    the context window of its last ``context_window`` closes (``prices``: the context lookback of the run)."""
    days = prices["timestamp"]
    run_days = ((days >= first) & (days < last + pd.Timedelta(days=1))).to_numpy()  # in_window's rows
    windows = context_windows(prices, context_window, factors=factors_of(prices)[1], wanted=run_days)
    context = pd.Series(windows.to_numpy()[run_days], dtype="object")  # the run's days, in order, as joined
    if len(joined) != len(context):  # a duplicated key in an input added rows to the join: each row takes its key's
        keys = ["asset_symbol", "timestamp"]
        by_key = context.set_axis(pd.MultiIndex.from_frame(prices.loc[run_days, keys]))
        by_key = by_key[~by_key.index.duplicated()]
        context = pd.Series(by_key.reindex(pd.MultiIndex.from_frame(joined[keys])).to_numpy(), index=joined.index)
    return build_sft_rows(joined, context, universe)


def gate_frames(
    prices: pd.DataFrame,
    indicators: pd.DataFrame,
    sentiment: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    macro: pd.DataFrame,
    first: pd.Timestamp,
    last: pd.Timestamp,
    context_window: int,
    universe: Universe,
) -> dict[str, object]:
    """The gate on some assets' rows (all in-process, one on Spark; ``prices``: the context lookback and horizon
    of the run): every candidate row, the held ones (``quarantine``), the others (``sft_rows``), the labelled
    rows' features and target for the IC's pass (``ic_rows``), and the checks' partial (``checks``)."""
    has_volume = has_volume_for(universe.assets)
    ended = last_trading_days_for(universe.assets)
    day_prices = in_window(prices, first, last)
    joined = join_features(day_prices, indicators, macro, sentiment, targets)
    rows = sft_rows_of(prices, joined, context_window=context_window, first=first, last=last, universe=universe)
    # Survivorship: a row whose horizon passes its asset's last trading day has no label. It is held with the
    # reason and never exported; the schema (of labelled rows) and the target checks judge the others.
    no_target = no_target_reasons(rows, ended, HORIZON_DAYS)
    labelled = rows[no_target.isna().to_numpy()]
    result = validate_rows(labelled, SftRowsSchema, has_volume=has_volume)
    before = prices[prices["timestamp"] < first]
    moves = feature_distribution(  # on the adjusted close: a split or an ex-dividend day is not a move
        adjusted_close(in_window(prices, first, last + pd.Timedelta(days=HORIZON_DAYS))),
        previous=adjusted_close(before),
        max_cases=len(prices),
    ).failures
    accepted = {spec.symbol: spec.accepted_moves for spec in universe.assets}
    _, suspect = suspect_moves(rows, moves, accepted=accepted)
    held = held_rows(rows, result.invalid, suspect, no_target)
    out = rows[not_held(rows, held)].reset_index(drop=True)
    checks = gate_partial(
        rows=rows,
        joined=joined,
        result=result,
        held=held,
        out=out,
        labelled=labelled,
        day_prices=day_prices,
        before=before,
        flagged=moves,
        suspect=suspect,
        no_target=no_target,
        has_volume=has_volume,
        ended=ended,
    )
    ic_rows = labelled[[*KEYS, "asset_class", *FEATURE_COLUMNS, IC_TARGET]]
    return {"quarantine": held, "sft_rows": out, "ic_rows": ic_rows, "checks": checks}


def _gate_checks(out: Mapping[str, object], **_: object) -> object:
    return out["checks"]


GATE_CHECKS = (
    "schema",
    "point_in_time",
    "completeness",
    "temporal_gaps",
    "rsi_bounds",
    "target_coverage",
    "suspect_moves",
    "feature_target_ic",
)
BLOCKING_GATE_CHECKS = tuple(name for name in GATE_CHECKS if CHECKS[name][0])


CODE_VERSION = version_of(__name__)
"""The code version of the gate's two outputs (``codeversion``): the UI shows them stale after a change."""


@multi_asset(
    name="gate_and_rows",
    outs={
        "quarantine": AssetOut(
            code_version=CODE_VERSION,
            freshness_policy=DAILY_FRESHNESS,
            group_name="sft_rows",
            io_manager_key="parquet_io_manager",
            kinds={"pandas", "parquet"},
            description=(
                "The gate before the training set: every candidate row of the run is validated against "
                "the sft_rows schema; the rows that fail are stored here with `validation_status` and "
                "`validation_error` (never dropped, never filled), and so are the rows whose 90-day horizon "
                "passes their asset's last trading day (`no_target`: the asset stopped trading). Its blocking "
                "checks (schema, "
                "completeness, temporal gaps, RSI bounds, target coverage) decide whether sft_rows is "
                "written for the run's partitions; the feature-target information coefficients are a report."
            ),
        ),
        "sft_rows": AssetOut(
            code_version=CODE_VERSION,
            freshness_policy=DAILY_FRESHNESS,
            group_name="sft_rows",
            io_manager_key="parquet_io_manager",
            kinds={"pandas", "parquet"},
            metadata={"dagster/column_schema": table_schema(SftRowsSchema)},
            description=(
                "Instruction-tuning rows (Alpaca style): `instruction` names the asset, class, date and "
                "horizon; `input` is strict JSON of every feature (6 significant digits, null when missing "
                "or not applicable); `output` is JSON of the 90-day targets, the log return first (4 decimals), "
                "then the percent return and the price; `context_window` the last "
                "N closes. Also every canonical column at full precision. Written in the same step as the "
                "quarantine gate, from the same candidate rows, and only when every blocking gate check "
                "passed; a quarantined row is never among them."
            ),
        ),
    },
    partitions_def=LABELLED_PARTITIONS,
    backfill_policy=BackfillPolicy.single_run(),
    ins=LABELLED_INS,
    check_specs=check_specs("quarantine", GATE_CHECKS, LABELLED_PARTITIONS),
    can_subset=False,
)
def gate_and_rows(
    context: AssetExecutionContext,
    export: ExportResource,
    landing: LandingZoneResource,
    engine: EngineResource,
) -> Iterator[Output[pd.DataFrame | None] | AssetCheckResult]:
    """Build the run's candidate rows once; store the invalid ones in `quarantine`, evaluate the
    gate's checks, and write the valid ones to `sft_rows` only when every blocking check passed."""
    first, last = run_window(context)
    data_start = pd.Timestamp(WINDOW.start, tz="UTC")
    universe = landing.universe()
    store = PartitionStore(export.storage.store_root())
    macro = read_source(context, store, Source("macro", first, last))
    lookback = clamp_lookback(first, CONTEXT_LOOKBACK_DAYS, data_start)
    sources = [
        Source("prices", lookback, last + pd.Timedelta(days=HORIZON_DAYS)),
        *(Source(name, first, last) for name in ("indicators", "sentiment", "targets")),
    ]
    # An asset left out of any prices, indicators or sentiment partition the gate reads (one of its sources
    # failed) is left out of the whole run: its rows would lack context, targets, features or sentiment.
    # The others are built; training_set names it.
    excluded: dict[str, str] = {}
    for name in ("sentiment", "indicators", "prices"):
        excluded.update(store.exclusions([name], next(s for s in sources if s.name == name).keys(context)))
    excluded = dict(sorted(excluded.items()))
    if excluded:
        context.log.warning(f"gate: left out of {first:%Y-%m-%d}..{last:%Y-%m-%d}: {excluded}")
    sources = [replace(s, leave_out=tuple(excluded)) for s in sources]
    call = StepCall(gate_frames, ("quarantine", "sft_rows"), (first, last), _gate_checks, GATE_SIDES)
    shared = {"macro": macro, "first": first, "last": last, "context_window": export.context_window}
    shared["universe"] = universe
    step = run_step(context, engine, store, call, sources, shared=shared, order=KEYS)
    with given_up_on_error(store, step):  # a failure below commits nothing more, and leaves nothing staged
        yield from _judged(
            context,
            store,
            step,
            universe,
            first,
            last,
            {"engine": engine.describe(), EXCLUDED_ASSETS: MetadataValue.json(excluded)},
        )


def _judged(
    context: AssetExecutionContext,
    store: PartitionStore,
    step: Step,
    universe: Universe,
    first: pd.Timestamp,
    last: pd.Timestamp,
    described: dict[str, object],
) -> Iterator[Output[pd.DataFrame | None] | AssetCheckResult]:
    """The gate's verdict on the rows ``step`` built: quarantine stored, the checks, then sft_rows or a Failure."""
    verdict = gate_results(
        step.partials,
        step.sides,
        first,
        last,
        calendars=calendars_for(universe.assets),
        ended=last_trading_days_for(universe.assets),
        accepted={spec.symbol: spec.accepted_moves for spec in universe.assets},
    )
    log_run(context, "quarantine", verdict.quarantine)
    meta = {**verdict.quarantine.metadata, **described}
    if step.stored is None:
        yield Output(step.frames["quarantine"], output_name="quarantine", metadata=meta)
    else:
        written = commit(context, store, step, "quarantine", meta)
        yield Output(None, output_name="quarantine", metadata={**meta, **written})
    yield from per_partition(context, verdict.results)
    failed = failed_blocking(verdict.results)
    if failed:
        raise Failure(
            f"quarantine gate {first:%Y-%m-%d}..{last:%Y-%m-%d}: blocking check(s) {', '.join(failed)} failed; "
            "sft_rows was not written. The invalid rows are in quarantine; fix the cause and re-materialise.",
            metadata={"failed_checks": ", ".join(failed)},
        )
    log_run(context, "sft_rows", verdict.sft_rows)
    out_meta = {**verdict.sft_rows.metadata, **described}
    if verdict.fingerprint:  # always, past the blocking schema check: every stored row passed; the export trusts that
        out_meta[VALIDATED] = verdict.fingerprint
    if step.stored is None:
        yield Output(step.frames["sft_rows"], output_name="sft_rows", metadata=out_meta)
    else:
        written = commit(context, store, step, "sft_rows", out_meta, validated=verdict.fingerprint)
        yield Output(None, output_name="sft_rows", metadata={**out_meta, **written})
