"""No exported text writes a negative zero: CSV, JSONL, the JSON text columns, the manifest and the card.

A float -0.0 is exported as 0.0 in every format (Parquet too, so the formats hold the same
values); a tiny negative value keeps its sign and digits; JSON text that writes a negative
zero is refused.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.export import SPLITS, assign_splits, export_training_set, read_export
from portfolio_assets.export.encoders import WRITERS
from portfolio_assets.export.frame import Column, canonical_frame
from portfolio_assets.export.provenance import jsonable
from portfolio_assets.features.sft import context_windows, format_rows
from portfolio_assets.strict_json import negative_zeros
from portfolio_assets_tests.test_export import SPLIT, canonical, make_rows


def number_tokens(text: str) -> list[str]:
    """Every number of the JSON ``text`` as written (an independent reader: strings are not numbers)."""
    tokens: list[str] = []

    def keep(token: str) -> float:
        tokens.append(token)
        return float(token)

    json.loads(text, parse_float=keep, parse_int=keep)
    return tokens


def is_negative_zero(token: str) -> bool:
    return token.startswith("-") and float(token) == 0


# --------------------------------------------------------------------------- the encoders


@pytest.fixture
def part() -> tuple[pd.DataFrame, list[Column]]:
    frame = pd.DataFrame({"x": [-0.0, -1e-12, 0.0, np.nan, -2.5], "n": pd.array([0, -1, None, 3, 0], dtype="Int64")})
    return frame, [Column("x", "float64"), Column("n", "Int64")]


def test_csv_writes_zero_for_negative_zero(part) -> None:
    text = WRITERS["csv"](*part).decode("utf-8")
    assert text == "x,n\n0.0,0\n-1e-12,-1\n0.0,\n,3\n-2.5,0\n"


def test_jsonl_writes_zero_for_negative_zero(part) -> None:
    lines = WRITERS["jsonl"](*part).decode("utf-8").splitlines()
    assert lines == [
        '{"x":0.0,"n":0}',
        '{"x":-1e-12,"n":-1}',
        '{"x":0.0,"n":null}',
        '{"x":null,"n":3}',
        '{"x":-2.5,"n":0}',
    ]


def test_canonical_frame_holds_no_negative_zero() -> None:
    rows = make_rows("2010-01-01", "2010-03-31")
    rows["macd"] = -0.0
    rows["rsi_14"] = np.float32(-0.0)
    frame, _ = canonical_frame(rows)
    for column in ["macd", "rsi_14"]:
        assert frame[column].eq(0).all() and not np.signbit(frame[column].to_numpy()).any()


# --------------------------------------------------------------------------- the JSON text columns


@pytest.mark.parametrize("token", ["-0.0", "-0", "-0e-3", "-0.000E+2"])
@pytest.mark.parametrize("column", ["input", "output", "context_window"])
def test_json_text_writing_a_negative_zero_is_refused(tmp_path, token, column) -> None:
    rows = canonical(make_rows("2010-01-01", "2010-03-31"))
    rows[column] = rows[column].where(rows.index != 7, f"[1.5, {token}]")
    with pytest.raises(ValueError, match=rf"{column} of row 7 writes a negative zero \({re.escape(token)}\)"):
        export_training_set(rows, tmp_path / "out", split=SPLIT, provenance={}, synthetic=())
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("[-0.0, -0, 0, 0.0, -0e5]", ["-0.0", "-0", "-0e5"]),
        ('{"a": -0.00E-3, "b": {"c": [-0.0]}}', ["-0.00E-3", "-0.0"]),
        ("[-0.5, -0.01, -1e-12, -10, -0.0001]", []),
        ('["-0.0", {"-0": "x -0.0"}]', []),  # text inside strings is not a number
    ],
)
def test_negative_zeros_finds_the_number_tokens_only(text, found) -> None:
    assert negative_zeros(text) == found
    assert [t for t in number_tokens(text) if is_negative_zero(t)] == found


# --------------------------------------------------------------------------- a whole export


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """make_rows with -0.0 and -1e-12 in canonical columns of every split, formatted by sft.format_rows."""
    rows = canonical(make_rows())
    labels = assign_splits(rows, SPLIT).labels
    picked = {s: labels.index[labels == s][[0, -1]] for s in SPLITS}
    zero_rows = pd.Index([i for s in SPLITS for i in picked[s]])
    rows.loc[zero_rows, ["macd", "price_close", "target_return_90d", "sma_50"]] = -0.0
    rows.loc[zero_rows, "rsi_14"] = -1e-12
    rows = format_rows(rows, FEATURE_COLUMNS, 90, prompt_format="chat")
    rows["context_window"] = context_windows(rows, 30)
    out = tmp_path_factory.mktemp("negative_zero") / "training_set"
    provenance = {"offset": -0.0, "tiny": -1e-12, "nested": {"values": [-0.0, 1.0]}}
    export_training_set(rows, out, split=SPLIT, provenance=provenance, synthetic=())
    return out, rows.loc[zero_rows, ["timestamp", "asset_symbol"]]


def test_exported_csv_writes_zero_and_keeps_tiny_negatives(export) -> None:
    out, zero_keys = export
    seen = 0
    for path in sorted((out / "csv").rglob("*.csv")):
        records = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        for record in records:
            for name, value in record.items():
                if name in {"instruction", "messages", "asset_symbol", "asset_class", "timestamp", "target_timestamp"}:
                    continue
                tokens = number_tokens(value) if value[:1] in ("[", "{") else [value] if value else []
                assert not any(is_negative_zero(t) for t in tokens), (path.name, name, value)
            key = (pd.Timestamp(record["timestamp"]), record["asset_symbol"])
            if key in set(zero_keys.itertuples(index=False, name=None)):
                seen += 1
                assert record["macd"] == record["price_close"] == record["target_return_90d"] == "0.0"
                assert record["rsi_14"] == "-1e-12"
                features = json.loads(record["input"])
                assert features["macd"] == 0.0 and features["rsi_14"] == -1e-12
                assert '"macd": 0.0' in record["input"] and '"rsi_14": -1e-12' in record["input"]
                assert '"predicted_return_90d": 0.0' in record["output"]
                assert json.loads(record["context_window"])[-1] == 0.0 and record["context_window"].endswith("0.0]")
    assert seen == len(zero_keys) == 2 * len(SPLITS)


def test_exported_jsonl_writes_zero_and_keeps_tiny_negatives(export) -> None:
    out, zero_keys = export
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((out / "jsonl").rglob("*.jsonl")))
    for line in text.splitlines():
        assert not any(is_negative_zero(t) for t in number_tokens(line)), line
        record = json.loads(line)
        for name in ["input", "output", "context_window"]:
            assert not any(is_negative_zero(t) for t in number_tokens(record[name])), record[name]
    assert text.count('"macd":0.0,') >= len(zero_keys)
    assert text.count('"rsi_14":-1e-12,') == len(zero_keys)


def test_parquet_holds_the_same_positive_zero(export) -> None:
    out, zero_keys = export
    frames = {fmt: read_export(out, fmt) for fmt in ("csv", "jsonl", "parquet")}
    for frame in frames.values():
        picked = frame.merge(zero_keys, on=["timestamp", "asset_symbol"])
        assert len(picked) == len(zero_keys)
        values = picked["macd"].to_numpy()
        assert (values == 0).all() and not np.signbit(values).any()
    for fmt in ("csv", "jsonl"):
        pd.testing.assert_frame_equal(frames[fmt], frames["parquet"], check_exact=True)


def test_manifest_and_card_write_zero_for_a_negative_zero_in_the_provenance(export) -> None:
    out, _ = export
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["provenance"] == {"offset": 0.0, "tiny": -1e-12, "nested": {"values": [0.0, 1.0]}}
    manifest_text = (out / "manifest.json").read_text(encoding="utf-8")
    assert not any(is_negative_zero(t) for t in number_tokens(manifest_text))
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "* **offset**: `0.0`" in card and "-0.0" not in card
    assert math.copysign(1.0, jsonable(-0.0)) == 1.0  # type: ignore[arg-type]
