"""Message-list columns (issue 15): ``messages`` and chat ``prompt`` / ``completion`` are real lists of
``{role, content}`` in JSONL and Parquet, JSON text in CSV, lists again from ``read_export``; strings stay strings."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from portfolio_assets.export import FORMATS, export_training_set, read_export
from portfolio_assets.export.exporter import LIGHT_COLUMNS, export_stream
from portfolio_assets.export.messages import MESSAGES_TYPE, canonical_text, parse
from portfolio_assets_tests.test_export import PROVENANCE, SPLIT, SYNTHETIC, load_manifest, make_rows, tree_bytes


def chat_rows() -> pd.DataFrame:
    """``make_rows`` plus chat prompt / completion columns (JSON text, written with spaces as ``json.dumps`` does)."""
    rows = make_rows(end="2011-04-30")
    rows["prompt"] = [
        json.dumps([{"role": "system", "content": "You forecast."}, {"role": "user", "content": f"{a}\n\n{b}"}])
        for a, b in zip(rows["instruction"], rows["input"], strict=True)
    ]
    rows["completion"] = [json.dumps([{"role": "assistant", "content": c}]) for c in rows["output"]]
    return rows


def export(rows: pd.DataFrame, out, **options):
    return export_training_set(
        rows, out, split=SPLIT, shard_by="year", provenance=PROVENANCE, synthetic=SYNTHETIC, **options
    )


@pytest.fixture(scope="module")
def chat_export(tmp_path_factory):
    out = tmp_path_factory.mktemp("chat") / "export"
    rows = chat_rows()
    export(rows, out)
    return rows, out


def test_jsonl_holds_arrays_and_parquet_lists_of_structs(chat_export) -> None:
    _, out = chat_export
    line = next(p for p in sorted((out / "jsonl").rglob("*.jsonl"))).read_text(encoding="utf-8").splitlines()[0]
    record = json.loads(line)
    for column in ("messages", "prompt", "completion"):
        assert isinstance(record[column], list) and set(record[column][0]) == {"role", "content"}, column
    assert [m["role"] for m in record["prompt"]] == ["system", "user"]
    assert '"messages":[{"role":"user","content":' in line  # the array itself, not a quoted string
    for path in sorted((out / "parquet").rglob("*.parquet")):
        schema = pq.read_schema(path)
        for column in ("messages", "prompt", "completion"):
            assert schema.field(column).type == MESSAGES_TYPE, (path, column)
    manifest = load_manifest(out)
    types = {c["name"]: (c["dtype"], c["arrow_type"]) for c in manifest["schema"]}
    assert types["prompt"] == ("object", str(MESSAGES_TYPE))


def test_csv_holds_the_canonical_json_text(chat_export) -> None:
    _, out = chat_export
    path = next(p for p in sorted((out / "csv").rglob("*.csv")))
    frame = pd.read_csv(path, float_precision="round_trip", keep_default_na=False, na_values=[""])
    first = frame["completion"].iloc[0]
    assert first.startswith('[{"role":"assistant","content":')  # compact, whatever spacing the input had
    assert json.loads(first) == parse(first, "x")


def test_every_format_reads_back_the_same_lists(chat_export) -> None:
    rows, out = chat_export
    frames = {fmt: read_export(out, fmt) for fmt in FORMATS}
    by_id = {
        r: (json.loads(p), json.loads(c))
        for r, p, c in zip(
            rows["asset_symbol"] + ":" + rows["timestamp"].dt.strftime("%Y-%m-%d"),
            rows["prompt"],
            rows["completion"],
            strict=True,
        )
    }
    for fmt, frame in frames.items():
        for column in ("messages", "prompt", "completion"):
            assert all(isinstance(v, list) and isinstance(v[0], dict) for v in frame[column]), (fmt, column)
            assert frame[column].tolist() == frames["parquet"][column].tolist(), (fmt, column)
        for row_id, prompt, completion in zip(frame["row_id"], frame["prompt"], frame["completion"], strict=True):
            assert (prompt, completion) == by_id[row_id]


def test_string_prompts_stay_strings(tmp_path) -> None:
    rows = make_rows(end="2011-04-30")
    rows["prompt"] = rows["instruction"] + "\n\n" + rows["input"]
    rows["completion"] = rows["output"]
    export(rows, tmp_path / "out")
    schema = load_manifest(tmp_path / "out")["schema"]
    types = {c["name"]: c["arrow_type"] for c in schema}
    assert types["prompt"] == types["completion"] == "string" and types["messages"] == str(MESSAGES_TYPE)
    line = json.loads(next((tmp_path / "out" / "jsonl").rglob("*.jsonl")).read_text(encoding="utf-8").splitlines()[0])
    assert isinstance(line["prompt"], str) and isinstance(line["messages"], list)
    back = read_export(tmp_path / "out", "parquet")
    assert isinstance(back["completion"].iloc[0], str)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('[{"role": "bot", "content": "x"}]', r"prompt of row 3: message 0 has role 'bot'"),
        ('[{"role": "user"}]', r"prompt of row 3: message 0 must be an object with exactly role and content"),
        ('[{"role": "user", "content": 1.5}]', r"prompt of row 3: message 0 content is a float"),
        ("[]", r"prompt of row 3 is not a non-empty array"),
        ("[not json", r"prompt of row 3 is not a JSON array of messages"),
        ("plain text", r"prompt of row 3 is not a JSON array of messages"),  # a column mixing lists and strings
    ],
)
def test_a_bad_message_list_names_the_column_and_row(value, message, tmp_path) -> None:
    rows = chat_rows().sort_values(["timestamp", "asset_symbol"]).reset_index(drop=True)
    rows.loc[3, "prompt"] = value
    with pytest.raises(ValueError, match=message):
        export(rows, tmp_path / "out")


def test_canonical_text_escapes_line_separators_and_keeps_unicode() -> None:
    text = canonical_text([{"role": "user", "content": 'a\u2028b "q" ü\n'}])
    assert text == '[{"role":"user","content":"a\\u2028b \\"q\\" ü\\n"}]'
    assert json.loads(text) == [{"role": "user", "content": 'a\u2028b "q" ü\n'}]
    with pytest.raises(ValueError, match="lone surrogate"):
        parse('[{"role": "user", "content": "\\ud800"}]', "messages of row 0")


def test_message_lists_are_byte_deterministic_and_stream_as_they_export(chat_export, tmp_path) -> None:
    rows, out = chat_export
    again = tmp_path / "again"
    export(rows.sample(frac=1.0, random_state=3), again)  # input order does not matter
    assert tree_bytes(again) == tree_bytes(out)
    ordered = rows.sort_values(["timestamp", "asset_symbol"]).reset_index(drop=True)
    chunks = [ordered.iloc[i : i + 300] for i in range(0, len(ordered), 300)]
    streamed = tmp_path / "streamed"
    export_stream(
        ordered[list(LIGHT_COLUMNS)], chunks, streamed, split=SPLIT, shard_by="year",
        provenance=lambda: PROVENANCE, synthetic=SYNTHETIC,
    )  # fmt: skip
    assert tree_bytes(streamed) == tree_bytes(out)


def test_lists_given_as_python_objects_export_as_json_text_would(chat_export, tmp_path) -> None:
    rows, out = chat_export
    as_lists = rows.assign(completion=[json.loads(c) for c in rows["completion"]])
    export(as_lists, tmp_path / "lists")
    assert tree_bytes(tmp_path / "lists") == tree_bytes(out)


def test_an_arrow_list_column_round_trips_through_plain_pyarrow(chat_export) -> None:
    _, out = chat_export
    table = pq.read_table(next((out / "parquet").rglob("*.parquet")))
    first = table.column("messages")[0].as_py()
    assert isinstance(table.column("messages").type, pa.ListType) and first[0]["role"] == "user"


def test_hugging_face_datasets_loads_the_lists(chat_export, tmp_path) -> None:
    import os

    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    _, out = chat_export
    manifest = load_manifest(out)
    expected = read_export(out, "parquet")
    for fmt, builder in (("jsonl", "json"), ("parquet", "parquet")):
        files = [str(out / f["path"]) for f in manifest["files"] if f["format"] == fmt and f["split"] == "train"]
        ds = datasets.load_dataset(builder, data_files=files, split="train", cache_dir=str(tmp_path / fmt))
        assert ds.column_names == [c["name"] for c in manifest["schema"]]
        first = ds[0]
        train = expected[expected["split"] == "train"].reset_index(drop=True)
        for column in ("messages", "prompt", "completion"):
            assert first[column] == train[column].iloc[0], (fmt, column)  # a list of {role, content} dicts
        assert first["row_id"] == train["row_id"].iloc[0] and first["is_synthetic"] is bool(
            train["is_synthetic"].iloc[0]
        )


def test_the_line_writer_writes_json_cells_raw_in_jsonl_and_quoted_in_csv() -> None:
    import numpy as np

    from portfolio_assets.export import lines

    cells = ['[{"role":"user","content":"a, \\"b\\"\\n"}]', "[1]", None]
    texts = [pa.array(cells, pa.string()), pa.array(["x", "y,z", "w"], pa.string())]
    writer = lines.LineWriter(texts, [lines.JSON, lines.STRING], ['"m"', '"s"'])
    out = np.zeros(int(writer.csv_lengths.sum() + writer.json_lengths.sum()), dtype=np.uint8)
    writer.write(np.arange(3), out, 0, int(writer.csv_lengths.sum()))
    csv_part, json_part = bytes(out[: int(writer.csv_lengths.sum())]), bytes(out[int(writer.csv_lengths.sum()) :])
    assert csv_part.decode() == '"[{""role"":""user"",""content"":""a, \\""b\\""\\n""}]",x\n[1],"y,z"\n,w\n'
    assert json_part.decode().splitlines() == [
        '{"m":[{"role":"user","content":"a, \\"b\\"\\n"}],"s":"x"}',
        '{"m":[1],"s":"y,z"}',
        '{"m":null,"s":"w"}',
    ]


def test_canonical_text_escapes_as_json_does_for_every_character():
    """orjson writes the canonical text: its escaping must stay ``json``'s (compact, role then content, U+2028 /
    U+2029 escaped), character for character, so the exported bytes do not depend on the library."""
    from json.encoder import encode_basestring  # type: ignore[attr-defined]

    from portfolio_assets.export.messages import canonical_text

    def reference(text: str) -> str:
        return encode_basestring(text).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    for start in range(0, len(every), 4096):
        content = every[start : start + 4096]
        expected = f'[{{"role":"user","content":{reference(content)}}}]'
        assert canonical_text([{"role": "user", "content": content}]) == expected
