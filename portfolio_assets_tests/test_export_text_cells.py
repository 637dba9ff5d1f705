"""CSV and JSONL text cells are what the per-value encoders write, whichever column-wise path a column takes:
every cell quoted (JSON text), some quoted, none; with and without nulls, backslashes, control characters."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from portfolio_assets.export.encoders import csv_lines, jsonl_lines, part_texts
from portfolio_assets.export.frame import Column

ALPHABET = ["a", "b", ",", '"', "\\", "\n", "\r", "\x01", "\u2028", "\u2029", "é", "€", "😀", " ", "{", ":", "\t"]


def csv_cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def json_value(value: object) -> str:
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def column(rnd: random.Random, mode: str, n: int) -> list[str | None]:
    def text() -> str:
        return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(1, 10)))

    values: list[str | None] = []
    for i in range(n):
        if mode == "json":  # every cell special, no control character: the quotes go with the separators
            values.append('{"k": ' + str(i) + (', "s": "\\\\"}' if i % 3 == 0 else "}"))
        elif mode == "plain":
            values.append(rnd.choice(["abc", "x y", "é€", "12"]))
        elif mode == "nulls":
            values.append(None if rnd.random() < 0.3 else "a," + text().replace("\x01", "").replace("\u2028", ""))
        else:
            values.append(text())
    return values


@pytest.mark.parametrize("seed", range(40))
def test_text_cells_are_the_per_value_texts(seed: int) -> None:
    rnd = random.Random(seed)
    n = rnd.randint(1, 30)
    modes = [rnd.choice(["json", "plain", "nulls", "any"]) for _ in range(rnd.randint(1, 4))]
    data = {f"c{i}": pd.Series(column(rnd, mode, n), dtype=object) for i, mode in enumerate(modes)}
    frame = pd.DataFrame(data)
    columns = [Column(name, "str") for name in data]
    start = rnd.randint(0, n - 1)
    rows = frame.iloc[start:].reset_index(drop=True)
    values = [list(r) for r in rows.itertuples(index=False)]
    expected_csv = "".join(",".join(csv_cell(v) for v in row) + "\n" for row in values)
    expected_jsonl = "".join(
        "{" + ",".join(f"{json.dumps(c.name)}:{json_value(v)}" for c, v in zip(columns, row, strict=True)) + "}\n"
        for row in values
    )
    assert csv_lines(rows, columns).decode("utf-8") == expected_csv
    assert jsonl_lines(rows, columns).decode("utf-8") == expected_jsonl
    # the texts of a longer part, sliced (an Arrow offset)
    texts = [t.slice(start) for t in part_texts(frame, columns)]
    assert csv_lines(rows, columns, texts).decode("utf-8") == expected_csv
    assert jsonl_lines(rows, columns, texts).decode("utf-8") == expected_jsonl
