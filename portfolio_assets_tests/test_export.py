"""The training-set export: shards, CSV / JSONL / Parquet, manifest, card, atomicity (splits: test_export_splits).

Rows are synthetic but shaped like ``sft_rows``: every column of ``SFT_COLUMNS`` with
its real dtype, full-precision floats (and awkward ones: -0.0, which is exported as
0.0, tiny normals, the largest double), nullable ints, and text with quotes, commas,
CR/LF and non-ASCII; the JSON text rounds with ``features.sft.round_number``.
Hugging Face ``datasets`` runs offline, with its cache under the test's tmp dir.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

from datetime import date
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pytest
import yaml

from portfolio_assets import fpmath
from portfolio_assets.columns import SFT_COLUMNS
from portfolio_assets.export import (
    CSV_READ_OPTIONS,
    FORMATS,
    SPLITS,
    SplitConfig,
    assign_splits,
    encoders,
    export_training_set,
    read_export,
    read_export_file,
    shard_key,
    sink,
)
from portfolio_assets.export.readback import _with_dtypes
from portfolio_assets.export.rowid import row_ids
from portfolio_assets.features.sft import round_number

datasets.disable_progress_bars()

TEXT_COLUMNS = {"instruction", "input", "output", "context_window", "asset_symbol", "asset_class", "not_applicable"}
INT_COLUMNS = {"news_volume", "social_mention_count"}
TIME_COLUMNS = {"timestamp", "target_timestamp", "decision_time"}
KEYS = ["timestamp", "asset_symbol"]
ASSETS = [("BTC-USD", "crypto", "D"), ("GOOG", "equity", "B"), ("EURUSD", "fx", "B")]
SPLIT = SplitConfig(validation_start=date(2010, 11, 1), test_start=date(2011, 3, 1), embargo_days=5)
PROVENANCE = {
    "partitions": {"first": "2010-01-01", "last": "2011-06-30"},
    "sources": {
        "alphavantage/function=TIME_SERIES_DAILY,symbol=GOOG": {"kind": "real", "origin": "backtesting.test.GOOG"},
        "alphavantage/function=DIGITAL_CURRENCY_DAILY,market=USD,symbol=BTC": {"kind": "synthetic", "origin": "GBM"},
    },
    "checks_passed": ["TrainingSetSchema"],
    "code_version": "test-sha",
    "prompt_format": "chat",
}
SYNTHETIC = frozenset({"BTC-USD"})
"""The symbols whose price series PROVENANCE marks synthetic (``is_synthetic``)."""
HF_BUILDERS = {"csv": ("csv", CSV_READ_OPTIONS), "jsonl": ("json", {}), "parquet": ("parquet", {})}
# No subnormals: pandas' round-trip CSV float parser raises "Range error" on them (5e-324).
SPECIAL_FLOATS = [
    -0.0,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    1e-300,
    0.1 + 0.2,
    2.0**53 + 2,
    -123456.78901234567,
]
TRICKY_TEXTS = [
    'He said "buy", then: sell,\nnow.',
    "CRLF\r\nline, with a comma",
    "a lone\rcarriage return",
    'lone " quote',
    "ünïcödé € — 漢字, tab\there",
    "line separator\u2028and paragraph\u2029end",
    "  leading and trailing spaces  ",
    "NA",
    "null",
]


def make_rows(start: str = "2010-01-01", end: str = "2011-06-30", seed: int = 7) -> pd.DataFrame:
    """Rows like ``sft_rows`` (every SFT column with its dtype) plus a ``messages`` column."""
    rng = np.random.default_rng(seed)
    frames = []
    for symbol, asset_class, freq in ASSETS:
        days = pd.date_range(start, end, freq=freq, tz="UTC")
        n = len(days)
        horizon = days + pd.Timedelta(days=90)
        if freq == "B":  # a weekend horizon takes Friday's close
            horizon = horizon - pd.to_timedelta(np.maximum(horizon.dayofweek - 4, 0), unit="D")
        close = 100.0 * fpmath.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
        target = close * fpmath.exp(rng.normal(0.0, 0.1, n))
        data: dict[str, object] = {}
        for column in SFT_COLUMNS:
            if column in TEXT_COLUMNS or column in TIME_COLUMNS:
                continue
            if column in INT_COLUMNS:
                values = pd.array(rng.integers(0, 2**40, n), dtype="Int64")
                values[rng.random(n) < 0.2] = pd.NA
                data[column] = values
            else:
                values = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)
                values[rng.random(n) < 0.1] = np.nan
                data[column] = values
        data["price_close"] = close
        data["target_price_90d"] = target
        data["target_return_90d"] = fpmath.log(target / close)
        data["target_return_pct_90d"] = (target / close - 1.0) * 100.0
        if asset_class == "fx":
            data["volume"] = np.full(n, np.nan)
        frame = pd.DataFrame(data)
        frame["timestamp"] = days
        frame["target_timestamp"] = horizon
        frame["decision_time"] = days + pd.Timedelta(hours=16)
        frame["asset_symbol"] = symbol
        frame["asset_class"] = asset_class
        frame["not_applicable"] = '["volume"]' if asset_class == "fx" else "[]"
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True)
    n = len(rows)
    special = rng.choice(n, len(SPECIAL_FLOATS), replace=False)
    rows.loc[special, "macd"] = SPECIAL_FLOATS
    tricky = rng.choice(n, len(TRICKY_TEXTS), replace=False)
    instructions = [
        f'Predict the 90-day "forward" price, and return, for {s} ({c})\nas of {t:%Y-%m-%d}.'
        for s, c, t in zip(rows["asset_symbol"], rows["asset_class"], rows["timestamp"], strict=True)
    ]
    for i, text in zip(tricky, TRICKY_TEXTS, strict=True):
        instructions[i] = text
    rows["instruction"] = instructions
    inputs, outputs, windows = [], [], []
    for i, rec in enumerate(rows[["price_close", "rsi_14", "macd", "volume"]].to_dict("records")):
        obj = {k: round_number(v) for k, v in rec.items()} | {"note": 'a "quoted", text'}
        inputs.append(json.dumps(obj, indent=1) if i % 7 == 0 else json.dumps(obj))  # indent: raw newlines
        outputs.append(json.dumps({"predicted_price_90d": round_number(rows["target_price_90d"].iat[i])}))
        windows.append(json.dumps([round_number(rows["price_close"].iat[i])] * 3))
    rows["input"], rows["output"], rows["context_window"] = inputs, outputs, windows
    rows["messages"] = [
        json.dumps([{"role": "user", "content": f"{a}\n\n{b}"}, {"role": "assistant", "content": c}])
        for a, b, c in zip(rows["instruction"], rows["input"], rows["output"], strict=True)
    ]
    rows = rows[[*SFT_COLUMNS, "messages"]]
    return rows.sample(frac=1.0, random_state=1).reset_index(drop=True)  # input order must not matter


def canonical(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.sort_values(KEYS, kind="stable").reset_index(drop=True)


def expected_rows(rows: pd.DataFrame, config: SplitConfig = SPLIT, synthetic=SYNTHETIC) -> pd.DataFrame:
    """The exported rows, in export order, with their split (a float -0.0 exported as 0.0), their ``row_id`` and
    ``is_synthetic`` after ``SFT_COLUMNS``, and ``messages`` as lists of {role, content} dicts."""
    ordered = canonical(rows)
    floats = ordered.select_dtypes("float64").columns
    ordered[floats] = ordered[floats] + 0.0
    at = len(SFT_COLUMNS)
    ordered.insert(at, "row_id", row_ids(ordered["asset_symbol"], ordered["timestamp"]))
    ordered.insert(at + 1, "is_synthetic", ordered["asset_symbol"].isin(synthetic).astype("boolean"))
    for column in ("messages", "prompt", "completion"):
        if column in ordered and str(ordered[column].dropna().iloc[0]).startswith("["):
            ordered[column] = [None if m is None else json.loads(m) for m in ordered[column]]
    labels = assign_splits(ordered, config).labels
    kept = ordered[labels.isin(SPLITS)].assign(split=labels[labels.isin(SPLITS)])
    order = kept["split"].map(SPLITS.index)
    return kept.assign(_o=order).sort_values(["_o", *KEYS], kind="stable").drop(columns="_o").reset_index(drop=True)


def assert_same_rows(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal frames, floats to the last bit (-0.0 is not 0.0)."""
    actual, expected = actual.reset_index(drop=True), expected.reset_index(drop=True)
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)
    for column in expected.columns:
        if expected[column].dtype == "float64":
            a, e = actual[column].to_numpy(), expected[column].to_numpy()
            assert np.array_equal(np.isnan(a), np.isnan(e)), column
            assert np.array_equal(a[~np.isnan(a)].view("u8"), e[~np.isnan(e)].view("u8")), column


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def load_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return make_rows()


@pytest.fixture(scope="module")
def exported(rows, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "training_set"
    report = export_training_set(rows, out, split=SPLIT, shard_by="quarter", provenance=PROVENANCE, synthetic=SYNTHETIC)
    return out, report


# --------------------------------------------------------------------------- reading back


def test_every_format_reads_back_the_input_rows_exactly(rows, exported):
    out, report = exported
    expected = expected_rows(rows)
    assert report.rows == expected["split"].value_counts().reindex(list(SPLITS)).to_dict()
    assert list(expected.columns) == [*SFT_COLUMNS, "row_id", "is_synthetic", "messages", "split"]
    for fmt in FORMATS:
        assert_same_rows(read_export(out, fmt), expected)


def test_plain_pandas_reads_every_file(rows, exported):
    out, _ = exported
    manifest = load_manifest(out)
    schema = manifest["schema"]
    expected = expected_rows(rows)
    for entry in manifest["files"]:
        path = out / entry["path"]
        if entry["format"] == "csv":
            frame = pd.read_csv(path, encoding="utf-8", **CSV_READ_OPTIONS)
        elif entry["format"] == "jsonl":
            frame = pd.read_json(path, lines=True, precise_float=True, dtype=False, convert_dates=False)
        else:
            frame = pd.read_parquet(path)
        assert len(frame) == entry["rows"]
        part = expected[(expected["split"] == entry["split"])]
        part = part[shard_key(part["timestamp"], "quarter") == entry["shard"]].drop(columns="split")
        assert_same_rows(_with_dtypes(frame, schema), part)


def test_hugging_face_datasets_loads_every_file_with_the_same_rows(rows, exported, tmp_path):
    out, _ = exported
    manifest = load_manifest(out)
    expected = expected_rows(rows)
    for fmt, (builder, options) in HF_BUILDERS.items():
        for split in SPLITS:
            files = [str(out / f["path"]) for f in manifest["files"] if f["format"] == fmt and f["split"] == split]
            ds = datasets.load_dataset(builder, data_files=files, split="train", cache_dir=str(tmp_path), **options)
            assert ds.column_names == [c["name"] for c in manifest["schema"]]
            got = _with_dtypes(ds.to_pandas(), manifest["schema"])
            assert_same_rows(got, expected[expected["split"] == split].drop(columns="split"))


def test_the_dataset_cards_load_with_hugging_face(rows, exported, tmp_path):
    out, _ = exported
    manifest = load_manifest(out)
    expected = expected_rows(rows)
    for where in ["", *FORMATS]:  # top card: parquet; each format directory: its own card
        loaded = datasets.load_dataset(str(out / where), cache_dir=str(tmp_path))
        assert list(loaded) == list(SPLITS)
        for split in SPLITS:
            got = _with_dtypes(loaded[split].to_pandas(), manifest["schema"])
            assert_same_rows(got, expected[expected["split"] == split].drop(columns="split"))


def test_text_columns_are_strict_json(exported):
    out, _ = exported

    def strict(text: str) -> object:
        def reject(token: str) -> None:
            raise ValueError(token)

        return json.loads(text, parse_constant=reject)

    names = [c["name"] for c in load_manifest(out)["schema"]]
    for path in sorted((out / "jsonl").rglob("*.jsonl")):
        lines = path.read_bytes().split(b"\n")
        assert lines[-1] == b""
        # U+2028 / U+2029 are escaped, so even str.splitlines() sees one record per line
        assert len(path.read_bytes().decode("utf-8").splitlines()) == len(lines) - 1
        for line in lines[:-1]:
            record = strict(line.decode("utf-8"))
            assert list(record) == names
    for fmt in FORMATS:
        frame = read_export(out, fmt)
        for column in ["input", "output", "context_window", "not_applicable"]:
            parsed = [strict(v) for v in frame[column]]
            assert all(isinstance(p, dict | list) for p in parsed), (fmt, column)
        assert all(isinstance(m, list) and {"role", "content"} == set(m[0]) for m in frame["messages"]), fmt


def test_csv_round_trips_quotes_commas_and_newlines(rows, exported):
    out, _ = exported
    manifest = load_manifest(out)
    exported_text = set(read_export(out, "csv")["instruction"])
    tricky = [t for t in TRICKY_TEXTS if t in exported_text]
    assert len(tricky) >= 4  # most land outside the purged / embargoed days
    header = ",".join(c["name"] for c in manifest["schema"])
    seen: set[str] = set()
    for path in sorted((out / "csv").rglob("*.csv")):
        raw = path.read_bytes()
        assert raw.startswith(header.encode() + b"\n")
        assert not raw.startswith(b"\xef\xbb\xbf")
        # an independent RFC 4180 reader sees the same text
        records = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline=""), strict=True))
        assert records[0] == header.split(",")
        seen |= {r[0] for r in records[1:]}
        assert all(len(r) == len(records[0]) for r in records)
    assert set(tricky) <= seen
    raw_text = "".join(p.read_bytes().decode("utf-8") for p in sorted((out / "csv").rglob("*.csv")))
    for text in tricky:  # RFC 4180: quoted when holding , " CR or LF, with " doubled; else as is (first column)
        needs_quotes = any(ch in text for ch in ',"\r\n')
        assert ('"' + text.replace('"', '""') + '"' if needs_quotes else f"\n{text},") in raw_text
    assert "\r" not in raw_text.replace("CRLF\r\n", "").replace("lone\rcarriage", "")  # CR only in those texts
    assert "\n2010-01-01T00:00:00Z," not in raw_text  # timestamps follow the text columns
    assert ",2010-01-01T00:00:00Z,BTC-USD,crypto," in raw_text


def test_floats_and_ints_are_written_exactly(rows, exported):
    out, _ = exported
    csv_text = "".join(p.read_text(encoding="utf-8") for p in sorted((out / "csv").rglob("*.csv")))
    jsonl_text = "".join(p.read_text(encoding="utf-8") for p in sorted((out / "jsonl").rglob("*.jsonl")))
    kept = set(read_export(out, "parquet")["macd"].map(lambda v: np.float64(v).view("u8")))
    for value in SPECIAL_FLOATS:
        if np.float64(value + 0.0).view("u8") in kept:
            assert repr(value + 0.0) in csv_text and repr(value + 0.0) in jsonl_text
    assert np.float64(-0.0).view("u8") not in kept  # -0.0 is exported as 0.0 (test_export_negative_zero)
    assert "NaN" not in jsonl_text and "Infinity" not in jsonl_text
    frame = read_export(out, "jsonl")
    assert str(frame["news_volume"].dtype) == "Int64" and frame["news_volume"].isna().any()


# --------------------------------------------------------------------------- shards


def test_shard_keys():
    stamps = pd.Series(pd.to_datetime(["2010-01-01", "2010-03-31", "2010-04-01", "2011-12-31"], utc=True))
    assert shard_key(stamps, "year").tolist() == ["2010", "2010", "2010", "2011"]
    assert shard_key(stamps, "quarter").tolist() == ["2010Q1", "2010Q1", "2010Q2", "2011Q4"]
    assert shard_key(stamps, "month").tolist() == ["2010-01", "2010-03", "2010-04", "2011-12"]
    with pytest.raises(ValueError, match="unknown shard_by 'week'"):
        shard_key(stamps, "week")
    with pytest.raises(TypeError, match="timezone-aware"):
        shard_key(stamps.dt.tz_localize(None), "year")


def test_shards_partition_the_rows_by_date_range(rows, exported):
    out, _ = exported
    manifest = load_manifest(out)
    expected = expected_rows(rows)
    for fmt in FORMATS:
        files = [f for f in manifest["files"] if f["format"] == fmt]
        seen = []
        for split in SPLITS:
            ranges = []
            for entry in (f for f in files if f["split"] == split):
                assert entry["path"] == f"{fmt}/{split}/{split}-{entry['shard']}.{FORMATS[fmt]}"
                part = read_export_file(out / entry["path"], manifest["schema"])
                assert len(part) == entry["rows"] > 0
                assert set(shard_key(part["timestamp"], "quarter")) == {entry["shard"]}
                assert part["timestamp"].is_monotonic_increasing
                ranges.append((part["timestamp"].min(), part["timestamp"].max()))
                seen.append(part[KEYS])
            assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges)), (fmt, split)
        keys = pd.concat(seen, ignore_index=True)
        assert not keys.duplicated().any()
        pd.testing.assert_frame_equal(keys, expected[KEYS])
    assert manifest["rows"]["by_split_shard"] == {
        s: {k: v for k, v in sorted(shard_key(g["timestamp"], "quarter").value_counts().items())}
        for s, g in ((s, expected[expected["split"] == s]) for s in SPLITS)
    }


# --------------------------------------------------------------------------- manifest and card


def test_manifest_describes_the_export(rows, exported):
    out, report = exported
    manifest = load_manifest(out)
    assert (out / "manifest.json").read_text(encoding="utf-8") == json.dumps(
        manifest, indent=2, sort_keys=True, ensure_ascii=False
    ) + "\n"
    assert manifest["provenance"] == PROVENANCE
    assert [c["name"] for c in manifest["schema"]] == [*SFT_COLUMNS, "row_id", "is_synthetic", "messages"]
    dtypes = {c["name"]: c["dtype"] for c in manifest["schema"]}
    assert dtypes["timestamp"] == "datetime64[ns, UTC]" and dtypes["news_volume"] == "Int64"
    assert dtypes["input"] == "str" and dtypes["rsi_14"] == "float64"
    assert manifest["split"]["embargo_days"] == 5
    assert manifest["split"]["boundaries"] == {"validation_start": "2010-11-01", "test_start": "2011-03-01"}
    assert manifest["sharding"]["shard_by"] == "quarter"
    expected = expected_rows(rows)
    assert manifest["rows"]["by_asset"] == expected["asset_symbol"].value_counts().sort_index().to_dict()
    for split in SPLITS:
        part = expected[expected["split"] == split]
        assert manifest["rows"]["by_split_asset"][split] == part["asset_symbol"].value_counts().sort_index().to_dict()
        assert manifest["date_range"][split]["first"] == f"{part['timestamp'].min():%Y-%m-%d}"
        assert manifest["date_range"][split]["last"] == f"{part['timestamp'].max():%Y-%m-%d}"
    listed = {f["path"] for f in [*manifest["files"], *manifest["cards"], manifest["columns"]]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert listed == on_disk
    for entry in [*manifest["files"], *manifest["cards"], manifest["columns"]]:
        data = (out / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert [Path(f.path) for f in report.files] == [Path(f["path"]) for f in manifest["files"]]
    assert report.manifest_path == out / "manifest.json"


def test_dataset_card(exported):
    out, _ = exported
    text = (out / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["license"] == "other"
    assert front["task_categories"] == ["text-generation"] and front["language"] == ["en"]
    (config,) = front["configs"]
    assert config["config_name"] == "parquet" and config["default"] is True
    assert [d["split"] for d in config["data_files"]] == list(SPLITS)
    for heading in ["## What the rows are", "## How they were built", "## Splits", "## Shards and files"]:
        assert heading in text
    assert "## Known limits" in text and "alphavantage/function=DIGITAL_CURRENCY_DAILY" in text
    assert "6 significant digits" in text and "2010-11-01" in text and "`messages`" in text
    for fmt in FORMATS:
        sub = yaml.safe_load((out / fmt / "README.md").read_text(encoding="utf-8").split("---\n")[1])
        files = [p for d in sub["configs"][0]["data_files"] for p in d["path"]]
        assert all((out / fmt / p).is_file() for p in files)
        if fmt == "csv":
            assert sub["configs"][0]["float_precision"] == "round_trip"


# --------------------------------------------------------------------------- determinism and atomicity


def test_a_second_export_is_byte_identical(rows, exported, tmp_path):
    out, _ = exported
    first = tree_bytes(out)
    shuffled = rows.sample(frac=1.0, random_state=99).reset_index(drop=True)
    export_training_set(
        shuffled, tmp_path / "again", split=SPLIT, shard_by="quarter", provenance=PROVENANCE, synthetic=SYNTHETIC
    )
    assert tree_bytes(tmp_path / "again") == first
    # and into the same directory, replacing it
    export_training_set(
        rows, tmp_path / "again", split=SPLIT, shard_by="quarter", provenance=PROVENANCE, synthetic=SYNTHETIC
    )
    assert tree_bytes(tmp_path / "again") == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def test_a_failure_mid_write_leaves_the_previous_export_intact(rows, tmp_path, monkeypatch):
    out = tmp_path / "training_set"
    export_training_set(rows, out, split=SPLIT, provenance=PROVENANCE, synthetic=SYNTHETIC)
    before = tree_bytes(out)

    def broken(stream, table):
        raise OSError("disk full")

    # The CSV and JSONL files of the first part are written by then: the failure is mid-write.
    monkeypatch.setattr(encoders.ParquetStream, "append_table", broken)
    with pytest.raises(OSError, match="disk full"):
        export_training_set(rows.iloc[:2000], out, split=SPLIT, provenance={"run": 2}, synthetic=())
    assert tree_bytes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["training_set"]  # no staging left


def test_replacing_without_an_atomic_exchange(rows, tmp_path, monkeypatch):
    out = tmp_path / "training_set"
    export_training_set(rows, out, split=SPLIT, formats=["jsonl"], provenance={"run": 1}, synthetic=())
    monkeypatch.setattr(sink, "_exchange", lambda a, b: False)
    export_training_set(rows, out, split=SPLIT, formats=["csv"], provenance={"run": 2}, synthetic=())
    assert load_manifest(out)["provenance"] == {"run": 2}
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "columns.json", "csv", "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["training_set"]


# --------------------------------------------------------------------------- bad input


def test_bad_rows_and_targets_raise_clear_errors(rows, tmp_path):
    def attempt(frame, **kwargs):
        options = {"split": SPLIT, "provenance": {}, "synthetic": ()} | kwargs
        return export_training_set(frame, tmp_path / "out", **options)

    with pytest.raises(ValueError, match=r"lack 1 canonical column\(s\): \['rsi_14'\]"):
        attempt(rows.drop(columns="rsi_14"))
    with pytest.raises(TypeError, match="timezone-naive"):
        attempt(rows.assign(timestamp=rows["timestamp"].dt.tz_localize(None)))
    with pytest.raises(ValueError, match=r"share a \(timestamp, asset_symbol\) key"):
        attempt(pd.concat([rows, rows.iloc[:1]], ignore_index=True))
    with pytest.raises(ValueError, match="±inf"):
        attempt(rows.assign(rsi_14=np.where(np.arange(len(rows)) == 3, np.inf, rows["rsi_14"])))
    with pytest.raises(ValueError, match=r"input of row \d+ is not strict JSON"):
        attempt(rows.assign(input=rows["input"].where(np.arange(len(rows)) != 5, '{"rsi_14": NaN}')))
    with pytest.raises(ValueError, match="empty strings"):
        attempt(rows.assign(extra=""))
    with pytest.raises(ValueError, match=r"messages of row 0 is not a JSON array of messages"):
        attempt(rows.assign(messages=""))
    with pytest.raises(ValueError, match="unknown shard_by"):
        attempt(rows, shard_by="week")
    with pytest.raises(ValueError, match="unknown or no formats"):
        attempt(rows, formats=["xlsx"])
    with pytest.raises(TypeError, match="not JSON data"):
        attempt(rows, provenance={"x": object()})
    assert not (tmp_path / "out").exists()
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="refusing to replace"):
        export_training_set(rows, tmp_path / "precious", split=SPLIT, provenance={}, synthetic=())
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"
