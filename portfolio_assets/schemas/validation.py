"""``validate_rows``: a lazy validation that splits a frame into valid and invalid rows, with readable messages.

Nothing is dropped, nothing is filled. An invalid row's ``validation_error`` is its
messages joined with "; ", direct errors in column order first, then cross-check
disagreements, e.g.
``rsi_14=130.0 outside 0..100; input disagrees with rsi_14 (input 67.1598, column 130.0)``.
``frame_errors`` are the problems no row is to blame for (a missing column, a wrong dtype).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.config import ValidationDepth, config_context
from pandera.errors import SchemaErrors

from portfolio_assets.features.sft_output import OutputFormat
from portfolio_assets.schemas.applicability import has_volume_column
from portfolio_assets.schemas.canonical import known_good
from portfolio_assets.schemas.display import bound, fmt, is_null
from portfolio_assets.schemas.proven import proven_rows
from portfolio_assets.schemas.rules import RULES
from portfolio_assets.schemas.shortcut import known_passing
from portfolio_assets.schemas.text import COLUMN_CHECKS, current_output, output_format, parse_cache


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of ``validate_rows``: every input row is in exactly one of ``valid`` / ``invalid``.

    ``frame_errors`` are problems of the frame as a whole (a missing or unexpected
    column, a wrong dtype, a check that could not run): no row is to blame, so
    they do not move rows to ``invalid``, but the frame must not be used while
    there are any: check ``ok`` (or ``frame_errors``) before ``valid``.
    """

    valid: pd.DataFrame
    """Rows without a row-level failure, unchanged (original index and columns)."""
    invalid: pd.DataFrame
    """Offending rows, unchanged, plus ``validation_status`` ("invalid") and ``validation_error``."""
    failures: pd.DataFrame
    """One row per row-level failure: asset_symbol, timestamp, column, check, failure_case, error, row
    (the failing row's 0-based position in the input frame)."""
    frame_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No frame error and no invalid row."""
        return not self.frame_errors and self.invalid.empty

    def summary(self) -> str:
        """``"98 valid, 2 invalid rows"``, plus the frame errors if any."""
        text = f"{len(self.valid)} valid, {len(self.invalid)} invalid rows"
        return text + (f"; frame errors: {'; '.join(self.frame_errors)}" if self.frame_errors else "")


_FAILURE_COLUMNS = ["asset_symbol", "timestamp", "column", "check", "failure_case", "error", "row"]


# --------------------------------------------------------------------------- messages


def _builtin_phrase(check: pa.Check) -> str:
    """What a failing value does not satisfy: "outside 0..100", "not > 0", "not one of ..."."""
    stats = check.statistics or {}
    name = check.name
    if name == "in_range":
        lo, hi = stats["min_value"], stats["max_value"]
        if stats.get("include_min", True) and stats.get("include_max", True):
            return f"outside {bound(lo)}..{bound(hi)}"
        return f"outside {check.error}"
    comparisons = {
        "greater_than": (">", "min_value"),
        "greater_than_or_equal_to": (">=", "min_value"),
        "less_than": ("<", "max_value"),
        "less_than_or_equal_to": ("<=", "max_value"),
    }
    if name in comparisons:
        op, key = comparisons[name]
        return f"not {op} {bound(stats[key])}"
    if name == "isin":
        return f"not one of {', '.join(map(str, stats['allowed_values']))}"
    return f"fails {check.error or name}"


def _dtype_name(check: str) -> str:
    """``dtype('Int64')`` -> ``Int64``."""
    return check[len("dtype(") : -1].strip("'\"")


def _column_message(schema: pa.DataFrameSchema, column: str, check: str, number: object, value: object) -> str:
    if check == "not_nullable":
        return f"{column} is null"
    if check.startswith("dtype("):
        return f"{column}={fmt(value)} is not of type {_dtype_name(check)}"
    if check in COLUMN_CHECKS:
        spec = COLUMN_CHECKS[check]
        problem = spec.problem(value) or f"fails {check}"
        return f"{column}={fmt(value)} {problem}" if spec.shows_value else f"{column} {problem}"
    col = schema.columns.get(column)
    if col is not None and not is_null(number):
        return f"{column}={fmt(value)} {_builtin_phrase(col.checks[int(number)])}"  # type: ignore[arg-type]
    return f"{column}={fmt(value)} fails {check}"


def _frame_message(column: object, check: str, value: object, schema_name: str) -> str:
    if check == "column_in_dataframe":
        return f"missing column {value!r}"
    if check == "column_in_schema":
        return f"unexpected column {value!r}"
    if check.startswith("dtype("):
        return f"column {column!r} has dtype {value}, expected {_dtype_name(check)}"
    subject = f"column {column!r}" if column != schema_name else schema_name
    return f"{subject}: check {check} could not run or failed as a whole: {value}"


def _record(work: pd.DataFrame, row: int, column: str, check: str, case: object, message: str) -> dict[str, object]:
    """One row of ``ValidationResult.failures``."""
    return {
        "asset_symbol": work["asset_symbol"].iloc[row] if "asset_symbol" in work.columns else None,
        "timestamp": work["timestamp"].iloc[row] if "timestamp" in work.columns else None,
        "column": column,
        "check": check,
        "failure_case": case.item() if isinstance(case, np.generic) else case,
        "error": message,
        "row": row,
    }


# --------------------------------------------------------------------------- validation


def _with_has_volume(
    work: pd.DataFrame, model: pa.DataFrameSchema, has_volume: Mapping[str, bool] | None
) -> pd.DataFrame:
    """``work`` plus a ``has_volume`` column from the symbol map, where the schema declares one and the
    frame has none. The added column is boolean and never null (a symbol missing from the map falls back
    to its class), so it cannot fail a check of its own; a schema without the column (macro, targets)
    would reject it as unexpected, so it is not added there."""
    if (
        has_volume is None
        or "has_volume" in work.columns
        or "has_volume" not in model.columns
        or not {"asset_symbol", "asset_class"} <= set(work.columns)
    ):
        return work
    return work.assign(has_volume=has_volume_column(work, has_volume))


_NO_CASES = ["schema_context", "column", "check", "check_number", "failure_case", "index"]


def _pandera_cases(schema: type[pa.DataFrameModel], work: pd.DataFrame) -> pd.DataFrame:
    """pandera's failure cases of ``work`` (lazy: all of them)."""
    try:
        schema.validate(work, lazy=True)
    except SchemaErrors as exc:
        return exc.failure_cases
    return pd.DataFrame(columns=_NO_CASES)


def _failure_cases(
    schema: type[pa.DataFrameModel], model: pa.DataFrameSchema, work: pd.DataFrame, shortcut: bool
) -> pd.DataFrame:
    """pandera's failure cases of ``work``. With ``shortcut``, the texts' known-good masks spare the checks their
    parsing, and pandera judges only the rows ``proven_rows`` does not prove (their cases' ``index`` mapped back
    to ``work``'s); a frame-level case there sends the whole frame to pandera, as without the shortcut."""
    if not shortcut:
        return _pandera_cases(schema, work)
    masks = known_good(work, model)
    with known_passing(masks):
        proven = proven_rows(work, model)
    if proven is None:
        with known_passing(masks):
            return _pandera_cases(schema, work)
    rest = np.flatnonzero(~proven)
    if not len(rest):
        return pd.DataFrame(columns=_NO_CASES)
    with known_passing({key: mask[rest] for key, mask in masks.items()}):
        cases = _pandera_cases(schema, work.iloc[rest].reset_index(drop=True))
    if cases["index"].isna().any():
        with known_passing(masks):
            return _pandera_cases(schema, work)
    return cases.assign(index=rest[cases["index"].to_numpy(dtype=np.int64)])


def validate_rows(
    frame: pd.DataFrame,
    schema: type[pa.DataFrameModel],
    *,
    has_volume: Mapping[str, bool] | None = None,
    output: OutputFormat | None = None,
    _shortcut: bool = True,
) -> ValidationResult:
    """Validate ``frame`` against ``schema`` lazily and split it into valid and invalid rows.

    Nothing is dropped or filled: ``len(valid) + len(invalid) == len(frame)``. A
    row is invalid when any row-level check fails for it; its
    ``validation_error`` joins the readable messages with "; ", e.g.
    ``rsi_14=130.0 outside 0..100; price_close=0.0 not > 0``. Every copy of a
    duplicated key is invalid (``duplicated (timestamp, asset_symbol)``).
    Validation always runs at full depth, whatever ``PANDERA_VALIDATION_*`` says.

    ``has_volume`` (asset_symbol -> whether its price source reports volume) decides
    which volume features apply when the frame has no ``has_volume`` column (the
    column wins); a symbol it lacks, or no map at all, falls back to the class (every
    class but fx has volume). The column it implies is validated but never returned.

    ``output``: the output format (``features.sft_output.OutputFormat``) the ``output`` texts are judged
    against (keys, order, precision); default the one in force (``sft_output.DEFAULT_OUTPUT``).
    """
    with output_format(output or current_output()):
        return _validate_rows(frame, schema, has_volume, _shortcut)


def _validate_rows(
    frame: pd.DataFrame, schema: type[pa.DataFrameModel], has_volume: Mapping[str, bool] | None, _shortcut: bool
) -> ValidationResult:
    model = schema.to_schema()
    work = _with_has_volume(frame.reset_index(drop=True), model, has_volume)
    with (
        config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA),
        warnings.catch_warnings(),
        parse_cache(),
    ):
        # pandera's own concat of failure cases warns under pandas 2.3; not ours to fix.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pandera\.")
        cases = _failure_cases(schema, model, work, _shortcut)

    order = {c: i for i, c in enumerate(work.columns)}
    records: list[dict[str, object]] = []
    frame_errors: list[str] = []
    seen_rules: set[tuple[str, int]] = set()
    rule_rows: dict[str, set[int]] = {}
    for case in cases.itertuples(index=False):
        check, column, value = str(case.check), case.column, case.failure_case
        if is_null(case.index):
            message = _frame_message(column, check, value, model.name)
            if message not in frame_errors:
                frame_errors.append(message)
            continue
        row = int(case.index)
        if check in ("multiple_fields_uniqueness", "field_uniqueness"):
            keys = list(model.unique or [column])
            if (check, row) in seen_rules:
                continue
            seen_rules.add((check, row))
            label = f"({', '.join(keys)})" if len(keys) > 1 else keys[0]
            found = [(", ".join(keys), tuple(work[k].iloc[row] for k in keys), f"duplicated {label}")]
        elif case.schema_context == "DataFrameSchema" and check in RULES:
            rule_rows.setdefault(check, set()).add(row)  # explained below, all rows of a rule at once
            continue
        else:
            found = [(str(column), value, _column_message(model, str(column), check, case.check_number, value))]
        for col, failure_case, message in found:
            records.append(_record(work, row, col, check, failure_case, message))
    for check, rows in rule_rows.items():
        positions = sorted(rows)
        problems = RULES[check].explain(work.iloc[positions])
        explained = {i for i, _, _, _ in problems}
        problems += [
            (i, RULES[check].columns[0], None, f"fails {check}") for i in range(len(positions)) if i not in explained
        ]
        for i, col, failure_case, message in problems:
            records.append(_record(work, positions[i], col, check, failure_case, message))

    failures = pd.DataFrame.from_records(records, columns=_FAILURE_COLUMNS)
    if not failures.empty:
        # An infinite value is reported once, as "not finite", not also as out of range.
        infinite = set(
            zip(
                failures.loc[failures["check"] == "finite", "row"],
                failures.loc[failures["check"] == "finite", "column"],
                strict=True,
            )
        )
        redundant = [
            (r, c) in infinite and chk != "finite" and chk not in RULES
            for r, c, chk in zip(failures["row"], failures["column"], failures["check"], strict=True)
        ]
        failures = failures[~np.array(redundant, dtype=bool)]
        # Per row: direct errors in column order, then the cross-checks they may cause.
        derived = failures["check"].map(lambda c: c in RULES and RULES[c].derived)
        position = failures["column"].map(lambda c: order.get(c.split(", ")[0], len(order)))
        failures = (
            failures.assign(_derived=derived, _pos=position)
            .sort_values(["row", "_derived", "_pos"], kind="stable")
            .drop(columns=["_derived", "_pos"])
            .reset_index(drop=True)
        )

    messages = failures.groupby("row", sort=True)["error"].agg(lambda errors: "; ".join(dict.fromkeys(errors)))
    bad = np.zeros(len(frame), dtype=bool)
    bad[messages.index.to_numpy(dtype=int)] = True
    invalid = frame.iloc[np.flatnonzero(bad)].copy()
    invalid["validation_status"] = "invalid"
    invalid["validation_error"] = messages.to_numpy()
    return ValidationResult(
        valid=frame.iloc[np.flatnonzero(~bad)],
        invalid=invalid,
        failures=failures,
        frame_errors=frame_errors,
    )
