"""Prompt formats of the SFT rows (features / timeseries / chat) and the vectorised context windows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.features.sft import (
    OUTPUT_FIELDS,
    PROMPT_FORMATS,
    SYSTEM_PROMPT,
    context_windows,
    format_rows,
    round_number,
    to_json,
)

FEATS = ["price_close", "volume", "rsi_14", "macd", "volatility_30d", "sma_50", "sma_200", "fear_greed_index"]
FEATURES_OUTPUT_KEYS = ["predicted_return_90d", "predicted_return_pct_90d", "predicted_price_90d"]
TIMESERIES_INPUT_KEYS = ["context_window", "current_price", "rsi_14", "volatility_30d", "macd", "sma_50", "sma_200"]
TIMESERIES_OUTPUT_KEYS = ["predicted_return_90d", "predicted_return_pct_90d"]
ADDED = ["instruction", "input", "output"]


def strict_loads(text: str) -> object:
    """json.loads that rejects NaN / Infinity / -Infinity."""

    def reject(constant: str) -> object:
        raise ValueError(f"non-strict JSON constant {constant}")

    return json.loads(text, parse_constant=reject)


def hand_rows() -> pd.DataFrame:
    """Two rows: a crypto row with values to round, and a currency row of NaN / inf / None / zero."""
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex([pd.Timestamp("2024-03-15", tz="UTC"), pd.Timestamp("2024-03-18", tz="UTC")]),
            "asset_symbol": ["BTC-USD", "EURUSD"],
            "asset_class": ["crypto", "currency"],
            "price_close": [67123.456789, 1.0873456],
            "volume": [3.5e10, np.nan],
            "rsi_14": [65.2, 48.123456789],
            "macd": [-125.55555555, 0.0],
            "volatility_30d": [0.45, np.inf],
            "sma_50": [60000.0, 1.08],
            "sma_200": [np.nan, -np.inf],
            "fear_greed_index": [72, None],
            "target_price_90d": [72000.123456, np.nan],
            "target_return_90d": [0.0726712345, np.nan],
            "target_return_pct_90d": [7.26712345, np.nan],
            "context_window": ["[65000.1, 66000.2, 67123.5]", "[1.08735]"],
        }
    )


# Produced by the implementation before prompt formats existed: the default must not change.
FEATURES_INSTRUCTION = [
    "Predict the 90-day forward price and return for BTC-USD (crypto) as of the close of 2024-03-15, "
    "based on the following technical, macroeconomic and sentiment features.",
    "Predict the 90-day forward price and return for EURUSD (currency) as of the close of 2024-03-18, "
    "based on the following technical, macroeconomic and sentiment features.",
]
FEATURES_INPUT = [
    '{"price_close": 67123.5, "volume": 35000000000.0, "rsi_14": 65.2, "macd": -125.556, '
    '"volatility_30d": 0.45, "sma_50": 60000.0, "sma_200": null, "fear_greed_index": 72.0}',
    '{"price_close": 1.08735, "volume": null, "rsi_14": 48.1235, "macd": 0.0, '
    '"volatility_30d": null, "sma_50": 1.08, "sma_200": null, "fear_greed_index": null}',
]
# Issue 15: the log return first, with 4 decimals, the percent return with 2, then the price (6 digits).
FEATURES_OUTPUT = [
    '{"predicted_return_90d": 0.0727, "predicted_return_pct_90d": 7.27, "predicted_price_90d": 72000.1}',
    '{"predicted_return_90d": null, "predicted_return_pct_90d": null, "predicted_price_90d": null}',
]
TIMESERIES_INSTRUCTION = [
    "Predict the 90-day forward return for BTC-USD (crypto) as of the close of 2024-03-15 "
    "given the historical price context.",
    "Predict the 90-day forward return for EURUSD (currency) as of the close of 2024-03-18 "
    "given the historical price context.",
]
TIMESERIES_INPUT = [
    '{"context_window": [65000.1, 66000.2, 67123.5], "current_price": 67123.5, "rsi_14": 65.2, '
    '"volatility_30d": 0.45, "macd": -125.556, "sma_50": 60000.0, "sma_200": null}',
    '{"context_window": [1.08735], "current_price": 1.08735, "rsi_14": 48.1235, '
    '"volatility_30d": null, "macd": 0.0, "sma_50": 1.08, "sma_200": null}',
]
TIMESERIES_OUTPUT = [
    '{"predicted_return_90d": 0.0727, "predicted_return_pct_90d": 7.27}',
    '{"predicted_return_90d": null, "predicted_return_pct_90d": null}',
]
CHAT_MESSAGES_0 = (
    r"""[{"role": "system", "content": "You are a quantitative financial analyst model. Given an asset's """
    r"""technical, macroeconomic and sentiment features, forecast its price and return, answering only """
    r"""with a JSON object."}, {"role": "user", "content": "Predict the 90-day forward price and return for """
    r"""BTC-USD (crypto) as of the close of 2024-03-15, based on the following technical, macroeconomic and """
    r"""sentiment features.\n\n{\"price_close\": 67123.5, \"volume\": 35000000000.0, \"rsi_14\": 65.2, """
    r"""\"macd\": -125.556, \"volatility_30d\": 0.45, \"sma_50\": 60000.0, \"sma_200\": null, """
    r"""\"fear_greed_index\": 72.0}"}, {"role": "assistant", "content": "{\"predicted_return_90d\": 0.0727, """
    r"""\"predicted_return_pct_90d\": 7.27, \"predicted_price_90d\": 72000.1}"}]"""
)


def _fixed(value: float, places: int) -> str:
    """A return with ``places`` decimals, never ``-0.00``; null when not finite (the issue-15 output rule)."""
    if not np.isfinite(value):
        return "null"
    text = f"{value:.{places}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def legacy_format_rows(rows: pd.DataFrame, feature_columns: list[str], horizon_days: int) -> pd.DataFrame:
    """Copy of format_rows as it was before prompt formats (the reference for the default), with issue 15's
    output (log return first at 4 decimals, percent at 2, then the price) and prompt / completion."""
    records = rows[list(feature_columns)].to_dict(orient="records")
    inputs = [to_json({k: round_number(v) for k, v in rec.items()}) for rec in records]
    targets = rows[list(OUTPUT_FIELDS.values())].to_dict(orient="records")
    outputs = [
        f'{{"predicted_return_90d": {_fixed(rec["target_return_90d"], 4)}, '
        f'"predicted_return_pct_90d": {_fixed(rec["target_return_pct_90d"], 2)}, '
        f'"predicted_price_90d": {json.dumps(round_number(rec["target_price_90d"]))}}}'
        for rec in targets
    ]
    instructions = [
        f"Predict the {horizon_days}-day forward price and return for {sym} ({cls}) as of the close of "
        f"{ts:%Y-%m-%d}, based on the following technical, macroeconomic and sentiment features."
        for sym, cls, ts in zip(rows["asset_symbol"], rows["asset_class"], rows["timestamp"], strict=True)
    ]
    prompts = [f"{i}\n\n{x}\n" for i, x in zip(instructions, inputs, strict=True)]
    return rows.assign(instruction=instructions, input=inputs, output=outputs, prompt=prompts, completion=outputs)


def loop_context_windows(prices: pd.DataFrame, length: int) -> pd.Series:
    """Straightforward per-row loop (the implementation before vectorisation)."""
    ordered = prices.sort_values(["asset_symbol", "timestamp"])
    out = pd.Series(index=ordered.index, dtype="object")
    for _, group in ordered.groupby("asset_symbol", sort=False):
        closes = [round_number(v) for v in group["price_close"].to_numpy()]
        for i, idx in enumerate(group.index):
            out[idx] = to_json(closes[max(0, i + 1 - length) : i + 1])
    return out.reindex(prices.index)


def random_rows(seed: int, n: int = 200) -> pd.DataFrame:
    """Joined-like rows over every FEATURE_COLUMN, with NaN, +-inf, zeros and wide magnitudes."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {
        "timestamp": pd.Timestamp("2015-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D"),
        "asset_symbol": rng.choice(["BTC-USD", "AAPL", "EURUSD", "GC"], n),
        "asset_class": rng.choice(list(ASSET_CLASSES), n),
    }
    for col in [*FEATURE_COLUMNS, *OUTPUT_FIELDS.values()]:
        values = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 12, n)
        special = rng.random(n)
        values[special < 0.1] = np.nan
        values[(special >= 0.1) & (special < 0.13)] = np.inf
        values[(special >= 0.13) & (special < 0.16)] = -np.inf
        values[(special >= 0.16) & (special < 0.19)] = 0.0
        data[col] = values
    rows = pd.DataFrame(data, index=rng.permutation(10 * n)[:n])
    return rows.assign(context_window=context_windows(rows, 5))


# ---- the default (features) format is unchanged ------------------------------------------------


def test_default_format_is_unchanged_on_hand_rows() -> None:
    out = format_rows(hand_rows(), FEATS, 90)
    assert out["instruction"].tolist() == FEATURES_INSTRUCTION
    assert out["input"].tolist() == FEATURES_INPUT
    assert out["output"].tolist() == FEATURES_OUTPUT
    assert "messages" not in out.columns


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_format_equals_legacy_on_random_rows(seed: int) -> None:
    rows = random_rows(seed)
    expected = legacy_format_rows(rows, FEATURE_COLUMNS, 90)
    pd.testing.assert_frame_equal(format_rows(rows, FEATURE_COLUMNS, 90), expected)
    pd.testing.assert_frame_equal(format_rows(rows, FEATURE_COLUMNS, 90, prompt_format="features"), expected)


# ---- each format on the hand-made rows ----------------------------------------------------------


def test_timeseries_format_on_hand_rows() -> None:
    out = format_rows(hand_rows(), FEATS, 90, prompt_format="timeseries")
    assert out["instruction"].tolist() == TIMESERIES_INSTRUCTION
    assert out["input"].tolist() == TIMESERIES_INPUT
    assert out["output"].tolist() == TIMESERIES_OUTPUT
    assert "messages" not in out.columns


def test_timeseries_instruction_uses_horizon_days() -> None:
    out = format_rows(hand_rows(), FEATS, 30, prompt_format="timeseries")
    assert out["instruction"].iloc[0].startswith("Predict the 30-day forward return for BTC-USD (crypto)")


def test_chat_format_on_hand_rows() -> None:
    out = format_rows(hand_rows(), FEATS, 90, prompt_format="chat")
    assert out["instruction"].tolist() == FEATURES_INSTRUCTION
    assert out["input"].tolist() == FEATURES_INPUT
    assert out["output"].tolist() == FEATURES_OUTPUT
    assert out["messages"].iloc[0] == CHAT_MESSAGES_0
    for i, text in enumerate(out["messages"]):
        messages = strict_loads(text)
        assert [m["role"] for m in messages] == ["system", "user", "assistant"]
        assert all(list(m) == ["role", "content"] for m in messages)
        assert messages[0]["content"] == SYSTEM_PROMPT
        assert messages[1]["content"] == FEATURES_INSTRUCTION[i] + "\n\n" + FEATURES_INPUT[i]
        assert messages[2]["content"] == FEATURES_OUTPUT[i]


# ---- every format: strict JSON, key order, null for NaN / inf, columns kept --------------------


@pytest.mark.parametrize("prompt_format", PROMPT_FORMATS)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_format_is_strict_json_with_documented_keys(prompt_format: str, seed: int) -> None:
    rows = random_rows(seed)
    out = format_rows(rows, FEATURE_COLUMNS, 90, prompt_format=prompt_format)
    input_keys = TIMESERIES_INPUT_KEYS if prompt_format == "timeseries" else FEATURE_COLUMNS
    output_keys = TIMESERIES_OUTPUT_KEYS if prompt_format == "timeseries" else FEATURES_OUTPUT_KEYS
    for text in out["input"]:
        assert list(strict_loads(text)) == input_keys
    for text in out["output"]:
        assert list(strict_loads(text)) == output_keys
    for col in ADDED:
        assert "NaN" not in "".join(out[col]) and "Infinity" not in "".join(out[col])
    if prompt_format == "chat":
        for text, instruction, payload, output in zip(
            out["messages"], out["instruction"], out["input"], out["output"], strict=True
        ):
            messages = strict_loads(text)
            assert [m["role"] for m in messages] == ["system", "user", "assistant"]
            assert messages[1]["content"] == f"{instruction}\n\n{payload}"
            assert messages[2]["content"] == output


@pytest.mark.parametrize("prompt_format", PROMPT_FORMATS)
def test_nan_and_inf_become_null(prompt_format: str) -> None:
    out = format_rows(hand_rows(), FEATS, 90, prompt_format=prompt_format)
    second = strict_loads(out["input"].iloc[1])
    assert second["volatility_30d"] is None  # +inf
    assert second["sma_200"] is None  # -inf
    assert second["macd"] == 0.0
    assert all(v is None for v in strict_loads(out["output"].iloc[1]).values())  # NaN targets
    if prompt_format != "timeseries":
        assert second["volume"] is None and second["fear_greed_index"] is None  # NaN, None


@pytest.mark.parametrize("prompt_format", PROMPT_FORMATS)
def test_keeps_input_columns_and_overwrites_added_ones(prompt_format: str) -> None:
    rows = hand_rows().assign(instruction="old", input="old", output="old", extra=[1, 2])
    before = rows.copy()
    out = format_rows(rows, FEATS, 90, prompt_format=prompt_format)
    pd.testing.assert_frame_equal(rows, before)  # not mutated
    assert list(out.columns[: len(rows.columns)]) == list(rows.columns)
    pd.testing.assert_frame_equal(out[[c for c in rows.columns if c not in ADDED]], rows.drop(columns=ADDED))
    assert not out[ADDED].eq("old").any().any()
    assert ("messages" in out.columns) == (prompt_format == "chat")


def test_timeseries_without_context_column_raises() -> None:
    with pytest.raises(ValueError, match="context_window"):
        format_rows(hand_rows().drop(columns="context_window"), FEATS, 90, prompt_format="timeseries")
    with pytest.raises(ValueError, match="my_context"):
        format_rows(hand_rows(), FEATS, 90, prompt_format="timeseries", context_column="my_context")


def test_timeseries_reads_the_named_context_column() -> None:
    rows = hand_rows().rename(columns={"context_window": "closes"})
    out = format_rows(rows, FEATS, 90, prompt_format="timeseries", context_column="closes")
    assert out["input"].tolist() == TIMESERIES_INPUT


def test_timeseries_context_matches_context_windows() -> None:
    rows = random_rows(3)
    out = format_rows(rows, FEATURE_COLUMNS, 90, prompt_format="timeseries")
    for text, window in zip(out["input"], rows["context_window"], strict=True):
        assert strict_loads(text)["context_window"] == strict_loads(window)


def test_unknown_format_raises() -> None:
    with pytest.raises(ValueError, match="prompt_format"):
        format_rows(hand_rows(), FEATS, 90, prompt_format="alpaca")


@pytest.mark.parametrize("prompt_format", PROMPT_FORMATS)
def test_empty_rows(prompt_format: str) -> None:
    out = format_rows(hand_rows().iloc[:0], FEATS, 90, prompt_format=prompt_format)
    assert len(out) == 0 and set(ADDED) <= set(out.columns)


# ---- context windows ----------------------------------------------------------------------------


def test_context_windows_hand_case() -> None:
    prices = pd.DataFrame(
        {
            "asset_symbol": ["B", "A", "A", "B", "A", "A"],
            "timestamp": pd.to_datetime(
                ["2024-01-02", "2024-01-03", "2024-01-01", "2024-01-01", "2024-01-02", "2024-01-04"], utc=True
            ),
            "price_close": [10.0, 1.23456789, np.nan, 9.5, 2.0, 1e-7],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    out = context_windows(prices, 3)
    assert out.index.equals(prices.index)
    assert out.to_dict() == {
        10: "[9.5, 10.0]",
        11: "[null, 2.0, 1.23457]",
        12: "[null]",
        13: "[9.5]",
        14: "[null, 2.0]",
        15: "[2.0, 1.23457, 1e-07]",
    }


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("length", [0, 1, 2, 5, 30])
def test_context_windows_equal_the_loop_on_random_data(seed: int, length: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 80))
    closes = rng.lognormal(3, 4, n)
    closes[rng.random(n) < 0.1] = np.nan
    closes[rng.random(n) < 0.05] = np.inf
    prices = pd.DataFrame(
        {
            "asset_symbol": rng.choice(["A", "B", "C", "D"], n),
            "timestamp": pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(rng.permutation(n), unit="D"),
            "price_close": closes,
        },
        index=rng.permutation(1000)[:n],
    )
    pd.testing.assert_series_equal(context_windows(prices, length), loop_context_windows(prices, length))


def test_context_windows_equal_the_loop_for_integer_closes_and_missing_symbols() -> None:
    prices = pd.DataFrame(
        {
            "asset_symbol": ["A", None, "A", "B", "A"],
            "timestamp": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02"]),
            "price_close": [3, 7, 1, 5, 2],
        }
    )
    expected = loop_context_windows(prices, 2)
    pd.testing.assert_series_equal(context_windows(prices, 2), expected)
    assert context_windows(prices, 2).tolist()[0] == "[2, 3]"


@pytest.mark.parametrize("seed", range(6))
def test_context_windows_wanted_writes_only_those_rows_the_same(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 90))
    factors = np.where(rng.random(n) < 0.1, 0.5, 1.0)
    prices = pd.DataFrame(
        {
            "asset_symbol": rng.choice(np.array(["A", "B", None], dtype=object), n, p=[0.5, 0.45, 0.05]),
            "timestamp": pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(rng.permutation(n), unit="D"),
            "price_close": rng.lognormal(3, 1, n),
        },
        index=rng.permutation(1000)[:n],
    )
    wanted = rng.random(n) < 0.5
    for length in (0, 3, 30):
        every = context_windows(prices, length, factors=np.cumprod(factors))
        some = context_windows(prices, length, factors=np.cumprod(factors), wanted=wanted)
        assert some.index.equals(prices.index)
        pd.testing.assert_series_equal(some[wanted], every[wanted])
        unnamed = prices["asset_symbol"].isna().to_numpy()
        assert some[~wanted & ~unnamed].isna().all() and all(v is None for v in some[~wanted & ~unnamed])
