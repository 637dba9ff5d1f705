"""What the export skips for rows it has just validated: the features prompt is the one stored (not formatted
again), and ``canonical_frame(json_valid=True)`` does not parse the JSON text again, with the same errors."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from portfolio_assets import strict_json
from portfolio_assets.assets.training_set import export_partitions
from portfolio_assets.bench_rows import synthetic_rows
from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.export import SplitConfig, read_export
from portfolio_assets.export.frame import canonical_frame
from portfolio_assets.features.sft import format_rows
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.spans import HORIZON_DAYS
from portfolio_assets_tests.test_export import canonical, make_rows
from portfolio_assets_tests.test_export_stream import month_keys


def stored(root, rows: pd.DataFrame) -> tuple[dict[str, object], list[str]]:
    keys = month_keys(rows)
    PartitionStore(root).write(["sft_rows"], rows, keys, granularity="monthly")
    return PartitionStore(root).files(["sft_rows"], keys), keys


def export_features(files: dict[str, object], out, workers: int) -> None:
    """The stored rows exported with the features prompt, in chunks of 1,000 rows."""
    export_partitions(
        files,  # type: ignore[arg-type]
        out,
        split=SplitConfig(),
        shard_by="year",
        prompt_format="features",
        provenance=lambda: {},
        chunk_rows=1000,
        workers=workers,
    )


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return format_rows(synthetic_rows(3000, assets=3), FEATURE_COLUMNS, HORIZON_DAYS, pairs=False)  # as stored


@pytest.mark.parametrize("workers", [1, 2])
def test_the_features_prompt_is_exported_as_stored(rows, tmp_path, workers):
    edited = rows.assign(instruction=rows["instruction"] + " Answer in JSON.")
    files, _ = stored(tmp_path / "store", edited)
    export_features(files, tmp_path / "out", workers)
    exported = read_export(tmp_path / "out", "parquet")
    assert len(exported) and exported["instruction"].str.endswith(" Answer in JSON.").all()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stored_prompt_is_validated_as_it_is_written(rows, tmp_path, workers):
    broken = rows.assign(input=rows["input"].where(rows.index != 5, '{"rsi_14": NaN}'))
    files, _ = stored(tmp_path / "store", broken)
    with pytest.raises(ValueError, match=re.escape("training_set: not exported: 2999 valid, 1 invalid rows")):
        export_features(files, tmp_path / "out", workers)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


@pytest.mark.parametrize(
    "edits",
    [
        {("output", 3): "[2.5, -0.0]", ("input", 9): '{"a": -0e-3}'},  # the first column's first, input
        {("context_window", 4): "[1.0, -0]", ("context_window", 2): "[-0.000E+2, -0.5]"},
        {("not_applicable", 6): '["-0.0"]', ("output", 11): '{"x": [0, {"y": -0.0}]}'},
        {("input", 1): '{"a": "x\ud800", "b": -0.0}'},  # a lone surrogate: Arrow cannot read the column
    ],
)
def test_json_valid_skips_the_parse_and_keeps_the_negative_zero_error(edits, monkeypatch):
    base = canonical(make_rows("2010-01-01", "2010-01-31"))
    for (column, row), text in edits.items():
        base.loc[row, column] = text
    with pytest.raises(ValueError) as checked:
        canonical_frame(base, first_row=100)
    parsed: list[str] = []
    monkeypatch.setattr(strict_json, "check", lambda text: parsed.append(text))
    with pytest.raises(ValueError) as trusted:
        canonical_frame(base, first_row=100, json_valid=True)
    assert str(trusted.value) == str(checked.value) and "writes a negative zero" in str(checked.value)
    assert len(parsed) <= 2  # only the texts an Arrow regex flags are parsed at all


def test_json_valid_gives_the_same_frame(monkeypatch):
    rows = make_rows("2010-01-01", "2010-03-31")
    frame, columns = canonical_frame(rows)
    monkeypatch.setattr(strict_json, "check", lambda text: pytest.fail(f"parsed {text!r:.40}"))
    trusted, trusted_columns = canonical_frame(rows, json_valid=True)
    pd.testing.assert_frame_equal(trusted, frame)
    assert trusted_columns == columns
