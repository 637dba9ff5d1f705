"""Pandera schemas of every group's frame and of the exported training rows, and row-level validation.

One ``DataFrameModel`` per asset group plus the CSV rows (``SCHEMAS``):

============  ======================  ==================================================
group         schema                  one row per
============  ======================  ==================================================
prices        ``PricesSchema``        asset per trading day (OHLCV, CoinGecko reference)
macro         ``MacroSchema``         calendar day (the 11 macro fields)
sentiment     ``SentimentSchema``     asset per calendar day (the 6 sentiment fields)
indicators    ``IndicatorsSchema``    asset per trading day (37 technical + 3 cross-asset)
targets       ``TargetsSchema``       asset per trading day (90-day forward targets)
sft_rows      ``SftRowsSchema``       labelled asset-day (LLM columns + every canonical one)
training_set  ``TrainingSetSchema``   CSV row as written (timestamps ``YYYY-MM-DDTHH:MM:SSZ``)
============  ======================  ==================================================

Every schema is ``strict`` (a missing or unexpected column fails), ``coerce=False``
(a wrong dtype fails, nothing is converted) and checks value ranges, finiteness
(no ±inf in any float column), uniqueness of ``(timestamp, asset_symbol)``
(macro: ``timestamp``) and the class-dependent applicability of features:

* **Not applicable ≠ missing.** A feature listed by
  ``columns.not_applicable(asset_class, has_volume)`` (volume features where the
  price source has no volume; ``fear_greed_index`` outside crypto) must be null:
  a value there is an error. An applicable feature *may* be null (warm-up, a gap,
  not yet released): the schema allows it, a completeness check judges it.
* **has_volume** comes from an optional boolean ``has_volume`` column when the
  frame has one, else from the universe (``load_universe()``, i.e.
  ``$PORTFOLIO_UNIVERSE_FILE`` or the packaged file: symbol → ``AssetSpec.has_volume``).
  A symbol the universe does not know falls back to its class (fx has no volume,
  every other class has). To validate against another universe, add the column.
* **Row rules** (dataframe-level checks, judged per row): high >= max(open, close) >=
  min(open, close) >= low; targets within ``timestamp + 83..90 days`` and, in the
  targets group, all four present or all null. In ``sft_rows`` / ``training_set``
  also: the three targets and ``target_timestamp`` never null; the returns agree
  with ``target_price_90d`` / ``price_close``; ``instruction`` / ``input`` /
  ``output`` / ``context_window`` / ``not_applicable`` are non-empty strict JSON
  (no NaN / Infinity) of the expected shape; ``not_applicable`` is exactly
  ``columns.not_applicable(...)``; and the JSON the model reads agrees with the
  canonical columns (``input`` with the features, ``output`` with the targets, the
  last close of ``context_window`` with ``price_close``, to 6 significant digits).

``validate_rows(frame, schema)`` runs a lazy validation and splits the frame into
``valid`` and ``invalid`` rows (nothing dropped, nothing filled), with a tidy table of
``failures`` and the ``frame_errors`` that no row is to blame for (a missing column,
a wrong dtype). An invalid row's ``validation_error`` is its messages joined with
"; ", direct errors in column order first, then cross-check disagreements, e.g.
``rsi_14=130.0 outside 0..100; input disagrees with rsi_14 (input 67.1598, column 130.0)``.
``table_schema(schema)`` renders a schema as a Dagster ``TableSchema``
for the ``dagster/column_schema`` metadata.
"""

import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import pandera.pandas as pa
from dagster import TableColumn, TableColumnConstraints, TableConstraints, TableSchema
from pandera.config import ValidationDepth, config_context
from pandera.errors import SchemaErrors
from pandera.typing import Series

from portfolio_assets.columns import (
    CORE_COLUMNS,
    FEATURE_COLUMNS,
    INDICATOR_COLUMNS,
    LLM_COLUMNS,
    MACRO_COLUMNS,
    TARGET_COLUMNS,
    VOLUME_FEATURES,
    applies,
    not_applicable,
)
from portfolio_assets.features.registry import FEATURES_BY_NAME, VOLUME_CLASSES
from portfolio_assets.features.sentiment import SENTIMENT_FIELDS
from portfolio_assets.features.sft import OUTPUT_FIELDS
from portfolio_assets.features.targets import MAX_GAP_DAYS
from portfolio_assets.partitions import HORIZON_DAYS
from portfolio_assets.universe import ASSET_CLASSES, load_universe

__all__ = [
    "ISO_UTC_FORMAT",
    "SCHEMAS",
    "IndicatorsSchema",
    "MacroSchema",
    "PricesSchema",
    "SentimentSchema",
    "SftRowsSchema",
    "TargetsSchema",
    "TrainingSetSchema",
    "ValidationResult",
    "table_schema",
    "validate_rows",
]

ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How ``training_set`` writes timestamps (``assets/training_set.csv_ready``)."""

KEYS = ["timestamp", "asset_symbol"]

# Features whose applicability depends on the asset's class or price source.
CLASS_DEPENDENT = [*VOLUME_FEATURES, "fear_greed_index"]

# JSON numbers are written with 6 significant digits: |rounded − x| <= 5e-6 |x|.
_JSON_RTOL = 1e-5
# Targets are computed from the same float64 closes: they agree to rounding.
_TARGET_RTOL = 1e-9

# Column order of table_schema (every schema's columns are a subsequence).
_COLUMN_ORDER = [
    *LLM_COLUMNS,
    *CORE_COLUMNS,
    "has_volume",
    *TARGET_COLUMNS,
    *INDICATOR_COLUMNS,
    *MACRO_COLUMNS,
    *SENTIMENT_FIELDS,
    "reference_close",
    "market_cap",
    "source",
    "not_applicable",
]


# --------------------------------------------------------------------------- formatting


def _fmt(value: object) -> str:
    """A failure case as it reads in a message: 130.0, inf, null, 'text', 2010-05-03T00:00:00Z."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "null"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime(ISO_UTC_FORMAT) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return repr(value)


def _bound(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _is_null(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- strict JSON


def _reject_constant(token: str) -> None:
    raise ValueError(f"non-standard constant {token}")


def _parse_json(text: object) -> tuple[object, str | None]:
    """``(value, None)`` or ``(None, problem)``: strict JSON (no NaN / Infinity)."""
    if not isinstance(text, str):
        return None, "is not a string"
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except ValueError as exc:
        return None, f"is not strict JSON ({exc})"


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _input_problem(text: object) -> str | None:
    value, problem = _parse_json(text)
    if problem:
        return problem
    if not isinstance(value, dict):
        return "is not a JSON object"
    if list(value) != FEATURE_COLUMNS:
        missing = [k for k in FEATURE_COLUMNS if k not in value]
        unexpected = [k for k in value if k not in FEATURE_COLUMNS]
        if missing or unexpected:
            return f"does not have the {len(FEATURE_COLUMNS)} feature keys (missing {missing}, unexpected {unexpected})"
        return "has the feature keys out of their canonical order"
    bad = [k for k, v in value.items() if v is not None and not _finite_number(v)]
    return f"has values that are neither numbers nor null: {bad}" if bad else None


def _output_problem(text: object) -> str | None:
    value, problem = _parse_json(text)
    if problem:
        return problem
    if not isinstance(value, dict) or list(value) != list(OUTPUT_FIELDS):
        return f"is not a JSON object with keys {list(OUTPUT_FIELDS)}"
    bad = [k for k, v in value.items() if not _finite_number(v)]
    if bad:
        return f"has non-numeric or null targets: {bad}"
    if value["predicted_price_90d"] <= 0:
        return "has predicted_price_90d <= 0"
    return None


def _context_window_problem(text: object) -> str | None:
    value, problem = _parse_json(text)
    if problem:
        return problem
    if not isinstance(value, list) or not value:
        return "is not a non-empty JSON array"
    if not all(_finite_number(v) and v > 0 for v in value):
        return "has closes that are not positive numbers"
    return None


def _not_applicable_problem(text: object) -> str | None:
    value, problem = _parse_json(text)
    if problem:
        return problem
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "is not a JSON array of feature names"
    unknown = [v for v in value if v not in FEATURE_COLUMNS]
    if unknown:
        return f"lists unknown features {unknown}"
    if len(set(value)) != len(value):
        return "lists a feature twice"
    return None


def _iso_problem(text: object) -> str | None:
    if not isinstance(text, str):
        return "is not a string"
    try:
        datetime.strptime(text, ISO_UTC_FORMAT)
    except ValueError:
        return "is not an ISO 8601 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)"
    return None


def _non_empty_problem(text: object) -> str | None:
    return "is empty" if isinstance(text, str) and not text.strip() else None


# --------------------------------------------------------------------------- column checks


@dataclass(frozen=True)
class _ColumnCheck:
    """A custom column check: its constraint text (table_schema) and the message of a failing value."""

    constraint: str
    problem: Callable[[object], str | None]
    shows_value: bool = False


_COLUMN_CHECKS: dict[str, _ColumnCheck] = {
    "finite": _ColumnCheck("finite (no ±inf)", lambda v: "not finite", shows_value=True),
    "non_empty": _ColumnCheck("non-empty string", _non_empty_problem),
    "input_json": _ColumnCheck(
        f"strict JSON object of the {len(FEATURE_COLUMNS)} features in canonical order, numbers or null",
        _input_problem,
    ),
    "output_json": _ColumnCheck(f"strict JSON object {list(OUTPUT_FIELDS)}, finite numbers", _output_problem),
    "context_window_json": _ColumnCheck("strict JSON non-empty array of positive closes", _context_window_problem),
    "not_applicable_json": _ColumnCheck("strict JSON array of feature names", _not_applicable_problem),
    "iso_utc": _ColumnCheck("ISO 8601 UTC string YYYY-MM-DDTHH:MM:SSZ", _iso_problem, shows_value=True),
}


def _passes(series: pd.Series, name: str) -> pd.Series:
    problem = _COLUMN_CHECKS[name].problem
    return series.map(lambda v: _is_null(v) or problem(v) is None).astype(bool)


# --------------------------------------------------------------------------- row rules


def _all_true(df: pd.DataFrame) -> pd.Series:
    return pd.Series(True, index=df.index)


def _num(df: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(df[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _utc(series: pd.Series) -> pd.Series:
    """Timestamps (datetime or ISO strings) as UTC datetimes; unparsable values become NaT."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC")
    try:
        return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    except (TypeError, ValueError):
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")


def _has_volume(df: pd.DataFrame) -> pd.Series:
    """Whether each row's price source reports volume: the ``has_volume`` column, else the universe."""
    by_class = df["asset_class"].isin(VOLUME_CLASSES)
    if "has_volume" in df.columns:
        given = df["has_volume"]
    else:
        universe = {a.symbol: a.has_volume for a in load_universe().assets}
        given = df["asset_symbol"].map(universe)
    return given.where(given.notna(), by_class).astype(bool)


def _expected_not_applicable(df: pd.DataFrame) -> list[list[str] | None]:
    """``not_applicable(asset_class, has_volume)`` of every row (None for an unknown class)."""
    return [
        not_applicable(cls, bool(hv)) if cls in ASSET_CLASSES else None
        for cls, hv in zip(df["asset_class"], _has_volume(df), strict=True)
    ]


def _parsed(series: pd.Series) -> list[object]:
    """Each value parsed as strict JSON, or None where it does not parse (a column check reports it)."""
    return [_parse_json(v)[0] for v in series]


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> np.ndarray:
    """Equal within ``rtol`` of ``b``, or both null / non-finite."""
    with np.errstate(invalid="ignore"):
        both_null = np.isnan(a) & ~np.isfinite(b)
        return both_null | (np.abs(a - b) <= rtol * np.abs(b))


def _json_numbers(records: list[object], keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(matrix of ``keys`` of each parsed JSON object, NaN for null; mask of rows that are such objects)."""
    usable = np.array([isinstance(r, dict) and all(k in r for k in keys) for r in records], dtype=bool)
    matrix = np.full((len(records), len(keys)), np.nan)
    for i, record in enumerate(records):
        if usable[i]:
            values = [record[k] for k in keys]
            if all(v is None or _finite_number(v) for v in values):
                matrix[i] = [np.nan if v is None else float(v) for v in values]
            else:
                usable[i] = False
    return matrix, usable


def _mismatch_text(pairs: list[tuple[str, float, float]], what: str, limit: int = 3) -> str:
    """``rsi_14 (input 50.0, column 130.0), volume (input null, column 5.0) and 2 more``."""

    def show(x: float) -> str:
        return "null" if np.isnan(x) else _fmt(x)

    shown = ", ".join(f"{k} ({what} {show(j)}, column {show(c)})" for k, j, c in pairs[:limit])
    more = f" and {len(pairs) - limit} more" if len(pairs) > limit else ""
    return shown + more


Problem = tuple[int, str, object, str]
"""(position in the failing rows, column, failure case, message)."""


@dataclass(frozen=True)
class _RowRule:
    """A dataframe-level check judged per row, with the explanation of its failing rows."""

    columns: tuple[str, ...]
    """Columns the rule is about (table_schema lists its constraint under them)."""
    constraint: str
    ok: Callable[[pd.DataFrame], pd.Series]
    explain: Callable[[pd.DataFrame], list[Problem]]
    """The problems of the failing rows (given together, positions 0..n-1: one vectorised pass)."""
    derived: bool = False
    """A cross-check of two representations (JSON text vs columns): listed after the direct errors."""


_OHLC = ("price_open", "price_high", "price_low", "price_close")


def _ohlc_ok(df: pd.DataFrame) -> pd.Series:
    if not set(_OHLC) <= set(df.columns):
        return _all_true(df)
    o, h, low, c = (_num(df, col) for col in _OHLC)
    with np.errstate(invalid="ignore"):
        bad = (h < np.fmax(o, c)) | (low > np.fmin(o, c))
    return pd.Series(~bad, index=df.index)


def _ohlc_explain(rows: pd.DataFrame) -> list[Problem]:
    o, h, low, c = (_num(rows, col) for col in _OHLC)
    top, bottom = np.fmax(o, c), np.fmin(o, c)
    out = []
    for i in range(len(rows)):
        if h[i] < top[i]:
            out.append(
                (i, "price_high", h[i], f"price_high={_fmt(h[i])} < max(price_open, price_close)={_fmt(top[i])}")
            )
        if low[i] > bottom[i]:
            message = f"price_low={_fmt(low[i])} > min(price_open, price_close)={_fmt(bottom[i])}"
            out.append((i, "price_low", low[i], message))
    return out


def _class_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in CLASS_DEPENDENT if c in df.columns]


def _na_ok(df: pd.DataFrame) -> pd.Series:
    columns = _class_columns(df)
    if not columns or not {"asset_class", "asset_symbol"} <= set(df.columns):
        return _all_true(df)
    expected = _expected_not_applicable(df)
    ok = np.ones(len(df), dtype=bool)
    for col in columns:
        not_app = np.array([e is not None and col in e for e in expected], dtype=bool)
        ok &= ~(not_app & df[col].notna().to_numpy(dtype=bool))
    return pd.Series(ok, index=df.index)


def _na_explain(rows: pd.DataFrame) -> list[Problem]:
    expected = _expected_not_applicable(rows)
    has_volume = _has_volume(rows).to_numpy()
    classes, symbols = rows["asset_class"].to_numpy(), rows["asset_symbol"].to_numpy()
    out = []
    for col in _class_columns(rows):
        values, present = rows[col].to_numpy(dtype=object), rows[col].notna().to_numpy()
        for i in np.flatnonzero(present):
            if expected[i] is None or col not in expected[i]:
                continue
            no_source = col in VOLUME_FEATURES and not has_volume[i] and applies(col, classes[i])
            why = " (its price source has no volume)" if no_source else ""
            message = f"{col}={_fmt(values[i])} present but not applicable to {classes[i]} {symbols[i]}{why}"
            out.append((int(i), col, values[i], message))
    return out


def _listed_ok(df: pd.DataFrame) -> pd.Series:
    if not {"asset_class", "asset_symbol", "not_applicable"} <= set(df.columns):
        return _all_true(df)
    listed = _parsed(df["not_applicable"])
    expected = _expected_not_applicable(df)
    ok = [not isinstance(got, list) or want is None or got == want for got, want in zip(listed, expected, strict=True)]
    return pd.Series(ok, index=df.index)


def _listed_explain(rows: pd.DataFrame) -> list[Problem]:
    listed, expected = _parsed(rows["not_applicable"]), _expected_not_applicable(rows)
    texts, classes, symbols = rows["not_applicable"].to_numpy(), rows["asset_class"], rows["asset_symbol"]
    return [
        (i, "not_applicable", texts[i], f"not_applicable={got} but {cls} {sym} has {want}")
        for i, (got, want, cls, sym) in enumerate(zip(listed, expected, classes, symbols, strict=True))
    ]


def _json_vs_columns(
    rows: pd.DataFrame, text_column: str, keys: list[str], columns: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(JSON numbers, column values, rows whose JSON is a usable object) for ``keys`` vs ``columns``."""
    matrix, usable = _json_numbers(_parsed(rows[text_column]), keys)
    values = np.column_stack([_num(rows, c) for c in columns]) if columns else np.empty((len(rows), 0))
    return matrix, values, usable


def _disagreements(rows: pd.DataFrame, text_column: str, keys: list[str], columns: list[str]) -> list[Problem]:
    matrix, values, _ = _json_vs_columns(rows, text_column, keys, columns)
    agree = _close(matrix, values, _JSON_RTOL)
    out = []
    for i in np.flatnonzero(~agree.all(axis=1)):
        pairs = [(columns[j], matrix[i, j], values[i, j]) for j in np.flatnonzero(~agree[i])]
        message = f"{text_column} disagrees with " + _mismatch_text(pairs, text_column)
        out.append((int(i), text_column, ", ".join(c for c, _, _ in pairs), message))
    return out


def _input_keys(df: pd.DataFrame) -> list[str]:
    return [k for k in FEATURE_COLUMNS if k in df.columns]


def _input_ok(df: pd.DataFrame) -> pd.Series:
    keys = _input_keys(df)
    if "input" not in df.columns or not keys:
        return _all_true(df)
    matrix, values, usable = _json_vs_columns(df, "input", keys, keys)
    return pd.Series(~usable | _close(matrix, values, _JSON_RTOL).all(axis=1), index=df.index)


def _input_explain(rows: pd.DataFrame) -> list[Problem]:
    keys = _input_keys(rows)
    return _disagreements(rows, "input", keys, keys)


def _output_ok(df: pd.DataFrame) -> pd.Series:
    targets = list(OUTPUT_FIELDS.values())
    if "output" not in df.columns or not set(targets) <= set(df.columns):
        return _all_true(df)
    matrix, values, usable = _json_vs_columns(df, "output", list(OUTPUT_FIELDS), targets)
    return pd.Series(~usable | _close(matrix, values, _JSON_RTOL).all(axis=1), index=df.index)


def _output_explain(rows: pd.DataFrame) -> list[Problem]:
    return _disagreements(rows, "output", list(OUTPUT_FIELDS), list(OUTPUT_FIELDS.values()))


def _last_closes(series: pd.Series) -> np.ndarray:
    return np.array(
        [v[-1] if isinstance(v, list) and v and _finite_number(v[-1]) else np.nan for v in _parsed(series)],
        dtype="float64",
    )


def _context_ok(df: pd.DataFrame) -> pd.Series:
    if not {"context_window", "price_close"} <= set(df.columns):
        return _all_true(df)
    last = _last_closes(df["context_window"])
    return pd.Series(np.isnan(last) | _close(last, _num(df, "price_close"), _JSON_RTOL), index=df.index)


def _context_explain(rows: pd.DataFrame) -> list[Problem]:
    last, close = _last_closes(rows["context_window"]), _num(rows, "price_close")
    return [
        (i, "context_window", last[i], f"context_window ends at {_fmt(last[i])}, not at price_close={_fmt(close[i])}")
        for i in range(len(rows))
    ]


_RETURNS = {
    "target_return_90d": ("ln(target_price_90d / price_close)", lambda tp, c: np.log(tp / c)),
    "target_return_pct_90d": ("(target_price_90d / price_close - 1) * 100", lambda tp, c: (tp / c - 1.0) * 100.0),
}


def _returns_disagree(df: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per return column: (actual, expected from target_price_90d and price_close, disagreement mask)."""
    tp, close = _num(df, "target_price_90d"), _num(df, "price_close")
    out = {}
    for col, (_, fn) in _RETURNS.items():
        actual = _num(df, col)
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = fn(tp, close)
            agree = np.abs(actual - expected) <= _TARGET_RTOL * np.abs(expected) + 1e-12
        out[col] = (actual, expected, ~(agree | np.isnan(actual) | ~np.isfinite(expected)))
    return out


def _returns_ok(df: pd.DataFrame) -> pd.Series:
    if not {"target_price_90d", "price_close", *_RETURNS} <= set(df.columns):
        return _all_true(df)
    bad = np.zeros(len(df), dtype=bool)
    for _, _, disagree in _returns_disagree(df).values():
        bad |= disagree
    return pd.Series(~bad, index=df.index)


def _returns_explain(rows: pd.DataFrame) -> list[Problem]:
    out = []
    for col, (actual, expected, disagree) in _returns_disagree(rows).items():
        formula = _RETURNS[col][0]
        for i in np.flatnonzero(disagree):
            out.append((int(i), col, actual[i], f"{col}={_fmt(actual[i])} but {formula}={_fmt(expected[i])}"))
    return out


_HORIZON = pd.Timedelta(days=HORIZON_DAYS)
_EARLIEST = pd.Timedelta(days=HORIZON_DAYS - MAX_GAP_DAYS)


def _horizon_ok(df: pd.DataFrame) -> pd.Series:
    if not {"timestamp", "target_timestamp"} <= set(df.columns):
        return _all_true(df)
    day, target = _utc(df["timestamp"]), _utc(df["target_timestamp"])
    inside = (target >= day + _EARLIEST) & (target <= day + _HORIZON)
    return (inside | target.isna() | day.isna()).astype(bool)


def _horizon_explain(rows: pd.DataFrame) -> list[Problem]:
    days, targets, raw = _utc(rows["timestamp"]), _utc(rows["target_timestamp"]), rows["target_timestamp"].to_numpy()
    window = f"timestamp + {HORIZON_DAYS - MAX_GAP_DAYS}..{HORIZON_DAYS} days"
    return [
        (i, "target_timestamp", raw[i], f"target_timestamp={_fmt(t)} not within {window} (timestamp={_fmt(d)})")
        for i, (d, t) in enumerate(zip(days, targets, strict=True))
    ]


def _all_or_none_ok(df: pd.DataFrame) -> pd.Series:
    present = [c for c in TARGET_COLUMNS if c in df.columns]
    if not present:
        return _all_true(df)
    nulls = df[present].isna().sum(axis=1)
    return ((nulls == 0) | (nulls == len(present))).astype(bool)


def _all_or_none_explain(rows: pd.DataFrame) -> list[Problem]:
    present = [c for c in TARGET_COLUMNS if c in rows.columns]
    isna = rows[present].isna().to_numpy()
    out = []
    for i in range(len(rows)):
        null = [c for c, missing in zip(present, isna[i], strict=True) if missing]
        given = [c for c in present if c not in null]
        out.append((i, null[0], None, f"targets partly missing: {', '.join(null)} null but {', '.join(given)} present"))
    return out


_RULES: dict[str, _RowRule] = {
    "ohlc_consistent": _RowRule(
        ("price_high", "price_low"),
        "price_high >= max(price_open, price_close) >= min(price_open, price_close) >= price_low",
        _ohlc_ok,
        _ohlc_explain,
    ),
    "not_applicable_is_null": _RowRule(
        tuple(CLASS_DEPENDENT),
        "null where not applicable: columns.not_applicable(asset_class, has_volume)",
        _na_ok,
        _na_explain,
    ),
    "not_applicable_listed": _RowRule(
        ("not_applicable",),
        "not_applicable == columns.not_applicable(asset_class, has_volume)",
        _listed_ok,
        _listed_explain,
    ),
    "input_matches_columns": _RowRule(
        ("input",),
        "input values equal the feature columns to 6 significant digits (null where the column is null)",
        _input_ok,
        _input_explain,
        derived=True,
    ),
    "output_matches_targets": _RowRule(
        ("output",),
        "output values equal the target columns to 6 significant digits",
        _output_ok,
        _output_explain,
        derived=True,
    ),
    "context_window_ends_at_close": _RowRule(
        ("context_window",),
        "context_window's last close is price_close (6 significant digits)",
        _context_ok,
        _context_explain,
        derived=True,
    ),
    "target_returns_consistent": _RowRule(
        tuple(_RETURNS),
        "target_return_90d = ln(target_price_90d / price_close), "
        "target_return_pct_90d = (target_price_90d / price_close - 1) * 100",
        _returns_ok,
        _returns_explain,
    ),
    "target_within_horizon": _RowRule(
        ("target_timestamp",),
        f"timestamp + {HORIZON_DAYS - MAX_GAP_DAYS} days <= target_timestamp <= timestamp + {HORIZON_DAYS} days",
        _horizon_ok,
        _horizon_explain,
    ),
    "targets_all_or_none": _RowRule(
        tuple(TARGET_COLUMNS),
        "the four target columns are all null (no target) or all present",
        _all_or_none_ok,
        _all_or_none_explain,
    ),
}


def _rule(name: str) -> Callable[..., pd.Series]:
    """The body of a dataframe check that applies ``_RULES[name]``."""

    def check(cls: type, df: pd.DataFrame) -> pd.Series:
        return _RULES[name].ok(df)

    # pandera 0.35 pops ``name`` from the check's kwargs when the first model builds its schema;
    # every later model (a subclass, a sibling sharing the mixin) names the check after the
    # function instead. Naming the function like the check keeps the name stable.
    check.__name__ = check.__qualname__ = name
    return pa.dataframe_check(name=name, ignore_na=False, description=_RULES[name].constraint)(check)


# --------------------------------------------------------------------------- fields


def _feature(name: str, **checks: object) -> object:
    spec = FEATURES_BY_NAME[name]
    return pa.Field(nullable=True, description=f"{spec.formula} [{spec.unit}]", **checks)


def _price(description: str, *, nullable: bool = False) -> object:
    return pa.Field(gt=0, nullable=nullable, description=description)


_PCT = {"in_range": {"min_value": 0, "max_value": 100}}
_UNIT = {"in_range": {"min_value": -1, "max_value": 1}}
_UTC_NS = {"unit": "ns", "tz": "UTC"}


class _Base(pa.DataFrameModel):
    # Each check function is named like its check (see ``_rule``).
    @pa.check(".*", regex=True, name="finite", description="no ±inf in a float column")
    @classmethod
    def finite(cls, series: pd.Series) -> pd.Series:
        if not pd.api.types.is_float_dtype(series.dtype):
            return pd.Series(True, index=series.index)
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(~np.isinf(values), index=series.index)

    class Config:
        strict = True
        coerce = False


class _AssetKeys(_Base):
    timestamp: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=_UTC_NS, description="the observation day (00:00 UTC); the row uses what was known at its close"
    )
    asset_symbol: Series[str] = pa.Field(description="canonical symbol of the asset (universe.yaml)")
    asset_class: Series[str] = pa.Field(isin=list(ASSET_CLASSES), description="crypto, equity, fx, commodity or bond")
    has_volume: Series[bool] | None = pa.Field(
        description="optional: whether the asset's price source reports volume; "
        "when absent, taken from the universe (symbol -> has_volume)"
    )

    _not_applicable_is_null = _rule("not_applicable_is_null")


class _Ohlcv(_Base):
    price_open: Series[float] = _price("open of the day [quote currency]")
    price_high: Series[float] = _price("high of the day [quote currency]")
    price_low: Series[float] = _price("low of the day [quote currency]")
    price_close: Series[float] = _price("close of the day [quote currency]")
    volume: Series[float] = pa.Field(
        ge=0,
        nullable=True,
        description="traded volume of the day; null (not applicable) where the price source has none "
        "(fx, and XAUUSD from the FX endpoint)",
    )

    _ohlc_consistent = _rule("ohlc_consistent")


class _Reference(_Base):
    reference_close: Series[float] = _price(
        "CoinGecko close of the same day (crypto only; a second source for cross-checks) [quote currency]",
        nullable=True,
    )
    market_cap: Series[float] = pa.Field(
        ge=0, nullable=True, description="CoinGecko market capitalisation of the day (crypto only) [USD]"
    )


class _Technical(_Base):
    rsi_14: Series[float] = _feature("rsi_14", **_PCT)
    macd: Series[float] = _feature("macd")
    macd_signal: Series[float] = _feature("macd_signal")
    macd_histogram: Series[float] = _feature("macd_histogram")
    bb_upper: Series[float] = _feature("bb_upper")
    bb_middle: Series[float] = _feature("bb_middle", gt=0)
    bb_lower: Series[float] = _feature("bb_lower")
    sma_20: Series[float] = _feature("sma_20", gt=0)
    sma_50: Series[float] = _feature("sma_50", gt=0)
    sma_200: Series[float] = _feature("sma_200", gt=0)
    ema_12: Series[float] = _feature("ema_12", gt=0)
    ema_26: Series[float] = _feature("ema_26", gt=0)
    atr_14: Series[float] = _feature("atr_14", ge=0)
    adx_14: Series[float] = _feature("adx_14", **_PCT)
    volatility_30d: Series[float] = _feature("volatility_30d", ge=0)
    volatility_60d: Series[float] = _feature("volatility_60d", ge=0)
    volatility_90d: Series[float] = _feature("volatility_90d", ge=0)
    momentum_5d: Series[float] = _feature("momentum_5d", gt=-1)
    momentum_10d: Series[float] = _feature("momentum_10d", gt=-1)
    momentum_30d: Series[float] = _feature("momentum_30d", gt=-1)
    return_1d: Series[float] = _feature("return_1d")
    return_5d: Series[float] = _feature("return_5d")
    return_20d: Series[float] = _feature("return_20d")
    stoch_k_14: Series[float] = _feature("stoch_k_14", **_PCT)
    stoch_d_3: Series[float] = _feature("stoch_d_3", **_PCT)
    williams_r_14: Series[float] = _feature("williams_r_14", in_range={"min_value": -100, "max_value": 0})
    cci_20: Series[float] = _feature("cci_20")
    mfi_14: Series[float] = _feature("mfi_14", **_PCT)
    roc_10: Series[float] = _feature("roc_10", gt=-100)
    bb_width: Series[float] = _feature("bb_width", ge=0)
    bb_percent_b: Series[float] = _feature("bb_percent_b")
    price_to_sma_200: Series[float] = _feature("price_to_sma_200", gt=0)
    drawdown_252d: Series[float] = _feature("drawdown_252d", in_range={"min_value": -1, "max_value": 0})
    volume_zscore_20: Series[float] = _feature("volume_zscore_20")
    skew_60d: Series[float] = _feature("skew_60d")
    natr_14: Series[float] = _feature("natr_14", ge=0)
    return_60d: Series[float] = _feature("return_60d")
    beta_sp500_60d: Series[float] = _feature("beta_sp500_60d")
    corr_sp500_60d: Series[float] = _feature("corr_sp500_60d", **_UNIT)
    corr_dxy_60d: Series[float] = _feature("corr_dxy_60d", **_UNIT)


class _MacroFields(_Base):
    sp500_close: Series[float] = pa.Field(gt=0, nullable=True, description="S&P 500 close (FRED SP500) [index points]")
    vix: Series[float] = pa.Field(gt=0, nullable=True, description="CBOE VIX close (FRED VIXCLS) [index points]")
    dxy: Series[float] = pa.Field(
        gt=0, nullable=True, description="broad U.S. dollar index (FRED DTWEXBGS), known 7 days after [index]"
    )
    us10y_yield: Series[float] = pa.Field(
        nullable=True, description="10-year Treasury yield (FRED DGS10), known 1 day after [percent]"
    )
    us2y_yield: Series[float] = pa.Field(
        nullable=True, description="2-year Treasury yield (FRED DGS2), known 1 day after [percent]"
    )
    gold_price: Series[float] = pa.Field(gt=0, nullable=True, description="close of XAUUSD [USD per troy ounce]")
    oil_price: Series[float] = pa.Field(
        nullable=True, description="WTI spot, Cushing (FRED DCOILWTICO; negative in April 2020) [USD per barrel]"
    )
    cpi_yoy: Series[float] = pa.Field(
        nullable=True, description="core CPI year over year (FRED CPILFESL), known month end + 20 days [percent]"
    )
    gdp_growth_qoq: Series[float] = pa.Field(
        nullable=True, description="real GDP quarter over quarter, not annualised (FRED GDPC1) [percent]"
    )
    unemployment_rate: Series[float] = pa.Field(
        nullable=True, **_PCT, description="civilian unemployment rate (FRED UNRATE) [percent]"
    )
    yield_curve_10y_2y: Series[float] = pa.Field(
        nullable=True, description="us10y_yield - us2y_yield, both as known at the day [percentage points]"
    )


class _SentimentFields(_Base):
    news_sentiment_score: Series[float] = pa.Field(
        nullable=True, **_UNIT, description="GDELT average tone of the day's matching articles / 100 [score -1..1]"
    )
    news_volume: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="number of the day's articles matching the asset's news_query (GDELT)"
    )
    social_sentiment_score: Series[float] = pa.Field(
        nullable=True, **_UNIT, description="the social feed's daily score for the asset [score -1..1]"
    )
    social_mention_count: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="the social feed's daily mention count for the asset"
    )
    google_trends_score: Series[float] = pa.Field(
        nullable=True,
        **_PCT,
        description="latest completed week's Google Trends interest / its trailing 52-week high x 100 [0..100]",
    )
    fear_greed_index: Series[float] = pa.Field(
        nullable=True,
        **_PCT,
        description="alternative.me Crypto Fear & Greed index of the day (crypto only) [0..100]",
    )


_TARGET_DESCRIPTIONS = {
    "target_timestamp": f"the asset's last observation at or before timestamp + {HORIZON_DAYS} calendar days",
    "target_price_90d": "the close at target_timestamp [quote currency]",
    "target_return_90d": "ln(target_price_90d / close at timestamp) [log return]",
    "target_return_pct_90d": "(target_price_90d / close at timestamp - 1) x 100 [percent]",
}


# --------------------------------------------------------------------------- the schemas


class PricesSchema(_AssetKeys, _Ohlcv, _Reference):
    """``prices``: daily OHLCV of every asset, one row per asset per trading day."""

    source: Series[str] = pa.Field(description="price source of the row (alphavantage)")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class MacroSchema(_MacroFields):
    """``macro``: the 11 macro fields as released by each calendar day's close, one row per day."""

    timestamp: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=_UTC_NS, unique=True, description="the calendar day (00:00 UTC)"
    )

    class Config:
        strict = True
        coerce = False


class SentimentSchema(_AssetKeys, _SentimentFields):
    """``sentiment``: the 6 sentiment fields, one row per asset per calendar day."""

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class IndicatorsSchema(_AssetKeys, _Technical):
    """``indicators``: 37 technical and 3 cross-asset features, one row per asset per trading day."""

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class TargetsSchema(_Base):
    """``targets``: 90-day forward targets per asset per trading day (all four null where unknown)."""

    timestamp: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=_UTC_NS, description="the observation day")
    asset_symbol: Series[str] = pa.Field(description="canonical symbol of the asset (universe.yaml)")
    target_timestamp: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=_UTC_NS, nullable=True, description=_TARGET_DESCRIPTIONS["target_timestamp"]
    )
    target_price_90d: Series[float] = _price(_TARGET_DESCRIPTIONS["target_price_90d"], nullable=True)
    target_return_90d: Series[float] = pa.Field(nullable=True, description=_TARGET_DESCRIPTIONS["target_return_90d"])
    target_return_pct_90d: Series[float] = pa.Field(
        nullable=True, gt=-100, description=_TARGET_DESCRIPTIONS["target_return_pct_90d"]
    )

    _target_within_horizon = _rule("target_within_horizon")
    _targets_all_or_none = _rule("targets_all_or_none")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class SftRowsSchema(_AssetKeys, _Ohlcv, _Technical, _MacroFields, _SentimentFields, _Reference):
    """``sft_rows``: labelled instruction-tuning rows with every canonical column (targets never null)."""

    instruction: Series[str] = pa.Field(description="the task: asset, class, date and horizon")
    input: Series[str] = pa.Field(
        description="strict JSON object of every feature (6 significant digits; null when missing or not applicable)"
    )
    output: Series[str] = pa.Field(description="strict JSON object of the three 90-day targets")
    context_window: Series[str] = pa.Field(description="strict JSON array of the last N closes, oldest first")
    not_applicable: Series[str] = pa.Field(
        description="strict JSON array of the features that do not apply to the asset (class or price source)"
    )
    target_timestamp: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=_UTC_NS, description=_TARGET_DESCRIPTIONS["target_timestamp"]
    )
    target_price_90d: Series[float] = _price(_TARGET_DESCRIPTIONS["target_price_90d"])
    target_return_90d: Series[float] = pa.Field(description=_TARGET_DESCRIPTIONS["target_return_90d"])
    target_return_pct_90d: Series[float] = pa.Field(gt=-100, description=_TARGET_DESCRIPTIONS["target_return_pct_90d"])

    @pa.check("instruction", "input", "output", "context_window", "not_applicable", name="non_empty")
    @classmethod
    def non_empty(cls, series: pd.Series) -> pd.Series:
        return _passes(series, "non_empty")

    @pa.check("input", name="input_json")
    @classmethod
    def input_json(cls, series: pd.Series) -> pd.Series:
        return _passes(series, "input_json")

    @pa.check("output", name="output_json")
    @classmethod
    def output_json(cls, series: pd.Series) -> pd.Series:
        return _passes(series, "output_json")

    @pa.check("context_window", name="context_window_json")
    @classmethod
    def context_window_json(cls, series: pd.Series) -> pd.Series:
        return _passes(series, "context_window_json")

    @pa.check("not_applicable", name="not_applicable_json")
    @classmethod
    def not_applicable_json(cls, series: pd.Series) -> pd.Series:
        return _passes(series, "not_applicable_json")

    _not_applicable_listed = _rule("not_applicable_listed")
    _input_matches_columns = _rule("input_matches_columns")
    _output_matches_targets = _rule("output_matches_targets")
    _context_window_ends_at_close = _rule("context_window_ends_at_close")
    _target_returns_consistent = _rule("target_returns_consistent")
    _target_within_horizon = _rule("target_within_horizon")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class TrainingSetSchema(SftRowsSchema):
    """``training_set``: the CSV rows as written (``csv_ready``): timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` strings."""

    timestamp: Series[str] = pa.Field(description="the observation day, ISO 8601 UTC (YYYY-MM-DDTHH:MM:SSZ)")
    target_timestamp: Series[str] = pa.Field(description=_TARGET_DESCRIPTIONS["target_timestamp"] + ", ISO 8601 UTC")

    @pa.check("timestamp", "target_timestamp", name="iso_utc")
    @classmethod
    def iso_utc(cls, series: pd.Series) -> pd.Series:
        return _passes(series, "iso_utc")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "prices": PricesSchema,
    "macro": MacroSchema,
    "sentiment": SentimentSchema,
    "indicators": IndicatorsSchema,
    "targets": TargetsSchema,
    "sft_rows": SftRowsSchema,
    "training_set": TrainingSetSchema,
}


# --------------------------------------------------------------------------- validation


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
        text = f"{len(self.valid)} valid, {len(self.invalid)} invalid rows"
        return text + (f"; frame errors: {'; '.join(self.frame_errors)}" if self.frame_errors else "")


_FAILURE_COLUMNS = ["asset_symbol", "timestamp", "column", "check", "failure_case", "error", "row"]


def _builtin_phrase(check: pa.Check) -> str:
    """What a failing value does not satisfy: "outside 0..100", "not > 0", "not one of ..."."""
    stats = check.statistics or {}
    name = check.name
    if name == "in_range":
        lo, hi = stats["min_value"], stats["max_value"]
        if stats.get("include_min", True) and stats.get("include_max", True):
            return f"outside {_bound(lo)}..{_bound(hi)}"
        return f"outside {check.error}"
    comparisons = {
        "greater_than": (">", "min_value"),
        "greater_than_or_equal_to": (">=", "min_value"),
        "less_than": ("<", "max_value"),
        "less_than_or_equal_to": ("<=", "max_value"),
    }
    if name in comparisons:
        op, key = comparisons[name]
        return f"not {op} {_bound(stats[key])}"
    if name == "isin":
        return f"not one of {', '.join(map(str, stats['allowed_values']))}"
    return f"fails {check.error or name}"


def _builtin_constraint(check: pa.Check) -> str:
    stats = check.statistics or {}
    name = check.name
    if name == "in_range":
        lo_op = "<=" if stats.get("include_min", True) else "<"
        hi_op = "<=" if stats.get("include_max", True) else "<"
        return f"{_bound(stats['min_value'])} {lo_op} x {hi_op} {_bound(stats['max_value'])}"
    ops = {"greater_than": ">", "greater_than_or_equal_to": ">=", "less_than": "<", "less_than_or_equal_to": "<="}
    if name in ops:
        key = "min_value" if name.startswith("greater") else "max_value"
        return f"x {ops[name]} {_bound(stats[key])}"
    if name == "isin":
        return f"x in {{{', '.join(map(str, stats['allowed_values']))}}}"
    return str(check.error or name)


def _dtype_name(check: str) -> str:
    """``dtype('Int64')`` -> ``Int64``."""
    return check[len("dtype(") : -1].strip("'\"")


def _column_message(schema: pa.DataFrameSchema, column: str, check: str, number: object, value: object) -> str:
    if check == "not_nullable":
        return f"{column} is null"
    if check.startswith("dtype("):
        return f"{column}={_fmt(value)} is not of type {_dtype_name(check)}"
    if check in _COLUMN_CHECKS:
        spec = _COLUMN_CHECKS[check]
        problem = spec.problem(value) or f"fails {check}"
        return f"{column}={_fmt(value)} {problem}" if spec.shows_value else f"{column} {problem}"
    col = schema.columns.get(column)
    if col is not None and not _is_null(number):
        return f"{column}={_fmt(value)} {_builtin_phrase(col.checks[int(number)])}"  # type: ignore[arg-type]
    return f"{column}={_fmt(value)} fails {check}"


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


def validate_rows(frame: pd.DataFrame, schema: type[pa.DataFrameModel]) -> ValidationResult:
    """Validate ``frame`` against ``schema`` lazily and split it into valid and invalid rows.

    Nothing is dropped or filled: ``len(valid) + len(invalid) == len(frame)``. A
    row is invalid when any row-level check fails for it; its
    ``validation_error`` joins the readable messages with "; ", e.g.
    ``rsi_14=130.0 outside 0..100; price_close=0.0 not > 0``. Every copy of a
    duplicated key is invalid (``duplicated (timestamp, asset_symbol)``).
    Validation always runs at full depth, whatever ``PANDERA_VALIDATION_*`` says.
    """
    model = schema.to_schema()
    work = frame.reset_index(drop=True)
    with (
        config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA),
        warnings.catch_warnings(),
    ):
        # pandera's own concat of failure cases warns under pandas 2.3; not ours to fix.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pandera\.")
        try:
            schema.validate(work, lazy=True)
            cases = pd.DataFrame(columns=["schema_context", "column", "check", "check_number", "failure_case", "index"])
        except SchemaErrors as exc:
            cases = exc.failure_cases

    order = {c: i for i, c in enumerate(work.columns)}
    records: list[dict[str, object]] = []
    frame_errors: list[str] = []
    seen_rules: set[tuple[str, int]] = set()
    rule_rows: dict[str, set[int]] = {}
    for case in cases.itertuples(index=False):
        check, column, value = str(case.check), case.column, case.failure_case
        if _is_null(case.index):
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
        elif case.schema_context == "DataFrameSchema" and check in _RULES:
            rule_rows.setdefault(check, set()).add(row)  # explained below, all rows of a rule at once
            continue
        else:
            found = [(str(column), value, _column_message(model, str(column), check, case.check_number, value))]
        for col, failure_case, message in found:
            records.append(_record(work, row, col, check, failure_case, message))
    for check, rows in rule_rows.items():
        positions = sorted(rows)
        problems = _RULES[check].explain(work.iloc[positions])
        explained = {i for i, _, _, _ in problems}
        problems += [
            (i, _RULES[check].columns[0], None, f"fails {check}") for i in range(len(positions)) if i not in explained
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
            (r, c) in infinite and chk != "finite" and chk not in _RULES
            for r, c, chk in zip(failures["row"], failures["column"], failures["check"], strict=True)
        ]
        failures = failures[~np.array(redundant, dtype=bool)]
        # Per row: direct errors in column order, then the cross-checks they may cause.
        derived = failures["check"].map(lambda c: c in _RULES and _RULES[c].derived)
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


# --------------------------------------------------------------------------- table schema


def _applicability_text(column: str) -> str | None:
    if column not in CLASS_DEPENDENT:
        return None
    classes = [c for c in ASSET_CLASSES if not applies(column, c)]
    where = f"asset_class in {{{', '.join(classes)}}}"
    if column in VOLUME_FEATURES:
        where += " or a price source without volume (has_volume false)"
    return f"null where not applicable ({where})"


def _dataframe_rules(model: pa.DataFrameSchema) -> list[str]:
    return [c.name for c in model.checks if c.name in _RULES]


def table_schema(schema: type[pa.DataFrameModel]) -> TableSchema:
    """``schema`` as a Dagster ``TableSchema`` (for ``dagster/column_schema``): every column with its
    dtype, description and constraints (nullable, unique, ranges and row rules as text)."""
    model = schema.to_schema()
    rules = _dataframe_rules(model)
    rank = {c: i for i, c in enumerate(_COLUMN_ORDER)}
    columns = []
    for name in sorted(model.columns, key=lambda c: rank.get(c, len(rank))):
        col = model.columns[name]
        is_float = pd.api.types.is_float_dtype(str(col.dtype))
        other = []
        for check in col.checks:
            if check.name == "finite" and not is_float:
                continue
            spec = _COLUMN_CHECKS.get(check.name)
            other.append(spec.constraint if spec else _builtin_constraint(check))
        applicability = _applicability_text(name)
        if applicability and "not_applicable_is_null" in rules:
            other.append(applicability)
        other += [_RULES[r].constraint for r in rules if r != "not_applicable_is_null" and name in _RULES[r].columns]
        if not col.required:
            other.append("optional column")
        columns.append(
            TableColumn(
                name=name,
                type=str(col.dtype),
                description=col.description,
                constraints=TableColumnConstraints(nullable=bool(col.nullable), unique=bool(col.unique), other=other),
            )
        )
    table_other = [
        "strict: exactly these columns (has_volume optional)"
        if "has_volume" in model.columns
        else "strict: exactly these columns"
    ]
    if model.unique:
        table_other.append(f"unique ({', '.join(model.unique)})")
    table_other += [_RULES[r].constraint for r in rules]
    return TableSchema(columns=columns, constraints=TableConstraints(other=table_other))
