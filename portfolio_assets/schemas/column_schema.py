"""``table_schema``: a schema as the Dagster ``TableSchema`` of the ``dagster/column_schema`` metadata."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from dagster import TableColumn, TableColumnConstraints, TableConstraints, TableSchema

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.columns import (
    AVAILABLE_AT,
    CORE_COLUMNS,
    CROSS_ASSET_AVAILABILITY,
    DECISION_TIME,
    INDICATOR_COLUMNS,
    LLM_COLUMNS,
    MACRO_AVAILABILITY,
    MACRO_COLUMNS,
    SENTIMENT_AVAILABILITY,
    SENTIMENT_FIELDS,
    TARGET_COLUMNS,
    VOLUME_FEATURES,
    applies,
)
from portfolio_assets.schemas.applicability import CLASS_DEPENDENT
from portfolio_assets.schemas.display import bound
from portfolio_assets.schemas.rules import RULES
from portfolio_assets.schemas.text import COLUMN_CHECKS

# Column order of table_schema (every schema's columns are a subsequence).
_COLUMN_ORDER = [
    *LLM_COLUMNS,
    *CORE_COLUMNS,
    DECISION_TIME,
    "has_volume",
    *TARGET_COLUMNS,
    *INDICATOR_COLUMNS,
    *MACRO_COLUMNS,
    *SENTIMENT_FIELDS,
    "reference_close",
    "market_cap",
    "source",
    AVAILABLE_AT,
    *CROSS_ASSET_AVAILABILITY,
    *MACRO_AVAILABILITY,
    *SENTIMENT_AVAILABILITY,
    "not_applicable",
]


def _builtin_constraint(check: pa.Check) -> str:
    stats = check.statistics or {}
    name = check.name
    if name == "in_range":
        lo_op = "<=" if stats.get("include_min", True) else "<"
        hi_op = "<=" if stats.get("include_max", True) else "<"
        return f"{bound(stats['min_value'])} {lo_op} x {hi_op} {bound(stats['max_value'])}"
    ops = {"greater_than": ">", "greater_than_or_equal_to": ">=", "less_than": "<", "less_than_or_equal_to": "<="}
    if name in ops:
        key = "min_value" if name.startswith("greater") else "max_value"
        return f"x {ops[name]} {bound(stats[key])}"
    if name == "isin":
        return f"x in {{{', '.join(map(str, stats['allowed_values']))}}}"
    return str(check.error or name)


def _applicability_text(column: str) -> str | None:
    if column not in CLASS_DEPENDENT:
        return None
    classes = [c for c in ASSET_CLASSES if not applies(column, c)]
    where = f"asset_class in {{{', '.join(classes)}}}"
    if column in VOLUME_FEATURES:
        where += " or a price source without volume (has_volume false)"
    return f"null where not applicable ({where})"


def _dataframe_rules(model: pa.DataFrameSchema) -> list[str]:
    return [c.name for c in model.checks if c.name in RULES]


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
            spec = COLUMN_CHECKS.get(check.name)
            other.append(spec.constraint if spec else _builtin_constraint(check))
        applicability = _applicability_text(name)
        if applicability and "not_applicable_is_null" in rules:
            other.append(applicability)
        other += [RULES[r].constraint for r in rules if r != "not_applicable_is_null" and name in RULES[r].columns]
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
    table_other += [RULES[r].constraint for r in rules]
    return TableSchema(columns=columns, constraints=TableConstraints(other=table_other))
