"""Alpha Vantage daily parser: the three daily functions, both crypto key styles, series params.

The sample-file, empty-body and malformed-body contract is in ``test_parser_contract``.
"""

from __future__ import annotations

import json

import pandas as pd

from portfolio_assets.sources.alphavantage import parse_daily, series_params
from portfolio_assets_tests.sources.test_parser_contract import ALPHAVANTAGE_DAILY

DTYPES = {
    "timestamp": "datetime64[ns, UTC]",
    "price_open": "float64",
    "price_high": "float64",
    "price_low": "float64",
    "price_close": "float64",
    "volume": "float64",
}

DAILY = ALPHAVANTAGE_DAILY

FX = """{
    "Meta Data": {
        "1. Information": "Forex Daily Prices (open, high, low, close)",
        "2. From Symbol": "EUR",
        "3. To Symbol": "USD",
        "4. Output Size": "Full size",
        "5. Last Refreshed": "2013-02-28 16:00:00",
        "6. Time Zone": "UTC"
    },
    "Time Series FX (Daily)": {
        "2013-02-28": {"1. open": "1.30560", "2. high": "1.31200", "3. low": "1.30300", "4. close": "1.30590"},
        "2013-02-27": {"1. open": "1.30450", "2. high": "1.31040", "3. low": "1.30190", "4. close": "1.30560"}
    }
}"""

CRYPTO_META = """"Meta Data": {
        "1. Information": "Daily Prices and Volumes for Digital Currency",
        "2. Digital Currency Code": "BTC",
        "3. Digital Currency Name": "Bitcoin",
        "4. Market Code": "CNY",
        "5. Market Name": "Chinese Yuan",
        "6. Last Refreshed": "2013-02-28 00:00:00",
        "7. Time Zone": "UTC"
    }"""

CRYPTO_2024 = (
    "{"
    + CRYPTO_META
    + """,
    "Time Series (Digital Currency Daily)": {
        "2013-02-28": {"1. open": "31.50", "2. high": "33.40", "3. low": "30.90", "4. close": "33.38",
                       "5. volume": "41235.12345678"}
    }
}"""
)

CRYPTO_PRE_2024 = (
    "{"
    + CRYPTO_META
    + """,
    "Time Series (Digital Currency Daily)": {
        "2013-02-28": {
            "1a. open (CNY)": "196.35000000", "1b. open (USD)": "31.50000000",
            "2a. high (CNY)": "208.20000000", "2b. high (USD)": "33.40000000",
            "3a. low (CNY)": "192.62000000", "3b. low (USD)": "30.90000000",
            "4a. close (CNY)": "208.07000000", "4b. close (USD)": "33.38000000",
            "5. volume": "41235.12345678",
            "6. market cap (USD)": "1376424.42"
        },
        "2013-02-27": {
            "1a. open (CNY)": "190.00000000", "1b. open (USD)": "30.48000000",
            "2a. high (CNY)": "197.00000000", "2b. high (USD)": "31.60000000",
            "3a. low (CNY)": "188.10000000", "3b. low (USD)": "30.17000000",
            "4a. close (CNY)": "196.35000000", "4b. close (USD)": "31.50000000",
            "5. volume": "38000.00000000",
            "6. market cap (USD)": "1197000.00"
        }
    }
}"""
)


def utc(*days: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(day, tz="UTC") for day in days]


def assert_schema(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(DTYPES)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == DTYPES
    assert frame["timestamp"].is_monotonic_increasing and frame["timestamp"].is_unique
    assert list(frame.index) == list(range(len(frame)))


def test_time_series_daily() -> None:
    frame = parse_daily(DAILY.encode())
    assert_schema(frame)
    assert list(frame["timestamp"]) == utc("2013-02-27", "2013-02-28")
    assert frame["price_open"].tolist() == [794.8, 801.1]
    assert frame["price_high"].tolist() == [804.75, 806.99]
    assert frame["price_low"].tolist() == [791.11, 801.03]
    assert frame["price_close"].tolist() == [799.78, 801.2]
    assert frame["volume"].tolist() == [2026100.0, 2265800.0]


def test_fx_daily_has_nan_volume() -> None:
    frame = parse_daily(FX)
    assert_schema(frame)
    assert list(frame["timestamp"]) == utc("2013-02-27", "2013-02-28")
    assert frame["price_close"].tolist() == [1.3056, 1.3059]
    assert frame["volume"].isna().all()


def test_digital_currency_2024_keys() -> None:
    frame = parse_daily(CRYPTO_2024)
    assert_schema(frame)
    row = frame.iloc[0]
    assert (row.price_open, row.price_high, row.price_low, row.price_close) == (31.5, 33.4, 30.9, 33.38)
    assert row.volume == 41235.12345678


def test_digital_currency_pre_2024_keys_prefer_market_currency() -> None:
    frame = parse_daily(CRYPTO_PRE_2024.encode())
    assert_schema(frame)
    assert list(frame["timestamp"]) == utc("2013-02-27", "2013-02-28")
    # the "a" (market currency, here CNY) variant wins over the "b" (USD) one
    assert frame["price_open"].tolist() == [190.0, 196.35]
    assert frame["price_close"].tolist() == [196.35, 208.07]
    assert frame["volume"].tolist() == [38000.0, 41235.12345678]


def test_adjusted_daily_volume_is_found_by_name() -> None:
    body = {
        "Time Series (Daily)": {
            "2013-02-28": {
                "1. open": "10",
                "2. high": "11",
                "3. low": "9",
                "4. close": "10.5",
                "5. adjusted close": "5.25",
                "6. volume": "100",
                "7. dividend amount": "0.0000",
            },
        }
    }
    frame = parse_daily(json.dumps(body))
    assert frame["price_close"].tolist() == [10.5]
    assert frame["volume"].tolist() == [100.0]


def test_series_params_drop_outputsize_datatype_and_key() -> None:
    params = {
        "function": "TIME_SERIES_DAILY",
        "symbol": "GOOG",
        "outputsize": "full",
        "datatype": "json",
        "apikey": "SECRET",
    }
    assert series_params(params) == {"function": "TIME_SERIES_DAILY", "symbol": "GOOG"}
    assert series_params({"function": "FX_DAILY", "from_symbol": "EUR", "to_symbol": "USD"}) == {
        "function": "FX_DAILY",
        "from_symbol": "EUR",
        "to_symbol": "USD",
    }
