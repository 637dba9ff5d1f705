"""Golden digests of the row path: the text of ``format_rows``, every exported byte and ``validate_rows``' messages.

The digests were recorded with the per-row implementation that came before the vectorised
one; a change that means to alter them says why. The rows are ``bench_rows.synthetic_rows``
plus awkward values: -0.0, NaN, None, subnormal / tiny / huge floats, rounding ties, unicode and
CSV-special symbols, empty and non-canonical context windows, mixed-type object columns.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.assets.training_set import csv_ready
from portfolio_assets.bench_rows import synthetic_rows
from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.export import SplitConfig, export_training_set
from portfolio_assets.features.sft import PROMPT_FORMATS, format_rows
from portfolio_assets.schemas import TRAINING_SET_SCHEMAS, validate_rows
from portfolio_assets.spans import HORIZON_DAYS

AWKWARD_FLOATS = [
    -0.0,
    0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1e-300,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    1.234565,
    0.5,
    1234565.0,
    999999.5,
    9.999995,
    99999.95,
    -1e-12,
    1e16,
    9.999995e15,
    1e15,
    123456789012.0,
    1e-5,
    1e-4,
    0.1 + 0.2,
    2.0**53 + 2,
    -123456.78901234567,
    1e22,
    1e23,
    3.0e-7,
    np.nan,
]
SYMBOLS = ["BTC-€", "ÉTF✓", 'a,b"c', "line\u2028sep", "漢字\n", "tab\tx"]


def awkward_rows() -> pd.DataFrame:
    """Synthetic rows with awkward values spread over the float columns and a few odd symbols."""
    rows = synthetic_rows(3000, assets=3, seed=11)
    rng = np.random.default_rng(5)
    floats = [c for c in rows.columns if rows[c].dtype == "float64" and c not in ("price_close",)]
    for column in floats:
        at = rng.choice(len(rows), len(AWKWARD_FLOATS), replace=False)
        rows.loc[at, column] = AWKWARD_FLOATS
    at = rng.choice(len(rows), len(AWKWARD_FLOATS) - 1, replace=False)
    rows.loc[at, "price_close"] = [abs(v) or 1.0 for v in AWKWARD_FLOATS[:-1]]
    rows.loc[rng.choice(len(rows), 3, replace=False), "news_volume"] = [2**53 + 1, 0, pd.NA]
    extra = rows.drop_duplicates("asset_symbol").head(len(SYMBOLS)).copy()
    extra["asset_symbol"] = SYMBOLS[: len(extra)]
    rows = pd.concat([rows, extra, extra.assign(asset_symbol=SYMBOLS[3:])], ignore_index=True)
    rows.loc[rng.choice(len(rows), 4, replace=False), "context_window"] = ["[]", "[]", "[0, 0.0, 1.5]", "[1, 2.25]"]
    return rows


def digest(values: object) -> str:
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


def text_digests(rows: pd.DataFrame) -> dict[str, str]:
    out = {}
    for fmt in PROMPT_FORMATS:
        formatted = format_rows(rows, FEATURE_COLUMNS, HORIZON_DAYS, prompt_format=fmt)
        for column in ("instruction", "input", "output", "messages", "prompt", "completion"):
            if column in formatted.columns:
                out[f"{fmt}.{column}"] = digest(formatted[column].tolist())
    return out


GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "rows_golden.json").read_text(encoding="utf-8"))
FORMAT_DIGESTS: dict[str, str] = GOLDEN["FORMAT"]
EXPORT_DIGESTS: dict[str, str] = GOLDEN["EXPORT"]
VALIDATION_DIGESTS: dict[str, str] = GOLDEN["VALIDATION"]


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return awkward_rows()


def test_format_rows_text_is_unchanged(rows) -> None:
    odd = rows.copy()
    odd["volatility_30d"] = odd["volatility_30d"].astype(object)
    odd.loc[:5, "volatility_30d"] = [1, None, 2.5, True, np.int64(3), np.float32(0.1)]
    odd.loc[6:8, "macd"] = [np.inf, -np.inf, -0.0]
    odd.loc[9:12, "context_window"] = ["[-0.0, -0, 1e400]", None, "[1.5,2.5]", "[1.23456789, null, true]"]
    assert text_digests(odd) == FORMAT_DIGESTS


def export_digests(rows: pd.DataFrame, tmp_path) -> dict[str, str]:
    out = {}
    split = SplitConfig(validation_start=date(2001, 9, 1), test_start=date(2002, 3, 1), embargo_days=3)
    for fmt in PROMPT_FORMATS:
        formatted = format_rows(rows, FEATURE_COLUMNS, HORIZON_DAYS, prompt_format=fmt)
        target = tmp_path / fmt
        export_training_set(
            formatted, target, split=split, shard_by="quarter", provenance={"prompt_format": fmt}, synthetic=()
        )
        for path in sorted(target.rglob("*")):
            if path.is_file():
                out[f"{fmt}/{path.relative_to(target).as_posix()}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_every_exported_byte_is_unchanged(rows, tmp_path) -> None:
    assert export_digests(rows, tmp_path) == EXPORT_DIGESTS


def corrupted(ready: pd.DataFrame) -> pd.DataFrame:
    """Valid csv_ready rows with one problem each in a few rows (every kind of check)."""
    bad = ready.copy()
    bad.loc[1, "rsi_14"] = 130.0
    bad.loc[2, "price_close"] = 0.0
    bad.loc[3, "input"] = bad.loc[3, "input"].replace(": ", ": 1", 1)
    bad.loc[4, "output"] = "{not json"
    bad.loc[5, "context_window"] = "[]"
    bad.loc[6, "not_applicable"] = '["volume"]'
    bad.loc[7, "timestamp"] = "2010-13-01T00:00:00Z"
    bad.loc[8, "target_return_90d"] = 5.0
    bad.loc[9, "input"] = bad.loc[9, "input"].replace("null", "NaN", 1)
    bad.loc[10, "target_timestamp"] = bad.loc[10, "timestamp"]
    bad.loc[11, "macd"] = np.inf
    bad.loc[12, "price_high"] = 1e-9
    bad.loc[13, "context_window"] = '[1.0, 2.0, "x"]'
    bad.loc[14, "instruction"] = "   "
    bad.loc[15, "decision_time"] = "2010-01-01 16:00:00"
    bad.loc[16, "output"] = bad.loc[16, "output"].replace("{", '{"extra": 1, ', 1)
    bad.loc[17, "not_applicable"] = "[1, 2]"
    bad.loc[18, "context_window"] = "[1.0, 2.0, 3.0]"
    bad.loc[19, "input"] = "[]"
    if "messages" in bad.columns:
        bad.loc[20, "messages"] = bad.loc[20, "messages"].replace("system", "sys", 1)
        bad.loc[21, "messages"] = bad.loc[21, "messages"].replace("Predict", "predict", 1)
    bad.loc[23, "prompt"] = bad.loc[23, "prompt"] + " "
    bad.loc[24, "completion"] = "[]"
    bad = pd.concat([bad, bad.iloc[[22]]], ignore_index=True)
    return bad


def validation_digests(rows: pd.DataFrame) -> dict[str, str]:
    out = {}
    for fmt in PROMPT_FORMATS:
        ready = csv_ready(format_rows(rows, FEATURE_COLUMNS, HORIZON_DAYS, prompt_format=fmt))
        for name, frame in (("clean", ready), ("corrupted", corrupted(ready))):
            result = validate_rows(frame, TRAINING_SET_SCHEMAS[fmt])
            failures = result.failures.astype(str).to_numpy().tolist()
            out[f"{fmt}.{name}"] = digest(
                [failures, result.invalid["validation_error"].tolist(), result.frame_errors, len(result.valid)]
            )
    return out


def test_validation_messages_are_unchanged(rows) -> None:
    assert validation_digests(rows) == VALIDATION_DIGESTS
