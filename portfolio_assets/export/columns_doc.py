"""``columns.json``: the machine-readable column dictionary beside the dataset card.

For every exported column: its name, its type as the files hold it (``dtype`` read back by pandas,
``arrow_type`` in Parquet), unit, definition, when it is known (point in time), group and, for a feature,
its source, window and valid range. Feature entries come from the declarations (``features.registry``,
the same source as FEATURES.md); the other columns are declared once here, in ``COLUMN_DOCS``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from portfolio_assets.features.registry import FEATURES_BY_NAME
from portfolio_assets.features.sft_output import MASKED_DAY, MASKED_SYMBOL
from portfolio_assets.features.spec import Feature
from portfolio_assets.spans import HORIZON_DAYS

__all__ = ["COLUMNS_FORMAT", "COLUMNS_NAME", "COLUMN_DOCS", "column_dictionary", "columns_bytes", "feature_entry"]

COLUMNS_NAME = "columns.json"
COLUMNS_FORMAT = "portfolio_assets.column_dictionary"

_DECISION = "at the decision time (the row's decision_time: the close of timestamp's daily bar)"
_LABEL = f"at target_timestamp (the label: {HORIZON_DAYS} days in the future of the row; never an input)"
_STATIC = "static: known before the row (identity)"
_PRICE = "price (quote currency)"

COLUMN_DOCS: dict[str, dict[str, str]] = {
    # name: group, unit, definition, when
    "instruction": {
        "group": "text",
        "unit": "text",
        "definition": f"the task: asset, class, date and {HORIZON_DAYS}-day horizon, in English",
        "when": _DECISION,
    },
    "input": {
        "group": "text",
        "unit": "strict JSON text",
        "definition": "the features of the row (see the feature entries), rounded for the prompt",
        "when": _DECISION,
    },
    "output": {
        "group": "text",
        "unit": "strict JSON text",
        "definition": "the forecast the model learns to write, derived from the targets",
        "when": _LABEL,
    },
    "context_window": {
        "group": "text",
        "unit": "strict JSON array of prices (quote currency)",
        "definition": "the last closes, oldest first, ending at the day's close",
        "when": _DECISION,
    },
    "timestamp": {
        "group": "identity",
        "unit": "UTC timestamp (00:00:00Z of the row's day)",
        "definition": "the observation day D the row describes",
        "when": _STATIC,
    },
    "asset_symbol": {"group": "identity", "unit": "text", "definition": "the asset's symbol", "when": _STATIC},
    "asset_class": {
        "group": "identity",
        "unit": "text",
        "definition": "crypto, equity, fx, commodity or bond",
        "when": _STATIC,
    },
    "price_open": {"group": "price", "unit": _PRICE, "definition": "open of day D, as traded", "when": _DECISION},
    "price_high": {"group": "price", "unit": _PRICE, "definition": "high of day D, as traded", "when": _DECISION},
    "price_low": {"group": "price", "unit": _PRICE, "definition": "low of day D, as traded", "when": _DECISION},
    "decision_time": {
        "group": "identity",
        "unit": "UTC timestamp",
        "definition": "the end of the row's own daily price bar: every input was available by then",
        "when": _STATIC,
    },
    "target_timestamp": {
        "group": "target",
        "unit": "UTC timestamp",
        "definition": f"the day the target close was observed: the last trading day on or before D + {HORIZON_DAYS}",
        "when": _LABEL,
    },
    "target_price_90d": {
        "group": "target",
        "unit": _PRICE + ", in the row's share basis",
        "definition": "the close on target_timestamp",
        "when": _LABEL,
    },
    "target_return_90d": {
        "group": "target",
        "unit": "log return (natural log, dimensionless)",
        "definition": "ln(split-adjusted target close / D's close)",
        "when": _LABEL,
    },
    "target_return_pct_90d": {
        "group": "target",
        "unit": "percent",
        "definition": "(split-adjusted target close / D's close − 1) × 100",
        "when": _LABEL,
    },
    "target_total_return_90d": {
        "group": "target",
        "unit": "log return (natural log, dimensionless)",
        "definition": "the log return with the dividends whose ex-date is in the horizon reinvested",
        "when": _LABEL,
    },
    "reference_close": {
        "group": "reference",
        "unit": _PRICE,
        "definition": "a second source's close of the day (CoinGecko for crypto), for cross-checking",
        "when": _DECISION,
    },
    "market_cap": {
        "group": "reference",
        "unit": "quote currency",
        "definition": "market capitalisation from the reference source",
        "when": _DECISION,
    },
    "not_applicable": {
        "group": "applicability",
        "unit": "strict JSON array of column names",
        "definition": "the features that do not apply to the asset (as opposed to missing ones)",
        "when": _STATIC,
    },
    "row_id": {
        "group": "identity",
        "unit": "text",
        "definition": "'<asset_symbol>:<UTC day of timestamp, YYYY-MM-DD>': the row's stable id (folds, predictions)",
        "when": _STATIC,
    },
    "is_synthetic": {
        "group": "provenance",
        "unit": "boolean",
        "definition": "whether the row's own price series is a synthetic stand-in (manifest provenance.sources)",
        "when": _STATIC,
    },
    "messages": {
        "group": "text",
        "unit": "list of {role, content} messages",
        "definition": "system / user / assistant chat built from instruction, input and output",
        "when": "the user turns at the decision time; the assistant turn at target_timestamp (the label)",
    },
    "prompt": {
        "group": "text",
        "unit": "text, or a list of {role, content} messages (chat)",
        "definition": "what the model reads: instruction and input (chat: system and user messages)",
        "when": _DECISION,
    },
    "completion": {
        "group": "text",
        "unit": "text, or a list of {role, content} messages (chat)",
        "definition": "what the model learns to write: output (chat: the assistant message)",
        "when": _LABEL,
    },
}
"""The non-feature columns' meaning (features: ``features.registry``)."""


def feature_entry(feature: Feature) -> dict[str, object]:
    """A feature's declaration as its ``columns.json`` entry (without the file types)."""
    return {
        "group": f"feature/{feature.family}",
        "unit": feature.unit,
        "definition": feature.formula,
        "when": feature.known_at,
        "source": feature.source,
        "window": feature.window,
        "valid_range": feature.valid.describe(),
        "applies_to": sorted(feature.applies_to),
    }


def _as_exported(name: str, meaning: Mapping[str, object], provenance: Mapping[str, object]) -> Mapping[str, object]:
    """``meaning`` of a text column as this export's settings (its provenance) shape it: the output's fields and
    their precision, a masked identity."""
    output = provenance.get("output")
    described = output.get("described") if isinstance(output, Mapping) else None
    if name in ("output", "completion") and isinstance(described, list) and described:
        fields = "; ".join(f"{d.get('key')}: {d.get('meaning')}, {d.get('precision')}" for d in described)
        return {**meaning, "definition": f"{meaning['definition']}; a JSON object of, in order: {fields}"}
    if name in ("instruction", "prompt", "messages") and provenance.get("mask_identity") is True:
        return {
            **meaning,
            "definition": f"{meaning['definition']}; identity masked: the ticker is written {MASKED_SYMBOL!r} and "
            f"the date {MASKED_DAY!r} (asset_symbol, timestamp and row_id keep them)",
        }
    return meaning


def column_dictionary(
    schema: Sequence[Mapping[str, str]], provenance: Mapping[str, object] | None = None
) -> dict[str, object]:
    """The dictionary of the manifest's ``schema`` columns, in file order, the text columns as the export's
    ``provenance`` (output format, masking) shapes them; ValueError for a column with no declaration (a new
    column must be declared here or in the feature registry)."""
    entries = []
    for column in schema:
        name = column["name"]
        if name in FEATURES_BY_NAME:
            meaning: Mapping[str, object] = feature_entry(FEATURES_BY_NAME[name])
        elif name in COLUMN_DOCS:
            meaning = _as_exported(name, COLUMN_DOCS[name], provenance or {})
        else:
            raise ValueError(
                f"exported column {name!r} has no declaration (features.registry or export.columns_doc.COLUMN_DOCS)"
            )
        entries.append({"name": name, "dtype": column["dtype"], "arrow_type": column["arrow_type"], **meaning})
    return {"format": COLUMNS_FORMAT, "format_version": 1, "columns": entries}


def columns_bytes(schema: Sequence[Mapping[str, str]], provenance: Mapping[str, object] | None = None) -> bytes:
    """``column_dictionary`` as the file's bytes: indented, keys sorted, UTF-8, final newline."""
    dictionary = column_dictionary(schema, provenance)
    text = json.dumps(dictionary, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")
