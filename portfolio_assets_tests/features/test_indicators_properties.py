"""Ordering, point in time, start independence, degenerate windows and input checks of compute_indicators."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.features import (
    CROSS_ASSET,
    CROSS_ASSET_FEATURES,
    TECHNICAL,
    TECHNICAL_FEATURES,
    InvalidPricesError,
    applies,
    compute_indicators,
    feature,
)
from portfolio_assets.features.registry import MACRO_DERIVED, MACRO_FIELDS, SENTIMENT_FIELDS
from portfolio_assets.universe import DEFAULT_UNIVERSE, load_universe
from portfolio_assets_tests.features import price_frames

ROWS = 420


def universe() -> pd.DataFrame:
    """One seeded asset per class (crypto daily, the rest on business days), ROWS observations each."""
    frames = [
        price_frames.synthetic(symbol, asset_class, ROWS, seed=seed, start=start)
        for seed, (symbol, asset_class, start) in enumerate(
            [
                ("BTC-USD", "crypto", "2011-03-01"),
                ("GOOG", "equity", "2011-01-03"),
                ("EURUSD", "fx", "2011-02-07"),
                ("XAUUSD", "commodity", "2011-01-10"),
                ("TLT", "bond", "2011-01-03"),
            ]
        )
    ]
    return pd.concat(frames, ignore_index=True)


UNIVERSE = universe()
BASE = compute_indicators(UNIVERSE)
SYMBOLS = sorted(UNIVERSE["asset_symbol"].unique())


def test_output_is_sorted_by_asset_then_time_with_a_fresh_index():
    assert list(BASE.columns) == ["asset_symbol", "asset_class", "timestamp", *TECHNICAL_FEATURES]
    assert BASE.index.equals(pd.RangeIndex(len(UNIVERSE)))
    expected = UNIVERSE.sort_values(["asset_symbol", "timestamp"])[["asset_symbol", "asset_class", "timestamp"]]
    pd.testing.assert_frame_equal(BASE[["asset_symbol", "asset_class", "timestamp"]], expected.reset_index(drop=True))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shuffled_input_gives_identical_output(seed):
    shuffled = UNIVERSE.sample(frac=1.0, random_state=seed)
    shuffled.index = np.random.default_rng(seed).permutation(len(shuffled)) + 10_000  # index must not matter
    pd.testing.assert_frame_equal(compute_indicators(shuffled), BASE, check_exact=True)


def test_extra_columns_are_ignored_and_the_input_is_not_modified():
    extended = UNIVERSE.assign(reference_close=1.0, source="alphavantage")
    before = extended.copy()
    pd.testing.assert_frame_equal(compute_indicators(extended), BASE, check_exact=True)
    pd.testing.assert_frame_equal(extended, before)


def test_each_asset_is_computed_independently():
    for symbol in SYMBOLS:
        alone = compute_indicators(UNIVERSE[UNIVERSE["asset_symbol"] == symbol])
        pd.testing.assert_frame_equal(
            alone, BASE[BASE["asset_symbol"] == symbol].reset_index(drop=True), check_exact=True
        )


def _perturb_after(frame: pd.DataFrame, symbol: str, cut: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Multiply OHLC and volume of ``symbol``'s rows after ``cut`` by random factors, keeping OHLC consistent."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    rows = (out["asset_symbol"] == symbol) & (out["timestamp"] > cut)
    k = int(rows.sum())
    open_ = out.loc[rows, "price_open"].to_numpy() * rng.uniform(0.5, 2.0, k)
    close = out.loc[rows, "price_close"].to_numpy() * rng.uniform(0.5, 2.0, k)
    high = np.maximum(out.loc[rows, "price_high"].to_numpy() * rng.uniform(0.5, 2.0, k), np.maximum(open_, close))
    low = np.minimum(out.loc[rows, "price_low"].to_numpy() * rng.uniform(0.5, 2.0, k), np.minimum(open_, close))
    out.loc[rows, ["price_open", "price_high", "price_low", "price_close"]] = np.column_stack([open_, high, low, close])
    out.loc[rows, "volume"] = out.loc[rows, "volume"].to_numpy() * rng.uniform(0.0, 5.0, k)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    asset=st.sampled_from(SYMBOLS),
    position=st.integers(min_value=0, max_value=ROWS - 2),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_no_look_ahead(asset, position, seed):
    """Changing an asset's rows after t changes none of its values at or before t, nor any other asset's."""
    asset_rows = BASE["asset_symbol"] == asset
    cut = BASE.loc[asset_rows, "timestamp"].iloc[position]
    out = compute_indicators(_perturb_after(UNIVERSE, asset, cut, seed))
    unchanged = ~asset_rows | (BASE["timestamp"] <= cut)
    pd.testing.assert_frame_equal(out[unchanged], BASE[unchanged], check_exact=True)
    changed = asset_rows & (BASE["timestamp"] > cut)
    assert not out.loc[changed, "price_to_sma_200" if position > 250 else "return_1d"].equals(
        BASE.loc[changed, "price_to_sma_200" if position > 250 else "return_1d"]
    )


@settings(max_examples=25, deadline=None)
@given(asset=st.sampled_from(SYMBOLS), position=st.integers(min_value=0, max_value=ROWS - 1))
def test_truncating_the_future_changes_nothing_before(asset, position):
    asset_rows = BASE["asset_symbol"] == asset
    cut = BASE.loc[asset_rows, "timestamp"].iloc[position]
    keep = (UNIVERSE["asset_symbol"] != asset) | (UNIVERSE["timestamp"] <= cut)
    out = compute_indicators(UNIVERSE[keep])
    expected = BASE[~asset_rows | (BASE["timestamp"] <= cut)].reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected, check_exact=True)


def test_values_do_not_depend_on_where_the_series_starts():
    """Window statistics are exact functions of their window; recursive smoothers forget their seed.

    This is what lets the indicators asset read a bounded (730-day) lookback.
    """
    frame = price_frames.synthetic("GOOG", "equity", 1300, seed=11)
    full = compute_indicators(frame)
    dropped = 300
    late = compute_indicators(frame.iloc[dropped:])
    full_tail = full.iloc[dropped:].reset_index(drop=True)
    for spec in TECHNICAL:
        ours, theirs = late[spec.name].to_numpy(), full_tail[spec.name].to_numpy()
        if spec.recursive:
            # after ~500 observations the seed's weight (1 − 1/14)^k is below 1e-16
            np.testing.assert_allclose(ours[500:], theirs[500:], rtol=1e-12, atol=1e-12, err_msg=spec.name)
        else:
            np.testing.assert_array_equal(ours[spec.warmup :], theirs[spec.warmup :], err_msg=spec.name)


def test_fx_has_no_volume_features_even_if_given_volume():
    fx = price_frames.synthetic("EURUSD", "fx", 100, seed=5, with_volume=True)
    out = compute_indicators(fx)
    assert out["mfi_14"].isna().all() and out["volume_zscore_20"].isna().all()
    assert not out["rsi_14"].iloc[14:].isna().any()


def test_an_asset_without_volume_in_a_volume_class_gets_nan_volume_features():
    gold = price_frames.synthetic("XAUUSD", "commodity", 100, seed=6, with_volume=False)
    out = compute_indicators(gold)
    assert out["mfi_14"].isna().all() and out["volume_zscore_20"].isna().all()
    assert not out["cci_20"].iloc[19:].isna().any()


def test_constant_windows_give_nan_not_noise():
    frame = price_frames.synthetic("FLAT", "equity", 120, seed=7)
    flat = frame.index >= 40
    frame.loc[flat, ["price_open", "price_high", "price_low", "price_close"]] = 0.1 + 0.2  # an inexact float
    frame.loc[flat, "volume"] = 1234.5
    out = compute_indicators(frame)
    tail = out.iloc[40 + 60 :]
    assert (tail["bb_middle"] == 0.1 + 0.2).all() and (tail["bb_upper"] == tail["bb_lower"]).all()
    assert (tail["bb_width"] == 0).all() and tail["bb_percent_b"].isna().all()
    assert tail["volume_zscore_20"].isna().all()
    assert (tail["volatility_30d"] == 0).all() and tail["skew_60d"].isna().all()
    assert (tail["return_1d"] == 0).all() and (tail["sma_50"] == 0.1 + 0.2).all()
    # TA-Lib writes 0 for these 0/0s; here they are undefined
    for name, flat_from in {"stoch_k_14": 13, "stoch_d_3": 15, "williams_r_14": 13, "cci_20": 19, "mfi_14": 14}.items():
        assert out[name].iloc[40 + flat_from :].isna().all(), name
        assert out[name].iloc[20:40].notna().all(), name
    assert out["rsi_14"].iloc[40:].notna().all()  # Wilder averages of earlier moves decay but remain


def test_rsi_of_a_series_that_never_moved_is_undefined():
    frame = price_frames.synthetic("PEG", "fx", 40, seed=10)
    frame[["price_open", "price_high", "price_low", "price_close"]] = 7.8
    frame.loc[30:, ["price_high", "price_close"]] = 7.81
    out = compute_indicators(frame)
    assert out["rsi_14"].iloc[:30].isna().all()
    assert (out["rsi_14"].iloc[30:] == 100.0).all()
    assert np.isfinite(out[TECHNICAL_FEATURES].to_numpy()[~np.isnan(out[TECHNICAL_FEATURES].to_numpy())]).all()


def test_short_and_empty_inputs():
    short = price_frames.synthetic("NEW", "crypto", 10, seed=8)
    out = compute_indicators(short)
    assert len(out) == 10
    assert out[["sma_20", "rsi_14", "drawdown_252d", "skew_60d"]].isna().all().all()
    assert out["return_1d"].iloc[1:].notna().all()
    empty = compute_indicators(short.iloc[:0])
    assert list(empty.columns) == ["asset_symbol", "asset_class", "timestamp", *TECHNICAL_FEATURES]
    assert empty.empty


# --- input checks -------------------------------------------------------------------------------


def _one_asset() -> pd.DataFrame:
    return price_frames.synthetic("GOOG", "equity", 60, seed=9)


@pytest.mark.parametrize("column", ["price_open", "price_high", "price_low", "price_close"])
@pytest.mark.parametrize("bad", [np.nan, 0.0, -1.0, np.inf])
def test_missing_or_non_positive_prices_raise_naming_asset_and_timestamp(column, bad):
    frame = _one_asset()
    frame.loc[30, column] = bad
    with pytest.raises(ValueError, match=re.escape(f"'GOOG' at {frame.loc[30, 'timestamp']}: {column}")):
        compute_indicators(frame)


def test_duplicated_timestamps_raise():
    frame = _one_asset()
    frame = pd.concat([frame, frame.iloc[[12]]])
    with pytest.raises(
        InvalidPricesError, match=re.escape(f"'GOOG': duplicated timestamp {frame['timestamp'].iloc[12]}")
    ):
        compute_indicators(frame)


def test_partial_or_negative_volume_raises():
    frame = _one_asset()
    frame.loc[20, "volume"] = np.nan
    with pytest.raises(InvalidPricesError, match=r"'GOOG' at .*volume is missing on some rows"):
        compute_indicators(frame)
    frame.loc[20, "volume"] = -5.0
    with pytest.raises(InvalidPricesError, match="volume is negative"):
        compute_indicators(frame)


def test_unknown_or_inconsistent_asset_class_raises():
    frame = _one_asset()
    with pytest.raises(InvalidPricesError, match="unknown asset_class 'stock'"):
        compute_indicators(frame.assign(asset_class="stock"))
    frame.loc[5, "asset_class"] = "bond"
    with pytest.raises(InvalidPricesError, match="several asset classes"):
        compute_indicators(frame)


def test_missing_columns_and_bad_timestamps_raise():
    frame = _one_asset()
    with pytest.raises(InvalidPricesError, match="missing columns"):
        compute_indicators(frame.drop(columns="volume"))
    with pytest.raises(InvalidPricesError, match="timestamp must be a timezone-aware datetime64"):
        compute_indicators(frame.assign(timestamp=frame["timestamp"].astype(str)))
    with pytest.raises(InvalidPricesError, match="timestamp must be a timezone-aware datetime64"):
        compute_indicators(frame.assign(timestamp=frame["timestamp"].dt.tz_localize(None)))
    frame.loc[3, "timestamp"] = pd.NaT
    with pytest.raises(InvalidPricesError, match="missing timestamp"):
        compute_indicators(frame)


# --- registry -----------------------------------------------------------------------------------


def not_applicable_technical(asset_class: str) -> list[str]:
    return [f.name for f in TECHNICAL if not applies(f.name, asset_class)]


def test_registry_lists_every_feature_once_with_its_classes():
    assert len(set(TECHNICAL_FEATURES)) == len(TECHNICAL_FEATURES) == 37
    assert TECHNICAL_FEATURES[-2:] == ["natr_14", "return_60d"]  # appended: earlier columns keep their order
    assert feature("natr_14").recursive and feature("natr_14").warmup == 14
    assert not feature("return_60d").recursive and feature("return_60d").warmup == 60
    assert not_applicable_technical("fx") == ["mfi_14", "volume_zscore_20"]
    for asset_class in ("crypto", "equity", "commodity", "bond"):
        assert not_applicable_technical(asset_class) == []
    assert applies("rsi_14", "fx") and not applies("mfi_14", "fx") and applies("mfi_14", "crypto")
    assert all(
        f.group == "technical" and f.source == "prices" and f.known_at == "at D's bar end (the row's decision time)"
        for f in TECHNICAL
    )
    assert feature("sma_200").window == 200 and feature("sma_200").warmup == 199
    with pytest.raises(KeyError, match="not a declared feature"):
        applies("rsi_15", "crypto")
    # cross-asset features: in the registry, not in compute_indicators' output
    assert CROSS_ASSET_FEATURES == ("beta_sp500_60d", "corr_sp500_60d", "corr_dxy_60d")
    assert not set(CROSS_ASSET_FEATURES) & set(TECHNICAL_FEATURES)
    assert not set(CROSS_ASSET_FEATURES) & set(BASE.columns)
    for name in CROSS_ASSET_FEATURES:
        spec = feature(name)
        assert spec.group == "cross_asset" and spec.window == 60 and spec.warmup == 60
        assert spec.source == "prices + FRED SP500 / DTWEXBGS"
        assert spec.known_at.startswith("at the row's bar end, once every input of the window is available")
        assert all(applies(name, asset_class) for asset_class in ASSET_CLASSES)
    assert [s.name for s in CROSS_ASSET] == list(CROSS_ASSET_FEATURES)
    for asset_class in ASSET_CLASSES:
        assert not set(not_applicable_technical(asset_class)) & set(CROSS_ASSET_FEATURES)
    with pytest.raises(ValueError, match="unknown asset_class"):
        applies("rsi_14", "stock")


def test_features_md_documents_every_feature():
    text = (Path(__file__).resolve().parents[2] / "FEATURES.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z0-9_]+)` \|", text, flags=re.MULTILINE)
    assert documented[: len(TECHNICAL_FEATURES)] == TECHNICAL_FEATURES
    for spec in TECHNICAL:
        line = next(x for x in text.splitlines() if x.startswith(f"| `{spec.name}` |"))
        assert spec.formula in line and f"| {spec.warmup} |" in line, spec.name
    assert "## Macro, sentiment and cross-asset features" in text


def test_features_md_is_generated_from_the_declarations():
    from portfolio_assets.features import docs

    assert docs.TARGET.read_text(encoding="utf-8") == docs.render(), (
        "FEATURES.md is stale: run python -m portfolio_assets.features.docs"
    )


def test_the_lookback_is_derived_from_the_declared_warm_ups_and_decay():
    from portfolio_assets.features.registry import decay_observations, lookback_days, lookback_observations
    from portfolio_assets.spans import INDICATOR_LOOKBACK_DAYS, WARMUP_DAYS

    # ADX: first value at 27, then Wilder's seed (alpha 1/14) decays below 1e-16 after 498 observations.
    assert decay_observations(1 / 14) == 498 and (13 / 14) ** 498 < 1e-16 <= (13 / 14) ** 497
    assert lookback_observations() == 27 + 1 + 498
    assert INDICATOR_LOOKBACK_DAYS == lookback_days() == 762  # 526 observations at 252 a year
    # The labelled warm-up covers every declared warm-up on the sparsest calendar.
    assert max(f.warmup for f in TECHNICAL) < WARMUP_DAYS * 252 / 365


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_features_md_documents_macro_sentiment_and_cross_asset_features():
    text = (Path(__file__).resolve().parents[2] / "FEATURES.md").read_text(encoding="utf-8")
    section = _section(text, "## Macro, sentiment and cross-asset features")
    assert "_To be filled in" not in section
    documented = re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.MULTILINE)
    expected = [*MACRO_FIELDS, *MACRO_DERIVED, *SENTIMENT_FIELDS, *CROSS_ASSET_FEATURES]
    assert documented == expected
    header = "| feature | formula | window | unit | source | applies to | known |"
    assert section.count(header) == 3
    for name in expected:
        line = next(x for x in section.splitlines() if x.startswith(f"| `{name}` |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 7 and all(cells), name
        expected_classes = "crypto" if name == "fear_greed_index" else "all"
        assert cells[5] == expected_classes, name
    universe = load_universe(str(DEFAULT_UNIVERSE))
    for spec in universe.macro:  # each documented source and release rule matches universe.yaml
        line = next(x for x in section.splitlines() if x.startswith(f"| `{spec.name}` |"))
        assert (spec.series_id or spec.symbol) in line, spec.name
        if spec.frequency == "daily" and spec.release_lag_days:
            assert f"+ {spec.release_lag_days} day" in line, spec.name
        elif spec.frequency != "daily":
            assert f"+ {spec.release_lag_days} days" in line, spec.name
        else:
            assert "lag 0" in line, spec.name
        if spec.release_time is not None:
            assert str(spec.release_time) in line, spec.name
    for spec in CROSS_ASSET:
        line = next(x for x in section.splitlines() if x.startswith(f"| `{spec.name}` |"))
        assert spec.formula in line and spec.source in line and spec.known_at in line, spec.name
    assert "### Not applicable vs missing" in section and "`not_applicable`" in section
