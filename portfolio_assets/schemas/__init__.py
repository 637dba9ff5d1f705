"""Pandera schemas of every asset group's frame and of the exported training rows, and row-level validation.

``SCHEMAS`` maps each group to its ``DataFrameModel`` (``models``); ``validate_rows``
splits a frame into valid and invalid rows with readable messages (``validation``);
``table_schema`` renders a schema for the ``dagster/column_schema`` metadata
(``column_schema``). The columns are declared in ``fields``, the dataframe-level row
rules in ``rules`` (``consistency``, ``applicability``, ``agreement``), the strict-JSON
and timestamp text checks in ``text``.
"""

from portfolio_assets.schemas.column_schema import table_schema
from portfolio_assets.schemas.models import (
    SCHEMAS,
    TRAINING_SET_SCHEMAS,
    BenchmarksSchema,
    IndicatorsSchema,
    MacroSchema,
    PricesSchema,
    SentimentSchema,
    SftRowsSchema,
    TargetsSchema,
    TrainingSetSchema,
)
from portfolio_assets.schemas.validation import ValidationResult, validate_rows

__all__ = [
    "SCHEMAS",
    "TRAINING_SET_SCHEMAS",
    "BenchmarksSchema",
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
