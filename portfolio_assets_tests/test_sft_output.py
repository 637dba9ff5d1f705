"""Issue 15's text columns: the configurable output (log return first), prompt / completion, identity masking,
and the settings that choose them (and the walk-forward folds)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from dagster import EnvVar

from portfolio_assets.assets.export_meta import export_text_options
from portfolio_assets.assets.training_set import csv_ready
from portfolio_assets.bench_rows import synthetic_rows
from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.definitions import local_resources
from portfolio_assets.export.naming import export_name, export_settings
from portfolio_assets.features.sft import SYSTEM_PROMPT, format_rows
from portfolio_assets.features.sft_output import (
    DEFAULT_OUTPUT,
    MASKED_DAY,
    MASKED_SYMBOL,
    OUTPUT_RATIONALE,
    PROMPT_FORMATS,
    PROMPT_TEMPLATE,
    OutputFormat,
    TextOptions,
    decimal_texts,
    describe_output,
)
from portfolio_assets.resources import ExportResource, StorageResource
from portfolio_assets.schemas import TRAINING_SET_SCHEMAS, validate_rows
from portfolio_assets.settings import SettingError, check_fold_settings

HORIZON = 90


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    rows = synthetic_rows(240, assets=3, seed=7)  # in csv_ready's order: positions are the validated rows'
    return rows.sort_values(["timestamp", "asset_symbol"], kind="stable").reset_index(drop=True)


def validated(rows: pd.DataFrame, prompt_format: str, output: OutputFormat = DEFAULT_OUTPUT, **kwargs: object):
    ready = csv_ready(rows)
    return validate_rows(ready, TRAINING_SET_SCHEMAS[prompt_format], output=output, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the output text


def test_the_default_output_is_the_log_return_first_at_four_decimals(base) -> None:
    out = format_rows(base, FEATURE_COLUMNS, HORIZON)
    for text, ret, pct, price in zip(
        out["output"], base["target_return_90d"], base["target_return_pct_90d"], base["target_price_90d"], strict=True
    ):
        value = json.loads(text)
        assert list(value) == ["predicted_return_90d", "predicted_return_pct_90d", "predicted_price_90d"]
        ret_text, pct_text = text.split('"predicted_return_90d": ')[1].split(",")[0], text.split(": ")[2].split(",")[0]
        assert len(ret_text.split(".")[1]) == 4 and len(pct_text.split(".")[1]) == 2  # fixed decimals, as stated
        assert value["predicted_return_90d"] == float(f"{ret:.4f}")
        assert value["predicted_return_pct_90d"] == float(f"{pct:.2f}")
        assert value["predicted_price_90d"] == float(f"{price:.6g}")
    timeseries = format_rows(base, FEATURE_COLUMNS, HORIZON, prompt_format="timeseries")
    assert list(json.loads(timeseries["output"].iloc[0])) == ["predicted_return_90d", "predicted_return_pct_90d"]


def test_decimal_texts_never_write_a_negative_zero_and_null_what_is_not_finite() -> None:
    texts = decimal_texts(np.array([-0.0, -0.00004, 0.00005, 0.1, -1.23456, np.nan, np.inf]), 4).to_pylist()
    assert texts == ["0.0000", "0.0000", "0.0001", "0.1000", "-1.2346", "null", "null"]


def test_the_output_fields_order_and_decimals_are_configurable(base) -> None:
    output = OutputFormat(("predicted_price_90d", "predicted_return_90d"), return_decimals=6)
    out = format_rows(base, FEATURE_COLUMNS, HORIZON, output=output)
    value = json.loads(out["output"].iloc[3])
    assert list(value) == ["predicted_price_90d", "predicted_return_90d"]
    assert value["predicted_return_90d"] == float(f"{base['target_return_90d'].iloc[3]:.6f}")
    assert validated(out, "features", output).ok
    # judged against the default format, the configured text is wrong (keys and precision differ)
    assert not validated(out, "features").ok
    ts = format_rows(base, FEATURE_COLUMNS, HORIZON, prompt_format="timeseries", output=output)
    assert list(json.loads(ts["output"].iloc[0])) == ["predicted_return_90d"]
    assert validated(ts, "timeseries", output).ok


@pytest.mark.parametrize("shortcut", [True, False])
def test_an_output_off_by_more_than_its_rounding_is_invalid(base, shortcut) -> None:
    rows = format_rows(base, FEATURE_COLUMNS, HORIZON)
    text = rows.at[5, "output"]
    value = json.loads(text)
    off = round(value["predicted_return_90d"] + 0.0002, 4)
    rows.at[5, "output"] = text.replace(
        f'"predicted_return_90d": {text.split(": ")[1].split(",")[0]}', f'"predicted_return_90d": {off:.4f}'
    )
    rows = rows.assign(completion=rows["output"])
    result = validated(rows, "features", _shortcut=shortcut)
    assert len(result.invalid) == 1
    assert "output disagrees with target_return_90d" in result.invalid["validation_error"].iloc[0]


def test_bad_output_formats_are_refused_naming_the_cause() -> None:
    with pytest.raises(ValueError, match="unknown output field"):
        OutputFormat(("predicted_return_90d", "price"))
    with pytest.raises(ValueError, match="must include predicted_return_90d"):
        OutputFormat(("predicted_price_90d",))
    with pytest.raises(ValueError, match="twice"):
        OutputFormat(("predicted_return_90d", "predicted_return_90d"))
    with pytest.raises(ValueError, match="between 1 and 10"):
        OutputFormat(return_decimals=11)


def test_the_rationale_and_description_are_there_for_the_card() -> None:
    assert OUTPUT_RATIONALE.startswith("A causal language model") and "log return" in OUTPUT_RATIONALE
    assert "\n" not in OUTPUT_RATIONALE
    from portfolio_assets.features import sft_output

    assert OUTPUT_RATIONALE in " ".join(sft_output.__doc__.split())  # the module docstring says the same
    lines = describe_output().splitlines()
    assert lines[0].startswith("1. `predicted_return_90d`") and lines[0].endswith("4 decimal places")
    assert lines[2].endswith("6 significant digits")
    assert len(describe_output(timeseries=True).splitlines()) == 2


# --------------------------------------------------------------------------- prompt / completion


@pytest.mark.parametrize("prompt_format", PROMPT_FORMATS)
def test_every_format_has_a_prompt_and_a_completion_that_validate(base, prompt_format) -> None:
    out = format_rows(base, FEATURE_COLUMNS, HORIZON, prompt_format=prompt_format)
    first = out.iloc[0]
    if prompt_format == "chat":
        messages = json.loads(first["messages"])
        assert json.loads(first["prompt"]) == messages[:2]
        assert json.loads(first["completion"]) == messages[2:]
        assert messages[0]["content"] == SYSTEM_PROMPT
    else:
        assert first["prompt"] == PROMPT_TEMPLATE.format(instruction=first["instruction"], input=first["input"])
        assert first["prompt"] == f"{first['instruction']}\n\n{first['input']}\n"
        assert first["completion"] == first["output"]
    assert validated(out, prompt_format).ok
    assert validated(out, prompt_format, _shortcut=False).ok


@pytest.mark.parametrize("prompt_format", PROMPT_FORMATS)
@pytest.mark.parametrize("shortcut", [True, False])
def test_a_prompt_or_completion_that_disagrees_is_invalid(base, prompt_format, shortcut) -> None:
    out = format_rows(base, FEATURE_COLUMNS, HORIZON, prompt_format=prompt_format)
    other = out.at[1, "prompt"]
    out.at[0, "prompt"] = other  # another row's prompt
    out.at[2, "completion"] = out.at[3, "completion"]
    result = validated(out, prompt_format, _shortcut=shortcut)
    assert sorted(result.invalid.index.tolist()) == [0, 2]
    rule = "chat prompt" if prompt_format == "chat" else "prompt is not instruction"
    assert all(rule in e or "prompt is not the messages" in e for e in result.invalid["validation_error"])


def test_a_chat_prompt_that_is_not_messages_is_invalid(base) -> None:
    out = format_rows(base, FEATURE_COLUMNS, HORIZON, prompt_format="chat")
    out.at[4, "prompt"] = '[{"role": "user", "content": "hi"}]'
    result = validated(out, "chat")
    assert result.invalid.index.tolist() == [4]
    assert "prompt is not a JSON array of ['system', 'user'] messages" in result.invalid["validation_error"].iloc[0]


def test_the_stored_rows_have_no_pairs(base) -> None:
    out = format_rows(base, FEATURE_COLUMNS, HORIZON, pairs=False)
    assert "prompt" not in out.columns and "completion" not in out.columns


# --------------------------------------------------------------------------- identity masking


def _leaks(text: str, symbols: list[str], days: list[str]) -> list[str]:
    return [s for s in symbols if s in text] + [d for d in days if d in text]


@pytest.mark.parametrize("prompt_format", PROMPT_FORMATS)
def test_masking_hides_the_ticker_and_the_date_from_every_prompt_text(base, prompt_format) -> None:
    rows = base.copy()
    rows["asset_symbol"] = rows["asset_symbol"].map(
        {s: f"TICK{i}" for i, s in enumerate(rows["asset_symbol"].unique())}
    )
    out = format_rows(rows, FEATURE_COLUMNS, HORIZON, prompt_format=prompt_format, mask_identity=True)
    symbols = sorted(rows["asset_symbol"].unique())
    days = sorted({f"{t:%Y-%m-%d}" for t in rows["timestamp"]} | {f"{t:%Y-%m-%d}" for t in rows["target_timestamp"]})
    for column in ("instruction", "input", "output", "prompt", "completion", "messages"):
        if column in out.columns:
            leaked = [_leaks(t, symbols, days) for t in out[column]]
            assert not any(leaked), (column, next(x for x in leaked if x))
    assert MASKED_SYMBOL in out["instruction"].iloc[0] and MASKED_DAY in out["instruction"].iloc[0]
    # the canonical columns keep the identity: rows can still be joined and scored
    assert out["asset_symbol"].tolist() == rows["asset_symbol"].tolist()
    assert out["timestamp"].tolist() == rows["timestamp"].tolist()
    assert validated(out, prompt_format).ok
    unmasked = format_rows(rows, FEATURE_COLUMNS, HORIZON, prompt_format=prompt_format)
    assert symbols[0] in " ".join(unmasked["prompt"])


def test_masking_also_hides_them_when_written_row_by_row(base) -> None:
    rows = base.head(5).copy()
    rows["asset_symbol"] = rows["asset_symbol"].astype(object)
    rows.loc[0, "asset_symbol"] = np.str_("NPSTR")  # not a plain str: the row-by-row path
    out = format_rows(rows, FEATURE_COLUMNS, HORIZON, mask_identity=True)
    assert all(f"for {MASKED_SYMBOL} (" in t and f"close of {MASKED_DAY}," in t for t in out["instruction"])


def test_text_options_say_when_the_stored_texts_are_the_exports() -> None:
    assert TextOptions().as_stored
    assert not TextOptions(prompt_format="chat").as_stored
    assert not TextOptions(mask_identity=True).as_stored
    assert not TextOptions(output=OutputFormat(return_decimals=5)).as_stored


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "PORTFOLIO_OUTPUT_FIELDS",
            "predicted_price_90d",
            "PORTFOLIO_OUTPUT_FIELDS='predicted_price_90d' must include",
        ),
        ("PORTFOLIO_OUTPUT_FIELDS", "predicted_return_90d,x", "names unknown output field(s) ['x']"),
        ("PORTFOLIO_RETURN_DECIMALS", "0", "PORTFOLIO_RETURN_DECIMALS='0' must be between 1 and 10"),
        ("PORTFOLIO_MASK_IDENTITY", "maybe", "PORTFOLIO_MASK_IDENTITY='maybe' must be true or false"),
        ("PORTFOLIO_FOLDS", "-1", "PORTFOLIO_FOLDS='-1' must be between 0 and 100"),
        ("PORTFOLIO_FOLD_SCHEME", "sliding", "PORTFOLIO_FOLD_SCHEME='sliding' must be one of expanding, rolling"),
        ("PORTFOLIO_FOLD_TEST_DAYS", "0", "PORTFOLIO_FOLD_TEST_DAYS='0' must be between 1 and 36500"),
        ("PORTFOLIO_FOLD_TRAIN_DAYS", "400", "PORTFOLIO_FOLD_SCHEME=expanding takes no PORTFOLIO_FOLD_TRAIN_DAYS"),
        ("PORTFOLIO_FOLD_SCHEME", "rolling", "PORTFOLIO_FOLD_SCHEME=rolling needs PORTFOLIO_FOLD_TRAIN_DAYS"),
    ],
)
def test_a_bad_text_or_fold_setting_fails_when_the_definitions_load(monkeypatch, variable, value, message) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingError) as raised:
        local_resources()
    assert message in str(raised.value)


def test_the_text_and_fold_settings_reach_the_export_resource(monkeypatch) -> None:
    monkeypatch.setenv("PORTFOLIO_OUTPUT_FIELDS", "predicted_return_90d,predicted_price_90d")
    monkeypatch.setenv("PORTFOLIO_RETURN_DECIMALS", "6")
    monkeypatch.setenv("PORTFOLIO_MASK_IDENTITY", "yes")
    monkeypatch.setenv("PORTFOLIO_FOLD_SCHEME", "rolling")
    monkeypatch.setenv("PORTFOLIO_FOLD_TRAIN_DAYS", "730")
    monkeypatch.setenv("PORTFOLIO_FOLD_TEST_DAYS", "")  # empty: automatic
    export = local_resources()["export"]
    assert export.output_fields == EnvVar("PORTFOLIO_OUTPUT_FIELDS")
    assert export.return_decimals == EnvVar.int("PORTFOLIO_RETURN_DECIMALS")
    assert export.mask_identity is True
    assert export.fold_train_days == EnvVar.int("PORTFOLIO_FOLD_TRAIN_DAYS")
    assert export.fold_test_days is None and export.folds == 5


def test_export_text_options_and_the_settings_digest_follow_the_resource(tmp_path) -> None:
    storage = StorageResource(data_dir=str(tmp_path))
    default = ExportResource(storage=storage)
    assert export_text_options(default) == TextOptions()
    configured = ExportResource(
        storage=storage, output_fields="predicted_return_90d", return_decimals=3, mask_identity=True, folds=0
    )
    options = export_text_options(configured)
    assert options.output == OutputFormat(("predicted_return_90d",), 3) and options.mask_identity
    settings = export_settings(configured)
    assert settings["output_fields"] == "predicted_return_90d" and settings["folds"] == 0
    assert {"return_decimals", "mask_identity", "fold_scheme", "fold_test_days", "fold_train_days"} <= set(settings)
    first, last = pd.Timestamp("2010-01-01"), pd.Timestamp("2010-12-31")
    assert export_name(default, first, last) != export_name(configured, first, last)
    rolling = ExportResource(storage=storage, fold_scheme="rolling", fold_train_days=365)
    assert export_name(rolling, first, last) != export_name(default, first, last)


def test_check_fold_settings_directly() -> None:
    check_fold_settings("rolling", 365)
    check_fold_settings("expanding", None)
    with pytest.raises(SettingError, match="rolling needs X"):
        check_fold_settings("rolling", None, "X")
    with pytest.raises(SettingError, match="expanding takes no X"):
        check_fold_settings("expanding", 5, "X")
