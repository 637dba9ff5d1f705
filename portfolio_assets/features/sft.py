"""Instruction-tuning rows: instruction / input / output / context_window.

Rounding policy for the JSON text (the canonical columns keep full float64):
every number is written with 6 significant digits, which keeps prices to
better than 1 part in 10^5 while not spending tokens on noise. Missing and
not-applicable values are ``null``; ``NaN`` and ``Infinity`` never appear.
Keys keep a fixed order: the order of ``feature_columns``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

SIGNIFICANT_DIGITS = 6
DEFAULT_CONTEXT_WINDOW = 30
OUTPUT_FIELDS = {
    "predicted_price_90d": "target_price_90d",
    "predicted_return_90d": "target_return_90d",
    "predicted_return_pct_90d": "target_return_pct_90d",
}


def round_number(value: object) -> float | int | None:
    """A JSON-safe number with the rounding policy applied, or None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        return None
    if number == 0:
        return 0.0
    return float(f"{number:.{SIGNIFICANT_DIGITS}g}")


def to_json(obj: dict[str, object] | list[object]) -> str:
    """Strict JSON (``allow_nan=False``), compact separators."""
    return json.dumps(obj, allow_nan=False, separators=(", ", ": "))


def instruction_text(asset_symbol: str, asset_class: str, day: pd.Timestamp, horizon_days: int) -> str:
    return (
        f"Predict the {horizon_days}-day forward price and return for {asset_symbol} ({asset_class}) "
        f"as of the close of {day:%Y-%m-%d}, based on the following technical, macroeconomic and "
        "sentiment features."
    )


def context_windows(prices: pd.DataFrame, length: int) -> pd.Series:
    """JSON array of each row's last ``length`` closes (oldest first, today last), per asset.

    Indexed like ``prices``; shorter at the start of a series.
    """
    ordered = prices.sort_values(["asset_symbol", "timestamp"])
    out = pd.Series(index=ordered.index, dtype="object")
    for _, group in ordered.groupby("asset_symbol", sort=False):
        closes = [round_number(v) for v in group["price_close"].to_numpy()]
        for i, idx in enumerate(group.index):
            out[idx] = to_json(closes[max(0, i + 1 - length) : i + 1])
    return out.reindex(prices.index)


def format_rows(rows: pd.DataFrame, feature_columns: Sequence[str], horizon_days: int) -> pd.DataFrame:
    """Add ``instruction``, ``input`` and ``output`` to joined feature+target rows."""
    records = rows[list(feature_columns)].to_dict(orient="records")
    inputs = [to_json({k: round_number(v) for k, v in rec.items()}) for rec in records]
    targets = rows[list(OUTPUT_FIELDS.values())].to_dict(orient="records")
    outputs = [to_json({out: round_number(rec[col]) for out, col in OUTPUT_FIELDS.items()}) for rec in targets]
    instructions = [
        instruction_text(sym, cls, ts, horizon_days)
        for sym, cls, ts in zip(rows["asset_symbol"], rows["asset_class"], rows["timestamp"], strict=True)
    ]
    return rows.assign(instruction=instructions, input=inputs, output=outputs)
