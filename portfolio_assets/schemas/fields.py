"""The field declarations: the column mixins the schemas are built from (dtypes, ranges, descriptions).

Per-feature fields are ``Technical`` (indicators and cross-asset), ``MacroFields`` and
``SentimentFields``; ``AssetKeys``, ``Ohlcv`` and ``Reference`` are the key and price
columns. Every mixin derives from ``Base``: strict, no coercion, no ±inf in a float column.
"""

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from portfolio_assets.features.registry import FEATURES_BY_NAME
from portfolio_assets.partitions import HORIZON_DAYS
from portfolio_assets.schemas.rules import rule
from portfolio_assets.universe import ASSET_CLASSES


def _feature(name: str, **checks: object) -> object:
    spec = FEATURES_BY_NAME[name]
    return pa.Field(nullable=True, description=f"{spec.formula} [{spec.unit}]", **checks)


def price(description: str, *, nullable: bool = False) -> object:
    """A price field: > 0, not null unless ``nullable``."""
    return pa.Field(gt=0, nullable=nullable, description=description)


_PCT = {"in_range": {"min_value": 0, "max_value": 100}}
_UNIT = {"in_range": {"min_value": -1, "max_value": 1}}
UTC_NS = {"unit": "ns", "tz": "UTC"}
"""``dtype_kwargs`` of a timestamp column: ``datetime64[ns, UTC]``."""

TARGET_DESCRIPTIONS = {
    "target_timestamp": f"the asset's last observation at or before timestamp + {HORIZON_DAYS} calendar days",
    "target_price_90d": "the close at target_timestamp [quote currency]",
    "target_return_90d": "ln(target_price_90d / close at timestamp) [log return]",
    "target_return_pct_90d": "(target_price_90d / close at timestamp - 1) x 100 [percent]",
}


class Base(pa.DataFrameModel):
    """Strict, uncoerced, and no ±inf in any float column."""

    # Each check function is named like its check (see ``rules.rule``).
    @pa.check(".*", regex=True, name="finite", description="no ±inf in a float column")
    @classmethod
    def finite(cls, series: pd.Series) -> pd.Series:
        if not pd.api.types.is_float_dtype(series.dtype):
            return pd.Series(True, index=series.index)
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(~np.isinf(values), index=series.index)

    class Config:
        strict = True
        coerce = False


class AssetKeys(Base):
    """timestamp, asset_symbol, asset_class (+ optional has_volume); null where a feature does not apply."""

    timestamp: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=UTC_NS, description="the observation day (00:00 UTC); the row uses what was known at its close"
    )
    asset_symbol: Series[str] = pa.Field(description="canonical symbol of the asset (universe.yaml)")
    asset_class: Series[str] = pa.Field(isin=list(ASSET_CLASSES), description="crypto, equity, fx, commodity or bond")
    has_volume: Series[bool] | None = pa.Field(
        description="optional: whether the asset's price source reports volume; "
        "when absent, taken from validate_rows(has_volume=symbol -> has_volume), else the class (fx: no volume)"
    )

    _not_applicable_is_null = rule("not_applicable_is_null")


class Ohlcv(Base):
    """Daily open, high, low, close and volume."""

    price_open: Series[float] = price("open of the day [quote currency]")
    price_high: Series[float] = price("high of the day [quote currency]")
    price_low: Series[float] = price("low of the day [quote currency]")
    price_close: Series[float] = price("close of the day [quote currency]")
    volume: Series[float] = pa.Field(
        ge=0,
        nullable=True,
        description="traded volume of the day; null (not applicable) where the price source has none "
        "(fx, and XAUUSD from the FX endpoint)",
    )

    _ohlc_consistent = rule("ohlc_consistent")


class Reference(Base):
    """The CoinGecko second source (crypto only)."""

    reference_close: Series[float] = price(
        "CoinGecko close of the same day (crypto only; a second source for cross-checks) [quote currency]",
        nullable=True,
    )
    market_cap: Series[float] = pa.Field(
        ge=0, nullable=True, description="CoinGecko market capitalisation of the day (crypto only) [USD]"
    )


class Technical(Base):
    """The 37 technical and 3 cross-asset features (descriptions from ``features.registry``)."""

    rsi_14: Series[float] = _feature("rsi_14", **_PCT)
    macd: Series[float] = _feature("macd")
    macd_signal: Series[float] = _feature("macd_signal")
    macd_histogram: Series[float] = _feature("macd_histogram")
    bb_upper: Series[float] = _feature("bb_upper")
    bb_middle: Series[float] = _feature("bb_middle", gt=0)
    bb_lower: Series[float] = _feature("bb_lower")
    sma_20: Series[float] = _feature("sma_20", gt=0)
    sma_50: Series[float] = _feature("sma_50", gt=0)
    sma_200: Series[float] = _feature("sma_200", gt=0)
    ema_12: Series[float] = _feature("ema_12", gt=0)
    ema_26: Series[float] = _feature("ema_26", gt=0)
    atr_14: Series[float] = _feature("atr_14", ge=0)
    adx_14: Series[float] = _feature("adx_14", **_PCT)
    volatility_30d: Series[float] = _feature("volatility_30d", ge=0)
    volatility_60d: Series[float] = _feature("volatility_60d", ge=0)
    volatility_90d: Series[float] = _feature("volatility_90d", ge=0)
    momentum_5d: Series[float] = _feature("momentum_5d", gt=-1)
    momentum_10d: Series[float] = _feature("momentum_10d", gt=-1)
    momentum_30d: Series[float] = _feature("momentum_30d", gt=-1)
    return_1d: Series[float] = _feature("return_1d")
    return_5d: Series[float] = _feature("return_5d")
    return_20d: Series[float] = _feature("return_20d")
    stoch_k_14: Series[float] = _feature("stoch_k_14", **_PCT)
    stoch_d_3: Series[float] = _feature("stoch_d_3", **_PCT)
    williams_r_14: Series[float] = _feature("williams_r_14", in_range={"min_value": -100, "max_value": 0})
    cci_20: Series[float] = _feature("cci_20")
    mfi_14: Series[float] = _feature("mfi_14", **_PCT)
    roc_10: Series[float] = _feature("roc_10", gt=-100)
    bb_width: Series[float] = _feature("bb_width", ge=0)
    bb_percent_b: Series[float] = _feature("bb_percent_b")
    price_to_sma_200: Series[float] = _feature("price_to_sma_200", gt=0)
    drawdown_252d: Series[float] = _feature("drawdown_252d", in_range={"min_value": -1, "max_value": 0})
    volume_zscore_20: Series[float] = _feature("volume_zscore_20")
    skew_60d: Series[float] = _feature("skew_60d")
    natr_14: Series[float] = _feature("natr_14", ge=0)
    return_60d: Series[float] = _feature("return_60d")
    beta_sp500_60d: Series[float] = _feature("beta_sp500_60d")
    corr_sp500_60d: Series[float] = _feature("corr_sp500_60d", **_UNIT)
    corr_dxy_60d: Series[float] = _feature("corr_dxy_60d", **_UNIT)


class MacroFields(Base):
    """The 11 macro fields, as released by the day's close."""

    sp500_close: Series[float] = pa.Field(gt=0, nullable=True, description="S&P 500 close (FRED SP500) [index points]")
    vix: Series[float] = pa.Field(gt=0, nullable=True, description="CBOE VIX close (FRED VIXCLS) [index points]")
    dxy: Series[float] = pa.Field(
        gt=0, nullable=True, description="broad U.S. dollar index (FRED DTWEXBGS), known 7 days after [index]"
    )
    us10y_yield: Series[float] = pa.Field(
        nullable=True, description="10-year Treasury yield (FRED DGS10), known 1 day after [percent]"
    )
    us2y_yield: Series[float] = pa.Field(
        nullable=True, description="2-year Treasury yield (FRED DGS2), known 1 day after [percent]"
    )
    gold_price: Series[float] = pa.Field(gt=0, nullable=True, description="close of XAUUSD [USD per troy ounce]")
    oil_price: Series[float] = pa.Field(
        nullable=True, description="WTI spot, Cushing (FRED DCOILWTICO; negative in April 2020) [USD per barrel]"
    )
    cpi_yoy: Series[float] = pa.Field(
        nullable=True, description="core CPI year over year (FRED CPILFESL), known month end + 20 days [percent]"
    )
    gdp_growth_qoq: Series[float] = pa.Field(
        nullable=True, description="real GDP quarter over quarter, not annualised (FRED GDPC1) [percent]"
    )
    unemployment_rate: Series[float] = pa.Field(
        nullable=True, **_PCT, description="civilian unemployment rate (FRED UNRATE) [percent]"
    )
    yield_curve_10y_2y: Series[float] = pa.Field(
        nullable=True, description="us10y_yield - us2y_yield, both as known at the day [percentage points]"
    )


class SentimentFields(Base):
    """The 6 sentiment fields of an asset's day."""

    news_sentiment_score: Series[float] = pa.Field(
        nullable=True, **_UNIT, description="GDELT average tone of the day's matching articles / 100 [score -1..1]"
    )
    news_volume: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="number of the day's articles matching the asset's news_query (GDELT)"
    )
    social_sentiment_score: Series[float] = pa.Field(
        nullable=True, **_UNIT, description="the social feed's daily score for the asset [score -1..1]"
    )
    social_mention_count: Series[pd.Int64Dtype] = pa.Field(
        ge=0, nullable=True, description="the social feed's daily mention count for the asset"
    )
    google_trends_score: Series[float] = pa.Field(
        nullable=True,
        **_PCT,
        description="latest completed week's Google Trends interest / its trailing 52-week high x 100 [0..100]",
    )
    fear_greed_index: Series[float] = pa.Field(
        nullable=True,
        **_PCT,
        description="alternative.me Crypto Fear & Greed index of the day (crypto only) [0..100]",
    )
