"""TRL's ``SFTTrainer`` trains on the exported files as they are: ``datasets.load_dataset`` of one file goes
straight to the trainer, with no formatting function, mapping, renaming or column removal.

A tiny randomly initialised Llama and a byte-level BPE tokenizer trained on the file's own text
(``tiny_lm``) run a few steps on the CPU. Each test checks the loss is finite, every step ran, and TRL took the
intended path (issue 15's contract):

* a chat file in JSONL / Parquet (``messages`` / ``prompt`` / ``completion`` as lists of ``{role, content}``) is
  conversational prompt-completion: each sequence is the chat template of prompt + completion, and the loss is
  on the assistant's reply only (the rendered prompt, generation prompt included, is masked);
* a features or timeseries file (``prompt`` / ``completion`` strings) is standard prompt-completion: each
  sequence is prompt + completion + EOS, the loss on the completion and EOS only;
* a chat CSV holds its lists as JSON text, which TRL reads as standard prompt-completion text.

The fast tests write small files in the contract's layout themselves, with the export's other columns (ISO
timestamps, floats with nulls, an all-null column, nullable ints, booleans) to show that extra columns do not
get in TRL's way. The slow tests do the same on files written by ``export_training_set`` from a few real rows of
the bundled sample, in every prompt format (chat, features, timeseries). Nothing touches the network.
"""

from __future__ import annotations

import json
import math
import os

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

from datetime import date
from pathlib import Path

import datasets
import huggingface_hub.constants
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from portfolio_assets.features.sft import SYSTEM_PROMPT
from portfolio_assets_tests.tiny_lm import EOS, MAX_STEPS, run_sft, train_tokenizer

datasets.disable_progress_bars()

BUILDERS = {"jsonl": "json", "parquet": "parquet", "csv": "csv"}
MESSAGE = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])
CHAT_COLUMNS = ("messages", "prompt", "completion")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network (also for modules that read the settings at import), datasets' cache under tmp, one thread."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def load(path: Path, cache: Path) -> datasets.Dataset:
    """What a user types: one exported file, loaded by its format's builder, nothing else."""
    return datasets.load_dataset(BUILDERS[path.suffix[1:]], data_files=str(path), split="train", cache_dir=str(cache))


def export_texts(ds: datasets.Dataset) -> list[str]:
    """The export's text: every row's instruction, input and output."""
    return [text for name in ("instruction", "input", "output") for text in ds[name]]


def train(ds: datasets.Dataset, tmp_path: Path):
    """Train on ``ds`` as loaded; return the trainer, its TrainOutput and the tokenizer."""
    tokenizer = train_tokenizer(export_texts(ds))
    trainer, output = run_sft(ds, tokenizer, tmp_path / "sft")
    return trainer, output, tokenizer


def split_labels(example: dict) -> tuple[list[int], list[int]]:
    """(masked, trained) token ids of a prepared example: a run of -100 labels, then labels equal to the ids."""
    ids, labels = example["input_ids"], example["labels"]
    masked = next((i for i, label in enumerate(labels) if label != -100), len(labels))
    assert labels[masked:] == ids[masked:], "only a leading run of prompt tokens may be masked"
    assert masked < len(ids), "no token is trained on"
    return ids[:masked], ids[masked:]


def assert_trained(trainer, output, rows: int) -> None:
    assert trainer.state.global_step == MAX_STEPS
    assert math.isfinite(output.training_loss) and output.training_loss > 0.0
    assert len(trainer.train_dataset) == rows, "TRL dropped rows"
    assert trainer.completion_only_loss is True


def assert_conversational(trainer, output, ds: datasets.Dataset, tokenizer) -> None:
    """Every row was rendered with the chat template and is trained on its assistant reply alone."""
    assert_trained(trainer, output, len(ds))
    for example, row in zip(trainer.train_dataset, ds, strict=True):
        masked, trained = split_labels(example)
        prompt, completion = row["prompt"], row["completion"]
        assert [m["role"] for m in completion] == ["assistant"]
        assert tokenizer.decode(masked + trained) == tokenizer.apply_chat_template(prompt + completion, tokenize=False)
        assert tokenizer.decode(masked) == tokenizer.apply_chat_template(
            prompt, tokenize=False, add_generation_prompt=True
        )
        assert tokenizer.decode(trained) == f"{completion[0]['content']}{EOS}\n"


def assert_standard(trainer, output, ds: datasets.Dataset, tokenizer) -> None:
    """Every row is its prompt + completion + EOS as plain text, trained on the completion and EOS."""
    assert_trained(trainer, output, len(ds))
    for example, row in zip(trainer.train_dataset, ds, strict=True):
        masked, trained = split_labels(example)
        prompt, completion = row["prompt"], row["completion"]
        assert isinstance(prompt, str) and isinstance(completion, str)
        assert tokenizer.decode(masked + trained) == prompt + completion + EOS
        # The trained part is the completion, give or take a token merged across the prompt's end.
        assert prompt.startswith(tokenizer.decode(masked))
        assert tokenizer.decode(trained).endswith(completion + EOS)


# --------------------------------------------------------------------------- files in the contract's layout


def output_text(close: float, log_return: float) -> str:
    """The contract's default output: the 90-day log return (4 dp), then percent return (2 dp) and price (6 sd)."""
    fields = {
        "predicted_return_90d": round(log_return, 4),
        "predicted_return_pct_90d": round(100.0 * math.expm1(log_return), 2),
        "predicted_price_90d": float(f"{close * math.exp(log_return):.6g}"),
    }
    return json.dumps(fields)


def contract_rows(prompt_format: str, n: int = 2 * MAX_STEPS) -> pd.DataFrame:
    """``n`` rows shaped like the export: text, ISO timestamps, floats with nulls, an all-null float column,
    nullable ints, booleans, then ``row_id`` / ``is_synthetic`` and the contract's prompt / completion columns."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2012-07-11", periods=n, freq="D", tz="UTC")
    symbols = ["BTC-USD", "EURUSD"] * (n // 2) + ["BTC-USD"] * (n % 2)
    close = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, n))
    ret = rng.normal(0.0, 0.1, n)
    rsi = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0.0, 100.0, n))
    instructions = [
        f"Predict the 90-day forward price and return for {s} as of the close of {d:%Y-%m-%d}."
        for s, d in zip(symbols, days, strict=True)
    ]
    instructions[1] = 'Prédire "le prix", à 90 jours — ünïcödé, tab\there,\nnew line.'
    inputs = [
        json.dumps({"price_close": round(c, 4), "rsi_14": None if np.isnan(r) else round(r, 4), "volume": None})
        for c, r in zip(close, rsi, strict=True)
    ]
    outputs = [output_text(c, r) for c, r in zip(close, ret, strict=True)]
    rows = pd.DataFrame(
        {
            "instruction": instructions,
            "input": inputs,
            "output": outputs,
            "context_window": [json.dumps([round(c, 4)] * 3) for c in close],
            "timestamp": days,
            "asset_symbol": symbols,
            "asset_class": ["crypto" if s == "BTC-USD" else "fx" for s in symbols],
            "price_close": close,
            "volume": np.full(n, np.nan),
            "decision_time": days + pd.Timedelta(hours=16),
            "target_timestamp": days + pd.Timedelta(days=90),
            "target_return_90d": ret,
            "rsi_14": rsi,
            "news_volume": pd.array([None if i % 3 == 0 else 10 * i for i in range(n)], dtype="Int64"),
            "not_applicable": ['["volume"]' if s == "EURUSD" else "[]" for s in symbols],
            "row_id": [f"{s}:{d:%Y-%m-%d}" for s, d in zip(symbols, days, strict=True)],
            "is_synthetic": [s == "BTC-USD" for s in symbols],
        }
    )
    if prompt_format == "chat":
        system = {"role": "system", "content": SYSTEM_PROMPT}
        users = [{"role": "user", "content": f"{i}\n\n{x}"} for i, x in zip(instructions, inputs, strict=True)]
        replies = [{"role": "assistant", "content": o} for o in outputs]
        rows["messages"] = [[system, u, a] for u, a in zip(users, replies, strict=True)]
        rows["prompt"] = [[system, u] for u in users]
        rows["completion"] = [[a] for a in replies]
    else:
        rows["prompt"] = [f"{i}\n\n{x}\n" for i, x in zip(instructions, inputs, strict=True)]
        rows["completion"] = outputs
    return rows


def _iso(series: pd.Series) -> list[str]:
    return series.dt.strftime("%Y-%m-%dT%H:%M:%SZ").tolist()


def write_contract_file(rows: pd.DataFrame, path: Path) -> Path:
    """``rows`` as the exporter writes them: JSONL (strict JSON, ISO timestamps, lists as raw arrays), Parquet
    (``timestamp[ns, UTC]``, ``list<struct<role, content>>``) or CSV (ISO timestamps, lists as JSON text)."""
    times = [c for c in rows.columns if isinstance(rows[c].dtype, pd.DatetimeTZDtype)]
    lists = [c for c in CHAT_COLUMNS if c in rows.columns and isinstance(rows[c].iat[0], list)]
    fmt = path.suffix[1:]
    if fmt == "jsonl":
        plain = rows.assign(**{c: _iso(rows[c]) for c in times}).astype(object)
        plain = plain.where(plain.notna(), None)
        with path.open("w", encoding="utf-8") as out:
            for record in plain.to_dict("records"):
                out.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
    elif fmt == "parquet":
        types = {c: pa.list_(MESSAGE) for c in lists} | {c: pa.timestamp("ns", tz="UTC") for c in times}
        table = pa.Table.from_pandas(rows, preserve_index=False)
        schema = pa.schema([pa.field(f.name, types.get(f.name, f.type)) for f in table.schema])
        pq.write_table(pa.Table.from_pandas(rows, schema=schema, preserve_index=False), path)
    else:
        texts = {c: _iso(rows[c]) for c in times} | {c: [json.dumps(v) for v in rows[c]] for c in lists}
        rows.assign(**texts).to_csv(path, index=False, lineterminator="\n")
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_chat_file_trains_as_conversational_prompt_completion(fmt, tmp_path):
    rows = contract_rows("chat")
    ds = load(write_contract_file(rows, tmp_path / f"train.{fmt}"), tmp_path / "cache")
    assert ds.column_names == list(rows.columns)
    trainer, output, tokenizer = train(ds, tmp_path)
    assert_conversational(trainer, output, ds, tokenizer)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_a_features_file_trains_as_standard_prompt_completion(fmt, tmp_path):
    rows = contract_rows("features")
    ds = load(write_contract_file(rows, tmp_path / f"train.{fmt}"), tmp_path / "cache")
    assert ds.column_names == list(rows.columns)
    trainer, output, tokenizer = train(ds, tmp_path)
    assert_standard(trainer, output, ds, tokenizer)


def test_a_chat_csv_trains_on_its_json_text_as_standard_prompt_completion(tmp_path):
    rows = contract_rows("chat")
    ds = load(write_contract_file(rows, tmp_path / "train.csv"), tmp_path / "cache")
    trainer, output, tokenizer = train(ds, tmp_path)
    assert_standard(trainer, output, ds, tokenizer)
    assert json.loads(ds[0]["completion"]) == rows["completion"].iat[0]


# --------------------------------------------------------------------------- the real export (issue 15's layout)

EXPORT_DAYS = ["2010-01-04", "2010-01-05", "2010-04-12", "2010-07-19"]  # train, train, validation, test
EXPORT_SPLIT_BOUNDARIES = {"validation_start": date(2010, 4, 10), "test_start": date(2010, 7, 15), "embargo_days": 0}


@pytest.fixture(scope="module")
def sample_rows() -> pd.DataFrame:
    """The bundled sample's sft rows (every asset) on ``EXPORT_DAYS``, built by the assets' pure functions."""
    from portfolio_assets.assets.prices import canonical_prices
    from portfolio_assets.assets.sft_rows import build_sft_rows, join_features
    from portfolio_assets.assets.windows import in_window
    from portfolio_assets.features.sft import context_windows
    from portfolio_assets.landing import SAMPLE_LANDING_ROOT
    from portfolio_assets.resources import LandingZoneResource
    from portfolio_assets_tests.sample_frames import group_frames

    first, last = pd.Timestamp(EXPORT_DAYS[0], tz="UTC"), pd.Timestamp(EXPORT_DAYS[-1], tz="UTC")
    landing = LandingZoneResource(root=str(SAMPLE_LANDING_ROOT))
    groups = group_frames(EXPORT_DAYS[0], EXPORT_DAYS[-1])
    history = canonical_prices(landing)
    prices = in_window(history.assign(context_window=context_windows(history, 30)), first, last)
    keep = prices["timestamp"].isin(pd.to_datetime(EXPORT_DAYS, utc=True)).to_numpy()
    prices = prices[keep].reset_index(drop=True)
    joined = join_features(
        prices.drop(columns="context_window"),
        groups["indicators"],
        groups["macro"],
        groups["sentiment"],
        groups["targets"],
    )
    labelled = joined["target_price_90d"].notna().to_numpy()
    assert labelled.all()
    return build_sft_rows(joined.reset_index(drop=True), prices["context_window"], landing.universe())


@pytest.fixture(scope="module", params=["chat", "features", "timeseries"])
def real_export(request, sample_rows, tmp_path_factory) -> tuple[str, Path]:
    """``export_training_set`` of ``sample_rows`` in a prompt format, every file format; (prompt format, dir)."""
    from portfolio_assets.columns import FEATURE_COLUMNS
    from portfolio_assets.export import SplitConfig, export_training_set, rowid, sample_sources
    from portfolio_assets.features.sft import format_rows
    from portfolio_assets.spans import HORIZON_DAYS
    from portfolio_assets.universe import load_universe

    prompt_format = request.param
    rows = format_rows(sample_rows, FEATURE_COLUMNS, HORIZON_DAYS, prompt_format=prompt_format)
    out = tmp_path_factory.mktemp(f"export_{prompt_format}") / "training_set"
    sources = sample_sources()
    export_training_set(
        rows,
        out,
        split=SplitConfig(**EXPORT_SPLIT_BOUNDARIES),
        shard_by="year",
        provenance={"sources": sources, "prompt_format": prompt_format, "code_version": "test"},
        synthetic=rowid.synthetic_symbols(sources, load_universe()),
    )
    return prompt_format, out


def train_file(out: Path, fmt: str) -> Path:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = [f["path"] for f in manifest["files"] if f["format"] == fmt and f["split"] == "train"]
    assert len(files) == 1, files
    return out / files[0]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_sft_trainer_runs_on_each_exported_file_as_it_is(real_export, fmt, tmp_path):
    prompt_format, out = real_export
    ds = load(train_file(out, fmt), tmp_path / "cache")
    for name in ("row_id", "is_synthetic", "prompt", "completion"):
        assert name in ds.column_names, f"{name} missing from the exported {prompt_format} {fmt} file"
    trainer, output, tokenizer = train(ds, tmp_path)
    if prompt_format == "chat" and fmt != "csv":
        assert [m["role"] for m in ds[0]["messages"]] == ["system", "user", "assistant"]
        assert [m["role"] for m in ds[0]["prompt"]] == ["system", "user"]
        assert_conversational(trainer, output, ds, tokenizer)
    else:
        assert_standard(trainer, output, ds, tokenizer)
        if prompt_format != "chat":  # features / timeseries: strings, instruction + "\n\n" + input + "\n", then output
            row = ds[0]
            assert (row["prompt"], row["completion"]) == (f"{row['instruction']}\n\n{row['input']}\n", row["output"])
