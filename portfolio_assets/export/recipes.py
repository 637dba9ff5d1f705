"""The dataset card's loading recipes: Python code that reads an export's files with every float exact.

Each recipe is a self-contained code block run from the export directory (the paths are the manifest's,
relative to it); ``portfolio_assets_tests/test_export_recipes.py`` runs every block the card holds and compares
the floats bit for bit with the Parquet values. Built from the manifest alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from portfolio_assets.export.encoders import CSV_READ_OPTIONS
from portfolio_assets.export.splits import SPLITS
from portfolio_assets.timeutil import ISO_UTC_FORMAT

__all__ = ["recipes"]


def _columns(schema: Sequence[Mapping[str, str]], dtype: str) -> list[str]:
    return [c["name"] for c in schema if c["dtype"] == dtype]


def _files(manifest: Mapping[str, object], fmt: str) -> dict[str, list[str]]:
    files: list[Mapping[str, object]] = manifest["files"]  # type: ignore[assignment]
    by_split = {s: [str(f["path"]) for f in files if f["format"] == fmt and f["split"] == s] for s in SPLITS}
    return {s: paths for s, paths in by_split.items() if paths}


def _pandas(manifest: Mapping[str, object], fmt: str) -> str:
    schema: list[Mapping[str, str]] = manifest["schema"]  # type: ignore[assignment]
    first = next(iter(_files(manifest, fmt).values()))[0]
    stamps, counts, lists, flags = (_columns(schema, d) for d in ("datetime64[ns, UTC]", "Int64", "object", "boolean"))
    text = [c["name"] for c in schema if c["dtype"] == "str" and c["name"] in ("asset_symbol", "row_id")]
    needs_json = fmt == "csv" and bool(lists)
    lines = [*(["import json", ""] if needs_json else []), "import pandas as pd", "", f"path = {first!r}"]
    if fmt == "jsonl":
        lines += [
            "# precise_float: pandas' default JSON float parser may change the last bit; dtype=False: no guessing",
            "frame = pd.read_json(path, lines=True, precise_float=True, dtype=False, convert_dates=False)",
        ]
        if counts:
            lines.append(f"frame[{counts!r}] = frame[{counts!r}].astype('Int64')  # counts: read as float when missing")
        if flags:
            lines.append(f"frame[{flags!r}] = frame[{flags!r}].astype('boolean')  # as Parquet types them")
    elif fmt == "csv":
        dtypes = {**{c: "Int64" for c in counts}, **{c: "str" for c in text}}
        options = ", ".join(f"{k}={v!r}" for k, v in CSV_READ_OPTIONS.items())
        lines += [
            "# round_trip: pandas' default float parser may change the last bit; 'NA' and 'null' stay text",
            f"frame = pd.read_csv(path, {options}, dtype={dtypes!r})",
        ]
        for column in lists:
            lines.append(f"frame[{column!r}] = frame[{column!r}].map(json.loads, na_action='ignore')  # JSON text")
    else:
        lines.append("frame = pd.read_parquet(path)  # timestamps, Int64 and booleans come typed")
        for column in lists:
            lines.append(f"frame[{column!r}] = frame[{column!r}].map(list, na_action='ignore')  # array -> list")
        return "\n".join(lines)
    for column in stamps:
        lines.append(f"frame[{column!r}] = pd.to_datetime(frame[{column!r}], format={ISO_UTC_FORMAT!r}, utc=True)")
    return "\n".join(lines)


def _datasets(manifest: Mapping[str, object], fmt: str) -> str:
    builder = {"jsonl": "json", "csv": "csv", "parquet": "parquet"}[fmt]
    options = "".join(f", {k}={v!r}" for k, v in CSV_READ_OPTIONS.items()) if fmt == "csv" else ""
    return "\n".join(
        [
            "from datasets import load_dataset",
            "",
            f"data_files = {_files(manifest, fmt)!r}",
            f"ds = load_dataset({builder!r}, data_files=data_files{options})",
        ]
    )


def _trl(manifest: Mapping[str, object], fmt: str) -> str | None:
    schema: list[Mapping[str, str]] = manifest["schema"]  # type: ignore[assignment]
    names = {c["name"] for c in schema}
    if not ({"prompt", "completion"} <= names or "messages" in names):
        return None
    kind = "prompt / completion" if {"prompt", "completion"} <= names else "conversational (messages)"
    train = _files(manifest, fmt).get("train", [])
    return "\n".join(
        [
            "import torch",
            "from datasets import load_dataset",
            "from trl import SFTConfig, SFTTrainer",
            "",
            f"# TRL reads the {kind} columns as they are; model and tokenizer are yours",
            f"train = load_dataset({'json' if fmt == 'jsonl' else fmt!r}, data_files={train!r}, split='train')",
            "trainer = SFTTrainer(",
            "    model=model, processing_class=tokenizer, train_dataset=train,",
            "    args=SFTConfig(",
            "        output_dir='sft-out', max_steps=2, per_device_train_batch_size=2, report_to=[],",
            "        bf16=torch.cuda.is_available(),  # max_steps=2: a smoke run; set your own schedule",
            "    ),",
            ")",
            "trainer.train()",
        ]
    )


def recipes(manifest: Mapping[str, object]) -> list[tuple[str, str]]:
    """(title, Python code) of every loading recipe for the formats the export holds."""
    formats = list(manifest["formats"])  # type: ignore[call-overload]
    out = []
    names = {"jsonl": "JSONL", "csv": "CSV", "parquet": "Parquet"}
    for fmt in formats:
        out.append((f"pandas, {names[fmt]}", _pandas(manifest, fmt)))
    for fmt in formats:
        out.append((f"Hugging Face datasets, {names[fmt]}", _datasets(manifest, fmt)))
    for fmt in ("jsonl", "parquet"):
        code = _trl(manifest, fmt) if fmt in formats else None
        if code:
            out.append((f"TRL SFTTrainer, {names[fmt]}", code))
    return out
