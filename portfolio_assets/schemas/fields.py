"""The field declarations: the column mixins the schemas are built from (dtypes, ranges, descriptions).

Per-feature fields are ``Technical`` (indicators and cross-asset), ``MacroFields`` and
``SentimentFields``; ``AssetKeys``, ``Ohlcv`` and ``Reference`` are the key and price
columns. Every mixin derives from ``Base``: strict, no coercion, no ±inf in a float column.
"""

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.features.registry import CROSS_ASSET, MACRO, SENTIMENT, TECHNICAL, available_column
from portfolio_assets.features.spec import Feature
from portfolio_assets.schemas.rules import rule
from portfolio_assets.spans import HORIZON_DAYS


def price(description: str, *, nullable: bool = False) -> object:
    """A price field: > 0, not null unless ``nullable``."""
    return pa.Field(gt=0, nullable=nullable, description=description)


UTC_NS = {"unit": "ns", "tz": "UTC"}
"""``dtype_kwargs`` of a timestamp column: ``datetime64[ns, UTC]``."""

TARGET_DESCRIPTIONS = {
    "target_timestamp": f"the asset's last observation at or before timestamp + {HORIZON_DAYS} calendar days",
    "target_price_90d": "the close at target_timestamp in the row's share basis (x the split factors of "
    "(timestamp, target_timestamp]) [quote currency]",
    "target_return_90d": "ln(target_price_90d / close at timestamp) [log return]",
    "target_return_pct_90d": "(target_price_90d / close at timestamp - 1) x 100 [percent]",
    "target_total_return_90d": "ln(total-return close at target_timestamp / at timestamp): target_return_90d plus "
    "the dividends with ex-date in (timestamp, target_timestamp], reinvested [log return]",
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


class Adjustment(Base):
    """The point-in-time split and dividend factors of ``features.adjustment`` (``prices`` only)."""

    split_factor_cum: Series[float] = pa.Field(
        gt=0,
        description="product of the split factors (new/old shares) with effective date <= the day; 1 without splits",
    )
    adjustment_factor: Series[float] = pa.Field(
        gt=0,
        description="split_factor_cum x product of (1 + dividend / ex-date close) over dividends with ex-date <= "
        "the day; close x adjustment_factor is the total-return series",
    )


def _feature_field(feature: Feature) -> object:
    return pa.Field(nullable=True, description=feature.description, **feature.valid.pandera_checks())


def _feature_mixin(name: str, doc: str, features: tuple[Feature, ...]) -> type[Base]:
    """A mixin with one nullable column per declared feature: its dtype, valid range and description."""
    annotations = {f.name: Series[pd.Int64Dtype] if f.dtype == "Int64" else Series[float] for f in features}
    namespace: dict[str, object] = {"__annotations__": annotations, "__doc__": doc, "__module__": __name__}
    namespace.update({f.name: _feature_field(f) for f in features})
    return type(name, (Base,), namespace)


Technical = _feature_mixin(
    "Technical", "The technical and cross-asset features, from their declarations.", (*TECHNICAL, *CROSS_ASSET)
)
MacroFields = _feature_mixin("MacroFields", "The macro fields as released by the day's close.", MACRO)
SentimentFields = _feature_mixin("SentimentFields", "The sentiment fields of the day.", SENTIMENT)


def _availability_mixin(name: str, doc: str, features: tuple[Feature, ...]) -> type[Base]:
    """A mixin with each feature's ``<name>_available_at``: when its value became available (null: no value)."""
    columns = {available_column(f.name): f for f in features}
    annotations = {column: Series[pd.DatetimeTZDtype] for column in columns}
    namespace: dict[str, object] = {"__annotations__": annotations, "__doc__": doc, "__module__": __name__}
    namespace.update(
        {
            column: pa.Field(
                dtype_kwargs=UTC_NS,
                nullable=True,
                description=f"instant (UTC) at which {f.name} became available; null when it has no value",
            )
            for column, f in columns.items()
        }
    )
    return type(name, (Base,), namespace)


class BarEnd(Base):
    """The row's own availability: the end of its daily price bar."""

    available_at: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=UTC_NS,
        description="instant (UTC) the day's price bar ended (crypto 24:00 UTC, equities and ETFs 16:00 New York, "
        "FX and metals 16:00 UTC): when the row's prices and technical features became available",
    )


DECISION_TIME_DESCRIPTION = (
    "the row's decision time (UTC): its own price bar's end on the day; every input the row uses became "
    "available at or before it"
)

CrossAvailability = _availability_mixin(
    "CrossAvailability", "When each cross-asset value became available (its window's latest input).", CROSS_ASSET
)
MacroAvailability = _availability_mixin("MacroAvailability", "When each macro value was released.", MACRO)
SentimentAvailability = _availability_mixin(
    "SentimentAvailability", "When each sentiment value became available.", SENTIMENT
)
