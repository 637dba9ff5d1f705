"""The compiled line writer and the shared-memory hand-over give the bytes the Arrow encoders gave
(``export_before``) on awkward input: one row, empty and null cells, quotes, separators, line breaks,
control characters, U+2028 / U+2029, backslashes, other Unicode, NaN, negative zero, integral and extreme
floats, cells of every length around eight bytes, very long text, and parts cut by split and shard."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from portfolio_assets.export import shared
from portfolio_assets.export.encoders import arrow_table, csv_lines, jsonl_lines, part_texts
from portfolio_assets.export.files import encode_parts
from portfolio_assets.export.frame import Column
from portfolio_assets_tests import export_before

ALPHABET = [
    *"abcxyz0129 {}:[]",
    ",",
    '"',
    "\\",
    "\n",
    "\r",
    "\t",
    "\b",
    "\f",
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "\u2028",
    "\u2029",
    "\u2027",
    "\u20ac",
    "é",
    "😀",
]
FLOATS = [0.0, -0.0, 1.0, -3.0, 0.1, -2.5e-7, 1e-5, 3.14e-5, 1e16, 1.5e17, 12345678901.25, 1e22, 5e-324, 0.3, 100.0]


def text(rnd: random.Random) -> str:
    size = rnd.choice([1, 2, 7, 8, 9, 15, 16, 17, rnd.randint(1, 40), rnd.randint(100, 3000)])
    mode = rnd.random()
    if mode < 0.3:  # JSON-like text: quotes every few bytes
        return "".join(f'"k{i}": {rnd.random():.4f}, ' for i in range(size // 12 + 1))[:size]
    if mode < 0.5:
        return "".join(rnd.choice("abcdefgh ") for _ in range(size))
    return "".join(rnd.choice(ALPHABET) for _ in range(size))


def awkward_frame(rnd: random.Random, n: int) -> tuple[pd.DataFrame, list[Column]]:
    """``n`` rows in export order (by day, then symbol) with a column of every kind, some with nulls."""
    days = pd.date_range("2019-12-25", periods=max(1, n // 2 + 1), freq="D", tz="UTC")
    timestamps = sorted(rnd.choice(days) for _ in range(n))
    data: dict[str, object] = {
        "timestamp": pd.Series(pd.DatetimeIndex(timestamps)).dt.as_unit("ns"),
        "asset_symbol": pd.Series([f"S{i:04d}" for i in range(n)], dtype=object),
        "instruction": pd.Series([text(rnd) for _ in range(n)], dtype=object),
        "maybe": pd.Series([None if rnd.random() < 0.3 else text(rnd) for _ in range(n)], dtype=object),
        "price": pd.Series(
            [rnd.choice([*FLOATS, np.nan, rnd.uniform(-1e6, 1e6), rnd.lognormvariate(0, 8)]) for _ in range(n)]
        )
        + 0.0,
        "count": pd.Series(
            [None if rnd.random() < 0.2 else rnd.randint(-(2**62), 2**62) for _ in range(n)], dtype="Int64"
        ),
        "flag": pd.Series([rnd.choice([True, False, None]) for _ in range(n)], dtype="boolean"),
        "decided": pd.Series(
            [pd.NaT if rnd.random() < 0.2 else ts + pd.Timedelta(hours=16) for ts in timestamps],
            dtype="datetime64[ns, UTC]",
        ),
    }
    kinds = {"price": "float64", "count": "Int64", "flag": "boolean", "timestamp": "timestamp", "decided": "timestamp"}
    frame = pd.DataFrame(data)
    return frame, [Column(name, kinds.get(name, "str")) for name in frame.columns]


@pytest.mark.parametrize("seed", range(30))
def test_lines_are_the_arrow_encoders_bytes(seed: int) -> None:
    rnd = random.Random(seed)
    n = rnd.choice([1, 2, 3, rnd.randint(4, 80)])
    frame, columns = awkward_frame(rnd, n)
    assert csv_lines(frame, columns) == export_before.csv_lines(frame, columns)
    assert jsonl_lines(frame, columns) == export_before.jsonl_lines(frame, columns)
    # texts with an Arrow offset (a slice of a longer part's), and a subset of the columns
    start = rnd.randint(0, n - 1)
    rows = frame.iloc[start:].reset_index(drop=True)
    texts = [t.slice(start) for t in part_texts(frame, columns)]
    assert csv_lines(rows, columns, texts) == export_before.csv_lines(rows, columns)
    assert jsonl_lines(rows, columns, texts) == export_before.jsonl_lines(rows, columns)
    some = rnd.sample(columns, rnd.randint(1, len(columns)))
    assert csv_lines(frame, some) == export_before.csv_lines(frame, some)
    assert jsonl_lines(frame, some) == export_before.jsonl_lines(frame, some)


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_timestamp_texts_are_formatted_as_before(tz: str) -> None:
    rnd = random.Random(tz)
    stamps = [
        pd.Timestamp(rnd.randint(-(2**62), 2**62) // 10**9 * 10**9, tz="UTC") if rnd.random() < 0.5 else pd.NaT
        for _ in range(300)
    ]
    stamps += [pd.Timestamp("1969-12-31 23:59:59", tz="UTC"), pd.Timestamp("2000-02-29 12:00", tz="UTC")] * 3
    series = pd.Series(stamps, dtype="datetime64[ns, UTC]").dt.tz_convert(tz)
    assert part_texts(pd.DataFrame({"t": series}), [Column("t", "timestamp")])[0].equals(
        export_before.part_texts(pd.DataFrame({"t": series}), [Column("t", "timestamp")])[0]
    )
    assert part_texts(pd.DataFrame({"t": series[:0]}), [Column("t", "timestamp")])[0].to_pylist() == []


def test_no_rows_or_columns_write_nothing() -> None:
    frame, columns = awkward_frame(random.Random(0), 3)
    assert csv_lines(frame.iloc[:0], columns) == b"" == jsonl_lines(frame.iloc[:0], columns)
    assert csv_lines(frame, []) == b"" == jsonl_lines(frame, [])


def test_very_long_cells() -> None:
    rnd = random.Random(7)
    frame, columns = awkward_frame(rnd, 4)
    frame.loc[1, "instruction"] = '{"a": "' + "x" * 1_000_003 + '\\" ,\n"}' + "\u2028" * 5
    frame.loc[2, "instruction"] = "".join(rnd.choice(ALPHABET) for _ in range(200_001))
    frame.loc[3, "maybe"] = '"' * 65_537
    assert csv_lines(frame, columns) == export_before.csv_lines(frame, columns)
    assert jsonl_lines(frame, columns) == export_before.jsonl_lines(frame, columns)


def assert_same_parts(chunk: object, before: list, formats: list[str]) -> None:
    assert [(p.split, p.shard, p.rows) for p in chunk.parts] == [b[:3] for b in before]  # type: ignore[attr-defined]
    for part, (_, _, _, data) in zip(chunk.parts, before, strict=True):  # type: ignore[attr-defined]
        for fmt in formats:
            if fmt == "parquet":
                assert part.data[fmt].equals(data[fmt], check_metadata=True)
                assert part.data[fmt].schema.equals(data[fmt].schema, check_metadata=True)
            else:
                assert bytes(part.data[fmt]) == data[fmt]


@pytest.mark.parametrize("seed", range(12))
def test_parts_are_the_arrow_encoders_bytes_and_survive_pickling(seed: int) -> None:
    rnd = random.Random(100 + seed)
    frame, columns = awkward_frame(rnd, rnd.choice([1, rnd.randint(2, 120)]))
    labels = pd.Series(rnd.choices(["train", "validation", "test", "purged", "embargoed"], k=len(frame)))
    formats = rnd.choice([["csv", "jsonl", "parquet"], ["jsonl", "csv"], ["parquet", "csv"], ["jsonl"]])
    shard_by = rnd.choice(["year", "month"])
    before = export_before.encode_parts(frame, columns, labels, formats, shard_by)
    chunk = encode_parts(frame, columns, labels, formats, shard_by)
    assert_same_parts(chunk, before, formats)
    received = pickle.loads(pickle.dumps(chunk))
    assert (received.columns, received.rows, received.first, received.last) == (
        chunk.columns,
        chunk.rows,
        chunk.first,
        chunk.last,
    )
    del chunk
    assert_same_parts(received, before, formats)


def test_a_lease_is_reused_once_every_view_is_gone() -> None:
    lease = shared.lease("test-reuse", 1000)
    array = lease.view()
    array[:] = 7
    address = array.ctypes.data
    ref = lease.share()
    assert ref is not None
    buffer = shared.mapped(pickle.loads(pickle.dumps(ref)))
    assert bytes(buffer) == b"\x07" * 1000
    del lease, array
    other = shared.lease("test-reuse", 500)  # the first is still the receiver's
    assert other.view().ctypes.data != address
    with pytest.raises(ValueError, match="once"):
        other.share() and other.share()
    del other, buffer
    again = shared.lease("test-reuse", 900)
    assert again.view().ctypes.data == address


def test_a_table_travels_with_its_schema() -> None:
    frame, columns = awkward_frame(random.Random(3), 40)
    table = arrow_table(frame, columns)
    chunk = encode_parts(frame, columns, pd.Series(["train"] * len(frame)), ["parquet"], "year")
    received = pickle.loads(pickle.dumps(chunk))
    for part in received.parts:
        assert isinstance(part.data["parquet"], pa.Table)
        assert part.data["parquet"].schema.equals(table.schema, check_metadata=True)


@pytest.fixture(scope="module")
def sft_rows() -> pd.DataFrame:
    from portfolio_assets.bench_rows import synthetic_rows
    from portfolio_assets.columns import FEATURE_COLUMNS
    from portfolio_assets.features.sft import format_rows
    from portfolio_assets.spans import HORIZON_DAYS

    rows = format_rows(synthetic_rows(3300, assets=3), FEATURE_COLUMNS, HORIZON_DAYS)
    return rows.sort_values(["timestamp", "asset_symbol"]).reset_index(drop=True)


def outcome(run: object) -> object:
    try:
        return run()  # type: ignore[operator]
    except (ValueError, TypeError) as exc:
        return (type(exc), str(exc))


def mutated(rows: pd.DataFrame, case: str, rnd: random.Random) -> pd.DataFrame:
    rows = rows.copy()
    n = len(rows)
    if case == "shuffled":
        return rows.sample(frac=1.0, random_state=1)
    if case == "extras":
        rows["note"] = pd.Series([None if rnd.random() < 0.3 else text(rnd) for _ in range(n)], dtype=object)
        rows["blank"] = pd.Series([None] * n, dtype=object)
    if case == "nulls":
        rows.loc[rows.index[::3], "asset_class"] = None
        rows.loc[rows.index[::5], "rsi_14"] = np.nan
        rows.loc[rows.index[1::5], "macd"] = -0.0
        rows.loc[rows.index[::7], "decision_time"] = pd.NaT
    if case == "duplicate":
        rows.loc[rows.index[5], ["timestamp", "asset_symbol"]] = rows.loc[rows.index[4], ["timestamp", "asset_symbol"]]
    if case == "negative-zero":
        rows.loc[rows.index[9], "input"] = rows.loc[rows.index[9], "input"].replace(": ", ': -0.0e0, "z": ', 1)
    if case == "empty-text":
        rows["note"] = pd.Series(["x"] * (n - 1) + [""], dtype=object)
    if case == "object":
        rows["note"] = pd.Series(["x"] * (n - 1) + [{"a": 1}], dtype=object)
    if case == "infinite":
        rows.loc[rows.index[3], "vix"] = np.inf
    if case == "sub-second":
        rows.loc[rows.index[2], "decision_time"] += pd.Timedelta(milliseconds=5)
    if case == "null-instruction":
        rows.loc[rows.index[8], "instruction"] = None
    return rows


@pytest.mark.parametrize(
    "case",
    ["as-is", "shuffled", "extras", "nulls", "duplicate", "negative-zero", "empty-text", "object", "infinite",
     "sub-second", "null-instruction"],
)  # fmt: skip
@pytest.mark.parametrize("json_valid", [True, False])
def test_a_chunk_encodes_as_before(sft_rows: pd.DataFrame, case: str, json_valid: bool) -> None:
    from portfolio_assets.columns import SFT_COLUMNS
    from portfolio_assets.export import SplitConfig
    from portfolio_assets.export.exporter import LIGHT_COLUMNS, encode_chunk, plan_stream
    from portfolio_assets.export.rowid import row_ids
    from portfolio_assets.export.splits import label_rows

    rows = mutated(sft_rows, case, random.Random(case))
    synthetic = frozenset(sft_rows["asset_symbol"].iloc[:1])
    plan = plan_stream(sft_rows[list(LIGHT_COLUMNS)], split=SplitConfig(), shard_by="month", synthetic=synthetic)
    formats = ["csv", "jsonl", "parquet"]
    # issue 15: row_id and is_synthetic follow SFT_COLUMNS; before, they would have been the first extras
    extras = [c for c in rows.columns if c not in SFT_COLUMNS]
    marked = rows.assign(
        row_id=row_ids(rows["asset_symbol"], rows["timestamp"]),
        is_synthetic=rows["asset_symbol"].isin(synthetic).astype("boolean"),
    )[[*SFT_COLUMNS, "row_id", "is_synthetic", *extras]]

    def before() -> object:
        frame, columns = export_before.canonical_frame(marked, first_row=7, json_valid=json_valid)
        return export_before.encode_parts(frame, columns, label_rows(frame, plan.splits), formats, "month")

    expected = outcome(before)
    got = outcome(
        lambda: encode_chunk(
            rows, plan.splits, formats, "month", synthetic=plan.synthetic, first_row=7, json_valid=json_valid
        )
    )
    if isinstance(expected, tuple):
        assert got == expected
    else:
        assert_same_parts(got, expected, formats)
        assert_same_parts(pickle.loads(pickle.dumps(got)), expected, formats)
