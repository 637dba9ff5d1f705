"""Every loading recipe the dataset card gives runs as it is and keeps every float to the last bit (issue 15)."""

from __future__ import annotations

import os

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from portfolio_assets.export import export_training_set, read_export_file
from portfolio_assets.features.sft_output import prompt_texts
from portfolio_assets_tests.test_export import PROVENANCE, SPLIT, SYNTHETIC, load_manifest, make_rows

BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.fixture(scope="module")
def small_export(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("recipes") / "export"
    export_training_set(make_rows(), out, split=SPLIT, shard_by="year", provenance=PROVENANCE, synthetic=SYNTHETIC)
    return out


def card_blocks(out: Path) -> list[str]:
    card = (out / "README.md").read_text(encoding="utf-8")
    loading = card[card.index("### Loading") : card.index("## Known limits")]
    return BLOCK.findall(loading)


def same_floats(got: pd.Series, want: pd.Series, where: str) -> None:
    a, e = got.to_numpy(dtype="float64"), want.to_numpy(dtype="float64")
    assert np.array_equal(np.isnan(a), np.isnan(e)), where
    assert np.array_equal(a[~np.isnan(a)].view("u8"), e[~np.isnan(e)].view("u8")), where


def parquet_values(out: Path, csv_or_jsonl: str) -> pd.DataFrame:
    """The Parquet file holding the same rows as an exported CSV / JSONL / Parquet file."""
    relative = Path(csv_or_jsonl)
    twin = Path("parquet", *relative.parts[1:]).with_suffix(".parquet")
    return pq.read_table(out / twin).to_pandas()


def check_frame(out: Path, frame: pd.DataFrame, path: str) -> None:
    manifest = load_manifest(out)
    want = parquet_values(out, path)
    assert list(frame.columns) == list(want.columns)
    exact = read_export_file(out / path, manifest["schema"])
    for column in manifest["schema"]:
        name, dtype = column["name"], column["dtype"]
        if dtype == "float64":
            assert frame[name].dtype == "float64", (path, name)
            same_floats(frame[name], want[name], f"{path}:{name}")
        elif dtype == "object":
            assert frame[name].tolist() == exact[name].tolist(), (path, name)
        else:
            pd.testing.assert_series_equal(
                frame[name].reset_index(drop=True), exact[name].reset_index(drop=True), check_dtype=False
            )


def test_the_card_has_a_recipe_per_reader_and_format(small_export) -> None:
    blocks = card_blocks(small_export)
    text = "\n".join(blocks)
    assert "precise_float=True" in text and "float_precision='round_trip'" in text
    assert text.count("pd.read_parquet(") == 1 and text.count("load_dataset('parquet'") >= 1
    assert "SFTTrainer" in text  # the rows carry messages: a conversational trainer reads them


def test_every_pandas_and_datasets_recipe_keeps_every_float(small_export, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(small_export)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    ran = 0
    for code in card_blocks(small_export):
        if "SFTTrainer" in code:
            continue  # needs a model: test_the_trl_recipes_train
        namespace: dict[str, object] = {}
        exec(compile(code, "<card recipe>", "exec"), namespace)
        ran += 1
        if "frame" in namespace:
            check_frame(small_export, namespace["frame"], namespace["path"])  # type: ignore[arg-type]
        for name in ("ds", "ds_csv", "ds_jsonl"):
            if name not in namespace:
                continue
            files = namespace.get("data_files") or {}
            for split, dataset in namespace[name].items():  # type: ignore[attr-defined]
                got = dataset.to_pandas()
                paths = files.get(split) or [
                    f["path"]
                    for f in load_manifest(small_export)["files"]
                    if f["format"] == "parquet" and f["split"] == split
                ]
                want = pd.concat([parquet_values(small_export, p) for p in paths], ignore_index=True)
                assert len(got) == len(want), (code, split)
                for column in want.columns:
                    if want[column].dtype == "float64":
                        same_floats(got[column], want[column], f"{name}/{split}/{column}")
    assert ran == 7  # three pandas, three datasets (one per format), and the card configs


def trl_export(kind: str, small_export: Path, where: Path) -> Path:
    """An export whose text columns TRL reads: ``messages`` only; chat prompt / completion lists (and messages);
    or string prompt / completion (no messages)."""
    if kind == "messages":
        return small_export
    from portfolio_assets_tests.test_export_messages import chat_rows

    rows = chat_rows()
    if kind == "strings":
        rows = rows.drop(columns="messages").assign(
            prompt=prompt_texts(rows["instruction"].tolist(), rows["input"].tolist()).to_pylist(),
            completion=rows["output"],
        )
    out = where / kind
    export_training_set(rows, out, split=SPLIT, shard_by="year", provenance=PROVENANCE, synthetic=SYNTHETIC)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["messages", "chat", "strings"])
def test_the_trl_recipes_train(kind, small_export, monkeypatch, tmp_path) -> None:
    """The TRL blocks train a tiny random model (with a tokenizer trained on the export) on the files as they are:
    conversational (messages), conversational prompt / completion, and standard prompt / completion."""
    from portfolio_assets_tests.tiny_lm import tiny_model, train_tokenizer

    out = trl_export(kind, small_export, tmp_path)
    frames = [pd.read_json(path, lines=True) for path in (out / "jsonl").rglob("*.jsonl")]
    tokenizer = train_tokenizer(t for f in frames for t in [*f["instruction"], *f["input"], *f["output"]])
    monkeypatch.chdir(out)  # the recipes run from the export directory, as they are
    blocks = [c for c in card_blocks(out) if "SFTTrainer" in c]
    assert len(blocks) == 2  # JSONL and Parquet
    expected = "prompt / completion" if kind != "messages" else "conversational (messages)"
    for code in blocks:
        assert expected in code
        namespace = {"model": tiny_model(tokenizer), "tokenizer": tokenizer}
        exec(compile(code, "<card recipe>", "exec"), namespace)
        assert namespace["trainer"].state.global_step == 2  # type: ignore[attr-defined]
    shutil.rmtree(out / "sft-out")
