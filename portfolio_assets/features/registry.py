"""Registry of the technical features ``compute_indicators`` produces, and of the cross-asset features.

``FEATURES``: one entry per output column of ``compute_indicators``, in output
order: its formula, window (in observations of the asset, not calendar days),
unit, the asset classes it applies to and its warm-up (0-based index of the
first observation at which it is defined; earlier rows are NaN, never
imputed). Every technical feature is computed from the asset's own prices and
is known at the close of its day.

``CROSS_ASSET_SPECS``: the columns of ``cross_asset.compute_cross_asset``
(beta / correlation against the S&P 500 and the broad dollar index). They are
not technical features (``compute_indicators`` does not produce them, they are
not in ``TECHNICAL_FEATURES``); their window counts *joint* observations of
the asset and the benchmark and they are known once the benchmark values in
the window have been released. ``feature`` and ``applies`` know both groups.

Wherever a formula is 0/0 (a window without range, dispersion or money flow,
an RSI of a close that never moved) the value is NaN, not TA-Lib's 0.

A feature that does not *apply* to a class (volume features for fx, which has
no volume) is always NaN for that class; that is "not applicable", distinct
from a missing value.
"""

from __future__ import annotations

from dataclasses import dataclass

from portfolio_assets.universe import ASSET_CLASSES

ALL_CLASSES: frozenset[str] = frozenset(ASSET_CLASSES)
VOLUME_CLASSES: frozenset[str] = frozenset(ASSET_CLASSES) - {"fx"}
"""Classes whose prices carry a volume (fx quotes have none)."""

PERIODS_PER_YEAR = {"crypto": 365, "equity": 252, "fx": 252, "commodity": 252, "bond": 252}
"""Observations per year used to annualise volatilities (crypto trades every day)."""


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: a column of ``compute_indicators``' output (group "technical") or of ``compute_cross_asset``."""

    name: str
    formula: str
    window: int
    """Nominal period in observations of the asset (closes, returns or changes, as the formula says)."""
    unit: str
    warmup: int
    """0-based index of the asset's first observation with a value; earlier rows are NaN."""
    applies_to: frozenset[str] = ALL_CLASSES
    recursive: bool = False
    """Exponential/Wilder smoothing: memory decays as (1 − alpha)^k but never ends, so the value depends
    (below 1e-16 after a few hundred observations) on where the series starts."""
    group: str = "technical"
    source: str = "prices"
    known_at: str = "at D's close"


_RECURSIVE = {
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_histogram",
    "ema_12",
    "ema_26",
    "atr_14",
    "adx_14",
    "natr_14",
}


def _spec(
    name: str, formula: str, window: int, unit: str, warmup: int, applies_to: frozenset[str] = ALL_CLASSES
) -> FeatureSpec:
    return FeatureSpec(
        name=name,
        formula=formula,
        window=window,
        unit=unit,
        warmup=warmup,
        applies_to=applies_to,
        recursive=name in _RECURSIVE,
    )


_PRICE = "price (quote currency)"

FEATURES: tuple[FeatureSpec, ...] = (
    _spec(
        "rsi_14",
        "Wilder RSI: 100 − 100/(1 + avg gain/avg loss), alpha 1/14, seeded with 14-change means (TA-Lib RSI)",
        14,
        "index 0..100",
        14,
    ),
    _spec("macd", "ema_12 − ema_26", 26, _PRICE, 25),
    _spec("macd_signal", "EMA9 of macd, seeded with the mean of macd's first 9 values", 9, _PRICE, 33),
    _spec("macd_histogram", "macd − macd_signal", 9, _PRICE, 33),
    _spec("bb_upper", "sma_20 + 2 × population std (ddof 0) of the last 20 closes", 20, _PRICE, 19),
    _spec("bb_middle", "mean of the last 20 closes", 20, _PRICE, 19),
    _spec("bb_lower", "sma_20 − 2 × population std (ddof 0) of the last 20 closes", 20, _PRICE, 19),
    _spec("sma_20", "mean of the last 20 closes", 20, _PRICE, 19),
    _spec("sma_50", "mean of the last 50 closes", 50, _PRICE, 49),
    _spec("sma_200", "mean of the last 200 closes", 200, _PRICE, 199),
    _spec(
        "ema_12", "EMA of close, alpha 2/13, seeded with the mean of the first 12 closes (TA-Lib EMA)", 12, _PRICE, 11
    ),
    _spec(
        "ema_26", "EMA of close, alpha 2/27, seeded with the mean of the first 26 closes (TA-Lib EMA)", 26, _PRICE, 25
    ),
    _spec(
        "atr_14", "Wilder average true range, alpha 1/14, seeded with the mean of 14 TRs (TA-Lib ATR)", 14, _PRICE, 14
    ),
    _spec("adx_14", "Wilder ADX(14) from +DM/−DM/TR (TA-Lib ADX)", 14, "index 0..100", 27),
    _spec(
        "volatility_30d",
        "sample std (ddof 1) of the last 30 daily log returns × √P (P 365 crypto, else 252)",
        30,
        "annualised log return",
        30,
    ),
    _spec(
        "volatility_60d",
        "sample std (ddof 1) of the last 60 daily log returns × √P (P 365 crypto, else 252)",
        60,
        "annualised log return",
        60,
    ),
    _spec(
        "volatility_90d",
        "sample std (ddof 1) of the last 90 daily log returns × √P (P 365 crypto, else 252)",
        90,
        "annualised log return",
        90,
    ),
    _spec("momentum_5d", "close / close 5 observations earlier − 1", 5, "fraction", 5),
    _spec("momentum_10d", "close / close 10 observations earlier − 1", 10, "fraction", 10),
    _spec("momentum_30d", "close / close 30 observations earlier − 1", 30, "fraction", 30),
    _spec("return_1d", "ln(close / previous close)", 1, "log return", 1),
    _spec("return_5d", "ln(close / close 5 observations earlier)", 5, "log return", 5),
    _spec("return_20d", "ln(close / close 20 observations earlier)", 20, "log return", 20),
    _spec(
        "stoch_k_14",
        "100 × (close − lowest low 14) / (highest high 14 − lowest low 14) (TA-Lib STOCHF fast %K)",
        14,
        "index 0..100",
        13,
    ),
    _spec("stoch_d_3", "mean of the last 3 stoch_k_14 (TA-Lib STOCHF fast %D, SMA 3)", 3, "index 0..100", 15),
    _spec(
        "williams_r_14",
        "−100 × (highest high 14 − close) / (highest high 14 − lowest low 14) (TA-Lib WILLR)",
        14,
        "index −100..0",
        13,
    ),
    _spec(
        "cci_20",
        "(TP − mean TP 20) / (0.015 × mean absolute deviation of TP 20), TP = (H+L+C)/3 (TA-Lib CCI)",
        20,
        "index",
        19,
    ),
    _spec(
        "mfi_14",
        "100 × up-move flow / total flow, flow = TP × volume, over the last 14 TP changes (TA-Lib MFI)",
        14,
        "index 0..100",
        14,
        VOLUME_CLASSES,
    ),
    _spec("roc_10", "(close / close 10 observations earlier − 1) × 100 (TA-Lib ROC)", 10, "percent", 10),
    _spec("bb_width", "(bb_upper − bb_lower) / bb_middle", 20, "fraction", 19),
    _spec(
        "bb_percent_b", "(close − bb_lower) / (bb_upper − bb_lower); NaN when the bands coincide", 20, "fraction", 19
    ),
    _spec("price_to_sma_200", "close / sma_200", 200, "ratio", 199),
    _spec(
        "drawdown_252d", "close / max(close over the last 252 observations incl. today) − 1 (≤ 0)", 252, "fraction", 251
    ),
    _spec(
        "volume_zscore_20",
        "(volume − mean of the last 20 volumes) / their sample std (ddof 1); NaN when that std is 0",
        20,
        "z-score",
        19,
        VOLUME_CLASSES,
    ),
    _spec(
        "skew_60d",
        "bias-corrected sample skewness (pandas .skew()) of the last 60 daily log returns; NaN if all equal",
        60,
        "dimensionless",
        60,
    ),
    _spec(
        "natr_14",
        "atr_14 / close × 100: Wilder ATR(14) as a percentage of the close (TA-Lib NATR)",
        14,
        "percent of close",
        14,
    ),
    _spec("return_60d", "ln(close / close 60 observations earlier)", 60, "log return", 60),
)

TECHNICAL_FEATURES: list[str] = [f.name for f in FEATURES]
"""Output feature columns of ``compute_indicators``, in order."""

CROSS_ASSET_WINDOW = 60
"""Joint returns per window of the cross-asset features."""

_CROSS_SOURCE = "prices + FRED SP500 / DTWEXBGS"
_CROSS_KNOWN = "at D's close, once every benchmark observation in the window has been released"


def _cross(name: str, formula: str, unit: str) -> FeatureSpec:
    return FeatureSpec(
        name=name,
        formula=formula,
        window=CROSS_ASSET_WINDOW,
        unit=unit,
        warmup=CROSS_ASSET_WINDOW,
        group="cross_asset",
        source=_CROSS_SOURCE,
        known_at=_CROSS_KNOWN,
    )


CROSS_ASSET_SPECS: tuple[FeatureSpec, ...] = (
    _cross(
        "beta_sp500_60d",
        "sample cov(r_A, r_SPX) / sample var(r_SPX) (ddof 1) of the last 60 joint log returns; NaN if var is 0",
        "beta (dimensionless)",
    ),
    _cross(
        "corr_sp500_60d",
        "Pearson correlation of r_A and r_SPX over the last 60 joint log returns; NaN if either var is 0",
        "correlation −1..1",
    ),
    _cross(
        "corr_dxy_60d",
        "Pearson correlation of r_A and r_DXY over the last 60 joint log returns; NaN if either var is 0",
        "correlation −1..1",
    ),
)
"""Columns of ``compute_cross_asset`` (``warmup``: index of the first *joint* observation with a value)."""

CROSS_ASSET_FEATURES: tuple[str, ...] = tuple(f.name for f in CROSS_ASSET_SPECS)

FEATURES_BY_NAME: dict[str, FeatureSpec] = {f.name: f for f in (*FEATURES, *CROSS_ASSET_SPECS)}


def feature(name: str) -> FeatureSpec:
    """The registry entry of ``name`` (KeyError naming the known features otherwise)."""
    try:
        return FEATURES_BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"{name!r} is not a technical feature nor a cross-asset feature "
            f"(known: {', '.join(TECHNICAL_FEATURES)}; {', '.join(CROSS_ASSET_FEATURES)})"
        ) from None


def applies(feature_name: str, asset_class: str) -> bool:
    """Whether ``feature_name`` is meaningful for ``asset_class`` (False = not applicable, not missing)."""
    if asset_class not in ALL_CLASSES:
        raise ValueError(f"unknown asset_class {asset_class!r} (expected one of {ASSET_CLASSES})")
    return asset_class in feature(feature_name).applies_to


def not_applicable_features(asset_class: str) -> list[str]:
    """Technical features that do not apply to ``asset_class``, in output order."""
    return [f.name for f in FEATURES if not applies(f.name, asset_class)]
