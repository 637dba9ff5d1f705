"""The JSON text of the SFT rows never writes a negative zero: -0.0 is ``0.0``, a tiny nonzero value keeps its sign."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.features.sft import (
    PROMPT_FORMATS,
    context_windows,
    format_rows,
    json_numbers,
    round_number,
    to_json,
)

FEATS = ["price_close", "rsi_14", "macd", "volatility_30d", "sma_50", "sma_200", "news_volume"]


def number_tokens(text: str) -> list[str]:
    """Every number of the JSON ``text`` as written (strings are not numbers)."""
    tokens: list[str] = []

    def keep(token: str) -> float:
        tokens.append(token)
        return float(token)

    json.loads(text, parse_float=keep, parse_int=keep)
    return tokens


def negative_zero_tokens(text: str) -> list[str]:
    return [t for t in number_tokens(text) if t.startswith("-") and float(t) == 0]


@pytest.mark.parametrize("value", [-0.0, np.float64(-0.0), np.float32(-0.0), np.float16(-0.0)])
def test_round_number_writes_a_negative_zero_as_zero(value) -> None:
    rounded = round_number(value)
    assert rounded == 0 and math.copysign(1.0, rounded) == 1.0
    assert to_json([rounded]) == "[0.0]"


@pytest.mark.parametrize(
    ("value", "text"),
    [(-1e-12, "-1e-12"), (-4.9e-324, "-5e-324"), (-1.23456789e-7, "-1.23457e-07"), (1e-12, "1e-12")],
)
def test_a_tiny_nonzero_value_keeps_its_sign_and_digits(value, text) -> None:
    assert json.dumps(round_number(value)) == text
    assert json_numbers(np.array([value])) == [text]


def test_json_numbers_writes_zero_for_negative_zero_in_float_and_object_arrays() -> None:
    values = [-0.0, 0.0, -1e-12, np.nan, np.inf, 2.5]
    expected = ["0.0", "0.0", "-1e-12", "null", "null", "2.5"]
    assert json_numbers(np.array(values, dtype="float64")) == expected
    assert json_numbers(np.array(values, dtype=object)) == expected


def rows() -> pd.DataFrame:
    """Two rows whose features and targets hold -0.0 (as float64 and float32) and tiny negatives."""
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2024-03-15", "2024-03-18"], utc=True),
            "asset_symbol": ["BTC-USD", "EURUSD"],
            "asset_class": ["crypto", "currency"],
            "price_close": [-0.0, 1.0873456],
            "rsi_14": [50.0, -1e-12],
            "macd": np.array([-0.0, -0.0], dtype="float32"),
            "volatility_30d": [-1e-300, -0.0],
            "sma_50": [0.0, -0.0],
            "sma_200": [np.nan, -0.0],
            "news_volume": pd.array([0, None], dtype="Int64"),
            "target_price_90d": [-0.0, 1.1],
            "target_return_90d": [-0.0, -1e-12],
            "target_return_pct_90d": [-0.0, -0.0],
            "context_window": ["[-0.0, -0, -0e-3, 1.5]", "[-1e-12, -0.0]"],
        }
    )


def test_features_format_text() -> None:
    out = format_rows(rows(), FEATS, 90, prompt_format="features")
    assert out["input"].tolist() == [
        '{"price_close": 0.0, "rsi_14": 50.0, "macd": 0.0, "volatility_30d": -1e-300, "sma_50": 0.0, '
        '"sma_200": null, "news_volume": 0}',
        '{"price_close": 1.08735, "rsi_14": -1e-12, "macd": 0.0, "volatility_30d": 0.0, "sma_50": 0.0, '
        '"sma_200": 0.0, "news_volume": null}',
    ]
    # the returns have fixed decimals (the log return first): -0.0 and -1e-12 are 0.0000, never -0.0000
    assert out["output"].tolist() == [
        '{"predicted_return_90d": 0.0000, "predicted_return_pct_90d": 0.00, "predicted_price_90d": 0.0}',
        '{"predicted_return_90d": 0.0000, "predicted_return_pct_90d": 0.00, "predicted_price_90d": 1.1}',
    ]


def test_timeseries_format_text() -> None:
    out = format_rows(rows(), FEATS, 90, prompt_format="timeseries")
    assert out["input"].tolist() == [
        '{"context_window": [0.0, 0, 0.0, 1.5], "current_price": 0.0, "rsi_14": 50.0, "volatility_30d": -1e-300, '
        '"macd": 0.0, "sma_50": 0.0, "sma_200": null}',
        '{"context_window": [-1e-12, 0.0], "current_price": 1.08735, "rsi_14": -1e-12, "volatility_30d": 0.0, '
        '"macd": 0.0, "sma_50": 0.0, "sma_200": 0.0}',
    ]
    assert out["output"].tolist() == [
        '{"predicted_return_90d": 0.0000, "predicted_return_pct_90d": 0.00}',
        '{"predicted_return_90d": 0.0000, "predicted_return_pct_90d": 0.00}',
    ]


def test_chat_messages_embed_the_same_text() -> None:
    out = format_rows(rows(), FEATS, 90, prompt_format="chat")
    for text, input_text, output_text in zip(out["messages"], out["input"], out["output"], strict=True):
        _, user, assistant = json.loads(text)
        assert user["content"].endswith("\n\n" + input_text) and assistant["content"] == output_text
    assert '\\"macd\\": 0.0' in out["messages"].iloc[0]


@pytest.mark.parametrize("prompt_format", PROMPT_FORMATS)
def test_no_prompt_format_writes_a_negative_zero(prompt_format: str) -> None:
    rng = np.random.default_rng(5)
    frame = pd.concat([rows()] * 50, ignore_index=True)
    for column in ["price_close", "rsi_14", "volatility_30d", "sma_50", "target_return_90d"]:
        values = frame[column].to_numpy(dtype="float64")
        frame[column] = np.where(rng.random(len(frame)) < 0.5, -0.0, values * -(10.0 ** rng.integers(-30, 3)))
    out = format_rows(frame, FEATS, 90, prompt_format=prompt_format)
    for column in ["input", "output"]:
        for text in out[column]:
            assert negative_zero_tokens(text) == [], text
            assert "0.0" in text  # the zeros are there, written as 0.0


def test_context_windows_write_zero_for_negative_zero() -> None:
    prices = pd.DataFrame(
        {
            "asset_symbol": ["A", "A", "A", "B"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"], utc=True),
            "price_close": [-0.0, -1e-12, 2.0, -0.0],
        }
    )
    assert context_windows(prices, 3).tolist() == ["[0.0]", "[0.0, -1e-12]", "[0.0, -1e-12, 2.0]", "[0.0]"]
