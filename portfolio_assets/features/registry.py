"""Every input feature of a training row, declared once (see ``spec.Feature``).

Families, in the order of a row's ``input``: ``price`` (the close and volume of
the day), ``technical`` (``compute_indicators``: each declaration names its
kernel in ``kernels.py``), ``cross_asset`` (``compute_cross_asset``), ``macro``
and ``sentiment``. Adding a feature is one declaration here (plus its kernel if
it is a new kind): the computation, the pandera column and its range, the
value-bound checks, the UI's column schema and FEATURES.md follow from it.

Technical windows count the asset's own observations (not calendar days);
``warmup`` is the 0-based index of the first observation with a value. Wherever
a formula is 0/0 the value is NaN, not TA-Lib's 0. A feature that does not
*apply* to a class is NaN there and listed in the row's ``not_applicable``.
"""

from __future__ import annotations

import math

from portfolio_assets.asset_classes import ALL_CLASSES, ASSET_CLASSES, PERIODS_PER_YEAR, VOLUME_CLASSES
from portfolio_assets.features import kernels as k
from portfolio_assets.features.spec import NON_NEGATIVE, PERCENT, POSITIVE, UNBOUNDED, UNIT, Bound, Feature

_PRICE = "price (quote currency)"
_AT_CLOSE = "at D's bar end (the row's decision time)"


def _technical(
    name: str,
    formula: str,
    window: int,
    unit: str,
    warmup: int,
    kernel: k.Kernel,
    valid: Bound = UNBOUNDED,
    *,
    smoothing: float | None = None,
    applies_to: frozenset[str] = ALL_CLASSES,
    **params: object,
) -> Feature:
    return Feature(
        name=name,
        family="technical",
        formula=formula,
        unit=unit,
        window=window,
        source="prices",
        known_at=_AT_CLOSE,
        warmup=warmup,
        smoothing=smoothing,
        valid=valid,
        applies_to=applies_to,
        kernel=kernel,
        params=params,
    )


_WILDER = 1 / 14
_EMA_12, _EMA_26 = 2 / 13, 2 / 27
_VOL = "sample std (ddof 1) of the last {n} daily log returns × √P (P 365 crypto, else 252)"
_MACD = {"fast": 12, "slow": 26}

TECHNICAL: tuple[Feature, ...] = (
    _technical(
        "rsi_14",
        "Wilder RSI: 100 − 100/(1 + avg gain/avg loss), alpha 1/14, seeded with 14-change means (TA-Lib RSI)",
        14, "index 0..100", 14, k.rsi, PERCENT, smoothing=_WILDER, n=14,
    ),
    _technical("macd", "ema_12 − ema_26", 26, _PRICE, 25, k.macd, smoothing=_EMA_26, **_MACD),
    _technical(
        "macd_signal", "EMA9 of macd, seeded with the mean of macd's first 9 values", 9, _PRICE, 33,
        k.macd_signal, smoothing=_EMA_26, signal=9, **_MACD,
    ),
    _technical(
        "macd_histogram", "macd − macd_signal", 9, _PRICE, 33, k.macd_histogram, smoothing=_EMA_26, signal=9, **_MACD
    ),
    _technical(
        "bb_upper", "sma_20 + 2 × population std (ddof 0) of the last 20 closes", 20, _PRICE, 19,
        k.bollinger_upper, n=20, k=2.0,
    ),
    _technical("bb_middle", "mean of the last 20 closes", 20, _PRICE, 19, k.bollinger_middle, POSITIVE, n=20),
    _technical(
        "bb_lower", "sma_20 − 2 × population std (ddof 0) of the last 20 closes", 20, _PRICE, 19,
        k.bollinger_lower, n=20, k=2.0,
    ),
    _technical("sma_20", "mean of the last 20 closes", 20, _PRICE, 19, k.sma, POSITIVE, n=20),
    _technical("sma_50", "mean of the last 50 closes", 50, _PRICE, 49, k.sma, POSITIVE, n=50),
    _technical("sma_200", "mean of the last 200 closes", 200, _PRICE, 199, k.sma, POSITIVE, n=200),
    _technical(
        "ema_12", "EMA of close, alpha 2/13, seeded with the mean of the first 12 closes (TA-Lib EMA)",
        12, _PRICE, 11, k.ema, POSITIVE, smoothing=_EMA_12, n=12,
    ),
    _technical(
        "ema_26", "EMA of close, alpha 2/27, seeded with the mean of the first 26 closes (TA-Lib EMA)",
        26, _PRICE, 25, k.ema, POSITIVE, smoothing=_EMA_26, n=26,
    ),
    _technical(
        "atr_14", "Wilder average true range, alpha 1/14, seeded with the mean of 14 TRs (TA-Lib ATR)",
        14, _PRICE, 14, k.atr, NON_NEGATIVE, smoothing=_WILDER, n=14,
    ),
    _technical(
        "adx_14", "Wilder ADX(14) from +DM/−DM/TR (TA-Lib ADX)", 14, "index 0..100", 27, k.adx, PERCENT,
        smoothing=_WILDER, n=14,
    ),
    *(
        _technical(
            f"volatility_{n}d", _VOL.format(n=n), n, "annualised log return", n, k.volatility, NON_NEGATIVE, n=n
        )
        for n in (30, 60, 90)
    ),
    *(
        _technical(
            f"momentum_{n}d", f"close / close {n} observations earlier − 1", n, "fraction", n, k.momentum,
            Bound(-1.0, None, low_inclusive=False), n=n,
        )
        for n in (5, 10, 30)
    ),
    _technical("return_1d", "ln(close / previous close)", 1, "log return", 1, k.log_return, n=1),
    *(
        _technical(f"return_{n}d", f"ln(close / close {n} observations earlier)", n, "log return", n, k.log_return, n=n)
        for n in (5, 20)
    ),
    _technical(
        "stoch_k_14",
        "100 × (close − lowest low 14) / (highest high 14 − lowest low 14) (TA-Lib STOCHF fast %K)",
        14, "index 0..100", 13, k.stoch_k, PERCENT, n=14,
    ),
    _technical(
        "stoch_d_3", "mean of the last 3 stoch_k_14 (TA-Lib STOCHF fast %D, SMA 3)", 3, "index 0..100", 15,
        k.stoch_d, PERCENT, k_period=14, n=3,
    ),
    _technical(
        "williams_r_14",
        "−100 × (highest high 14 − close) / (highest high 14 − lowest low 14) (TA-Lib WILLR)",
        14, "index −100..0", 13, k.williams_r, Bound(-100.0, 0.0), n=14,
    ),
    _technical(
        "cci_20",
        "(TP − mean TP 20) / (0.015 × mean absolute deviation of TP 20), TP = (H+L+C)/3 (TA-Lib CCI)",
        20, "index", 19, k.cci, n=20,
    ),
    _technical(
        "mfi_14",
        "100 × up-move flow / total flow, flow = TP × volume, over the last 14 TP changes (TA-Lib MFI)",
        14, "index 0..100", 14, k.money_flow, PERCENT, applies_to=VOLUME_CLASSES, n=14,
    ),
    _technical(
        "roc_10", "(close / close 10 observations earlier − 1) × 100 (TA-Lib ROC)", 10, "percent", 10,
        k.rate_of_change, Bound(-100.0, None, low_inclusive=False), n=10,
    ),
    _technical(
        "bb_width", "(bb_upper − bb_lower) / bb_middle", 20, "fraction", 19, k.bollinger_width, NON_NEGATIVE,
        n=20, k=2.0,
    ),
    _technical(
        "bb_percent_b", "(close − bb_lower) / (bb_upper − bb_lower); NaN when the bands coincide", 20, "fraction", 19,
        k.bollinger_percent_b, n=20, k=2.0,
    ),
    _technical("price_to_sma_200", "close / sma_200", 200, "ratio", 199, k.price_to_sma, POSITIVE, n=200),
    _technical(
        "drawdown_252d", "close / max(close over the last 252 observations incl. today) − 1 (≤ 0)", 252, "fraction",
        251, k.drawdown, Bound(-1.0, 0.0), n=252,
    ),
    _technical(
        "volume_zscore_20",
        "(volume − mean of the last 20 volumes) / their sample std (ddof 1); NaN when that std is 0",
        20, "z-score", 19, k.volume_zscore, applies_to=VOLUME_CLASSES, n=20,
    ),
    _technical(
        "skew_60d",
        "bias-corrected sample skewness (pandas .skew()) of the last 60 daily log returns; NaN if all equal",
        60, "dimensionless", 60, k.skewness, n=60,
    ),
    _technical(
        "natr_14", "atr_14 / close × 100: Wilder ATR(14) as a percentage of the close (TA-Lib NATR)",
        14, "percent of close", 14, k.natr, NON_NEGATIVE, smoothing=_WILDER, n=14,
    ),
    _technical("return_60d", "ln(close / close 60 observations earlier)", 60, "log return", 60, k.log_return, n=60),
)  # fmt: skip
"""Output columns of ``compute_indicators``, in order."""

CROSS_ASSET_WINDOW = 60
"""Joint returns per window of the cross-asset features."""


def _cross(name: str, formula: str, unit: str, valid: Bound = UNBOUNDED) -> Feature:
    return Feature(
        name=name,
        family="cross_asset",
        formula=formula,
        unit=unit,
        window=CROSS_ASSET_WINDOW,
        source="prices + FRED SP500 / DTWEXBGS",
        known_at="at the row's bar end, once every input of the window is available (an FX or metal row at 16:00 UTC "
        "ends its window at D−1: the S&P closes later)",
        warmup=CROSS_ASSET_WINDOW,
        valid=valid,
    )


CROSS_ASSET: tuple[Feature, ...] = (
    _cross(
        "beta_sp500_60d",
        "sample cov(r_A, r_SPX) / sample var(r_SPX) (ddof 1) of the last 60 joint log returns; NaN if var is 0",
        "beta (dimensionless)",
    ),
    _cross(
        "corr_sp500_60d",
        "Pearson correlation of r_A and r_SPX over the last 60 joint log returns; NaN if either var is 0",
        "correlation −1..1",
        UNIT,
    ),
    _cross(
        "corr_dxy_60d",
        "Pearson correlation of r_A and r_DXY over the last 60 joint log returns; NaN if either var is 0",
        "correlation −1..1",
        UNIT,
    ),
)
"""Columns of ``compute_cross_asset`` (``warmup``: index of the first *joint* observation with a value)."""


def _macro(
    name: str, formula: str, window: str, unit: str, source: str, known_at: str, valid: Bound = UNBOUNDED
) -> Feature:
    return Feature(name, "macro", formula, unit, window, source, known_at, valid=valid)


_LAG0 = "D's observation (lag 0) from {time} on D"
MACRO: tuple[Feature, ...] = (
    _macro(
        "sp500_close", "S&P 500 index close (level)", "1 observation", "index points", "FRED SP500",
        _LAG0.format(time="16:00 America/New_York") + ": equity rows see D's, FX and metal rows (16:00 UTC) D−1's",
        POSITIVE,
    ),
    _macro(
        "vix", "CBOE Volatility Index close (level)", "1 observation", "index points (annualised %)", "FRED VIXCLS",
        _LAG0.format(time="16:15 America/New_York") + ": only crypto rows (24:00 UTC) see D's", POSITIVE,
    ),
    _macro(
        "dxy", "nominal broad U.S. dollar index, goods and services (level)", "1 observation",
        "index (Jan 2006 = 100)", "FRED DTWEXBGS",
        "observation date + 7 days (published weekly), 16:15 America/New_York", POSITIVE,
    ),
    _macro(
        "us10y_yield", "10-year Treasury constant-maturity yield (level)", "1 observation", "percent", "FRED DGS10",
        "observation date + 1 day, 16:15 America/New_York",
    ),
    _macro(
        "us2y_yield", "2-year Treasury constant-maturity yield (level)", "1 observation", "percent", "FRED DGS2",
        "observation date + 1 day, 16:15 America/New_York",
    ),
    _macro(
        "gold_price", "close of the universe asset XAUUSD (level)", "1 observation", "USD per troy ounce",
        "Alpha Vantage FX_DAILY XAU/USD (the XAUUSD prices)", _LAG0.format(time="XAUUSD's bar end, 16:00 UTC"),
        POSITIVE,
    ),
    _macro(
        "oil_price", "WTI crude oil spot price, Cushing (level; negative in April 2020)", "1 observation",
        "USD per barrel", "FRED DCOILWTICO", "observation date + 7 days, 17:00 America/New_York",
    ),
    _macro(
        "cpi_yoy", "(CPI_m / CPI_{m−12} − 1) × 100, core CPI (all items less food and energy, SA)", "12 months",
        "percent", "FRED CPILFESL", "first release (ALFRED), else end of month m + 20 days; 08:30 America/New_York",
    ),
    _macro(
        "gdp_growth_qoq", "(GDP_q / GDP_{q−1} − 1) × 100, real GDP, not annualised", "1 quarter", "percent",
        "FRED GDPC1", "first release (ALFRED), else end of quarter q + 35 days; 08:30 America/New_York",
    ),
    _macro(
        "unemployment_rate", "civilian unemployment rate (level)", "1 observation", "percent", "FRED UNRATE",
        "first release (ALFRED), else end of the month + 10 days; 08:30 America/New_York", PERCENT,
    ),
    _macro(
        "yield_curve_10y_2y", "us10y_yield − us2y_yield, both as known at D", "same day", "percentage points",
        "derived (FRED DGS10, DGS2)", "when both are (observation date + 1 day, 16:15 America/New_York)",
    ),
)  # fmt: skip
"""The macro fields (as released by the row's decision time), then the fields derived from them."""

MACRO_DERIVED = ("yield_curve_10y_2y",)
"""Macro fields computed from the aligned fields of the same day, not read from a series."""

_DAILY_AGGREGATE = "at 24:00 UTC of day D: crypto rows (decided 24:00 UTC) use day D, other classes day D−1"


def _sentiment(
    name: str, formula: str, window: str, unit: str, source: str, known_at: str, valid: Bound, **kw: object
) -> Feature:
    return Feature(name, "sentiment", formula, unit, window, source, known_at, valid=valid, **kw)  # type: ignore[arg-type]


SENTIMENT: tuple[Feature, ...] = (
    _sentiment(
        "news_sentiment_score", "average tone of the day's articles matching the asset's `news_query` ÷ 100",
        "1 day (UTC)", "score −1..1", "GDELT DOC 2.0 `timelinetone`", _DAILY_AGGREGATE, UNIT,
    ),
    _sentiment(
        "news_volume", "number of the day's articles matching the asset's `news_query`", "1 day (UTC)", "count",
        "GDELT DOC 2.0 `timelinevolraw`", _DAILY_AGGREGATE, NON_NEGATIVE, dtype="Int64",
    ),
    _sentiment(
        "social_sentiment_score", "the feed's daily score for the asset", "1 day", "score −1..1",
        "licensed social-sentiment feed", _DAILY_AGGREGATE, UNIT,
    ),
    _sentiment(
        "social_mention_count", "the feed's daily mention count for the asset", "1 day", "count",
        "licensed social-sentiment feed", _DAILY_AGGREGATE, NON_NEGATIVE, dtype="Int64",
    ),
    _sentiment(
        "google_trends_score",
        "in the newest download fetched by the decision instant: its latest period complete at the fetch ÷ "
        "*that download's* trailing 52-week high × 100 (each download is scaled to its own range's maximum, "
        "so downloads are never merged)",
        "52 weeks", "percent of trailing high (0..100)", "Google Trends downloads kept as fetched, the asset's "
        "`trends_query`",
        "at the download's fetch instant: rows use downloads fetched by their decision time; held at most one "
        "period + 5 weeks after the period ended; none before the first download",
        PERCENT,
    ),
    _sentiment(
        "fear_greed_index", "alternative.me Crypto Fear & Greed index of the day", "1 day", "index 0..100",
        "alternative.me `/fng/`", _DAILY_AGGREGATE, PERCENT, applies_to=frozenset({"crypto"}),
    ),
)  # fmt: skip

PRICE: tuple[Feature, ...] = (
    Feature("price_close", "price", "close of the day", _PRICE, "1 observation", "prices", _AT_CLOSE, valid=POSITIVE),
    Feature(
        "volume", "price", "traded volume of the day; empty where the price source has none", "units traded",
        "1 observation", "prices", _AT_CLOSE, valid=NON_NEGATIVE, applies_to=VOLUME_CLASSES,
    ),
)  # fmt: skip
"""The day's own close and volume, which lead every row's ``input``."""

ALL_FEATURES: tuple[Feature, ...] = (*PRICE, *TECHNICAL, *CROSS_ASSET, *MACRO, *SENTIMENT)
"""Every input feature, in ``input`` order."""

FEATURES_BY_NAME: dict[str, Feature] = {f.name: f for f in ALL_FEATURES}
TECHNICAL_FEATURES: list[str] = [f.name for f in TECHNICAL]
CROSS_ASSET_FEATURES: tuple[str, ...] = tuple(f.name for f in CROSS_ASSET)
MACRO_FIELDS: tuple[str, ...] = tuple(f.name for f in MACRO if f.name not in MACRO_DERIVED)
"""Macro fields read from a series (each needs an entry in the universe file)."""
SENTIMENT_FIELDS: tuple[str, ...] = tuple(f.name for f in SENTIMENT)
VOLUME_FEATURES: list[str] = [f.name for f in ALL_FEATURES if f.applies_to == VOLUME_CLASSES]
"""Features computed from volume: not applicable where the price source has none."""

DECAY_TOLERANCE = 1e-16
"""A recursive smoother has forgotten its seed once the seed's weight (1 − alpha)^k is below this."""


def decay_observations(alpha: float, tolerance: float = DECAY_TOLERANCE) -> int:
    """Observations after which a smoother's seed weighs less than ``tolerance``."""
    return math.ceil(math.log(tolerance) / math.log(1.0 - alpha))


def lookback_observations() -> int:
    """Observations before a day that its technical features depend on (to ``DECAY_TOLERANCE``)."""
    return max(f.warmup + 1 + (decay_observations(f.smoothing) if f.smoothing is not None else 0) for f in TECHNICAL)


def lookback_days() -> int:
    """``lookback_observations`` in calendar days on the sparsest calendar (fewest periods per year)."""
    sparsest = min(PERIODS_PER_YEAR.values())
    return math.ceil(lookback_observations() * 365 / sparsest)


def feature(name: str) -> Feature:
    """The declaration of ``name`` (KeyError naming the known features otherwise)."""
    try:
        return FEATURES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a declared feature (known: {', '.join(FEATURES_BY_NAME)})") from None


def applies(feature_name: str, asset_class: str) -> bool:
    """Whether ``feature_name`` is meaningful for ``asset_class`` (False = not applicable, not missing)."""
    if asset_class not in ALL_CLASSES:
        raise ValueError(f"unknown asset_class {asset_class!r} (expected one of {ASSET_CLASSES})")
    return asset_class in feature(feature_name).applies_to


def bounds() -> dict[str, Bound]:
    """The valid range of every bounded feature."""
    return {f.name: f.valid for f in ALL_FEATURES if f.valid.bounded}


AVAILABLE_AT = "available_at"
"""Column of a stored row's own availability: the end of its price bar (prices, technical features)."""


def available_column(name: str) -> str:
    """The column holding the instant (UTC) at which feature ``name``'s value became available.

    Price and technical features are known at the row's own bar end (``available_at``); every
    other feature carries its own ``<name>_available_at`` (a benchmark window's, a macro release's,
    a sentiment aggregate's or download's).
    """
    return AVAILABLE_AT if feature(name).family in ("price", "technical") else f"{name}_available_at"
