"""The checks rewritten to scale linearly in the assets give exactly what they gave before.

Frames of several assets with NaNs, gaps, ties, duplicated days, an unknown class, an asset under two
classes, invalid references, overlapping and accepted moves: every outcome (summary, metadata, failure
cases) and every returned series must be identical to what the implementation before the rewrite returned
on the same case, recorded in ``fixtures/scaling_golden.json`` (see ``golden``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portfolio_assets import checks, fpmath
from portfolio_assets.checks import CheckOutcome
from portfolio_assets_tests.golden import Golden, digest, json_digest

CLASSES = ["crypto", "equity", "fx", "commodity", "bond", "mystery"]  # "mystery": an unknown class
FEATURES = ["price_close", "volume", "rsi_14", "macd", "mfi_14", "sma_200", "fear_greed_index", "adx_14"]
SEEDS = [0, 1, 2, 3]


GOLDEN = Golden("scaling_golden")


def pinned(outcome: CheckOutcome) -> dict[str, object]:
    return {
        "name": outcome.name,
        "passed": outcome.passed,
        "severity": outcome.severity,
        "summary": outcome.summary,
        "metadata": json_digest(outcome.metadata),
        "failures": digest(outcome.failures),
    }


def assert_recorded(key: str, outcome: CheckOutcome) -> None:
    """``outcome`` is the one the implementation before the rewrite gave on case ``key``."""
    GOLDEN.check(key, pinned(outcome))


def panel(seed: int, assets: int = 9, days: int = 80) -> pd.DataFrame:
    """Shuffled rows of ``assets`` assets: crypto daily, the rest on weekdays, holes, a duplicated day,
    rounded (tied) values, NaNs here and there, one asset under two classes."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(assets):
        asset_class = CLASSES[i % len(CLASSES)]
        stamps = pd.date_range("2021-01-01", periods=days, freq="D", tz="UTC")
        if asset_class != "crypto":
            stamps = stamps[stamps.dayofweek < 5]
        if i % 3 == 1:  # a hole of 10 to 20 days
            start = int(rng.integers(5, len(stamps) // 2))
            stamps = stamps.delete(range(start, start + int(rng.integers(10, 20))))
        n = len(stamps)
        close = (100 * fpmath.exp(np.cumsum(rng.normal(0, 0.02, n)))).round(1)
        frame = pd.DataFrame(
            {
                "asset_symbol": f"S{i}",
                "asset_class": asset_class,
                "timestamp": stamps,
                "price_close": close,
                "volume": np.nan if asset_class == "fx" else rng.integers(1, 5, n).astype(float),
                "rsi_14": rng.integers(0, 101, n).astype(float),
                "macd": rng.normal(0, 1, n).round(1),
                "mfi_14": rng.uniform(0, 100, n),
                "sma_200": close,
                "fear_greed_index": rng.integers(0, 101, n).astype(float) if asset_class == "crypto" else np.nan,
                "reference_close": (close * fpmath.exp(rng.normal(0, 0.01, n))).round(1),
            }
        )
        share = [0.0, 0.02, 0.3][i % 3]  # every third asset far below 95% complete
        for column in ("rsi_14", "macd", "sma_200"):
            frame.loc[rng.random(n) < share, column] = np.nan
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame = pd.concat([frame, frame.iloc[[3, 40]]], ignore_index=True)  # duplicated (asset, day) rows
    two = (frame["asset_symbol"] == "S1") & (frame.index % 4 == 0)
    frame.loc[two, "asset_class"] = "crypto"  # S1 under two classes
    frame.loc[frame.index % 97 == 5, "timestamp"] = pd.NaT
    frame = frame.sample(frac=1.0, random_state=seed)
    frame.index = frame.index * 3 + 7  # labels that are not positions
    return frame


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("min_fraction", [0.95, 0.5, 1.01])
def test_completeness_matches_the_reference(seed, min_fraction):
    rows = panel(seed)
    has_volume = {f"S{i}": i % len(CLASSES) != 2 for i in range(9)}
    warmup = {"S0": pd.Timestamp("2021-01-20", tz="UTC"), "S4": pd.Timestamp("2021-02-10")}
    for features in (FEATURES, FEATURES[:-1]):  # adx_14 is not in the frame: missing on every row
        for k, kwargs in enumerate(({}, {"warmup_end": warmup}, {"max_cases": 7})):
            new = checks.completeness(
                rows, features=features, has_volume=has_volume, min_fraction=min_fraction, **kwargs
            )
            assert_recorded(f"completeness/{seed}/{min_fraction}/{len(features)}/{k}", new)


def test_completeness_of_no_rows_matches_the_reference():
    rows = panel(0).iloc[:0]
    assert_recorded("completeness/no rows", checks.completeness(rows, features=FEATURES, has_volume={}))


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_source_consistency_matches_the_reference(seed):
    prices = panel(seed)
    rng = np.random.default_rng(seed)
    ref = prices["reference_close"].to_numpy().copy()
    ref[rng.random(len(ref)) < 0.2] = np.nan
    ref[rng.random(len(ref)) < 0.01] = 0.0
    ref[rng.random(len(ref)) < 0.01] = np.inf
    ref[rng.random(len(ref)) < 0.01] = -3.0
    prices = prices.assign(reference_close=ref)
    prices.loc[prices.index % 11 == 0, "price_close"] = np.nan
    for tolerance in (0.001, 0.01, 0.5):
        new = checks.cross_source_consistency(prices, tolerance=tolerance, max_cases=9)
        assert_recorded(f"cross_source/{seed}/{tolerance}", new)
    no_ref = prices.assign(reference_close=np.nan)
    assert_recorded(f"cross_source/{seed}/no reference", checks.cross_source_consistency(no_ref))


def labelled(seed: int) -> pd.DataFrame:
    rows = panel(seed).dropna(subset=["timestamp"])
    rows["target_timestamp"] = rows["timestamp"] + pd.Timedelta(days=30)
    rows.loc[rows.index % 13 == 0, "target_timestamp"] = pd.NaT
    return rows


def moves_of(rows: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Moves on the rows' days (some of them twice, some overlapping), of every kind, and of an absent asset."""
    rng = np.random.default_rng(seed)
    picked = rows.sample(n=25, random_state=seed)
    moves = pd.DataFrame(
        {
            "asset_symbol": picked["asset_symbol"].to_numpy(),
            "timestamp": picked["timestamp"].to_numpy(),
            "kind": rng.choice(["bad_tick", "unadjusted_split", "jump"], size=25),
            "reason": [f"reason {k}" for k in range(25)],
        }
    )
    extra = pd.DataFrame(
        {
            "asset_symbol": ["S0", "ZZZ", moves["asset_symbol"].iloc[0]],
            "timestamp": [rows["timestamp"].max(), rows["timestamp"].min(), moves["timestamp"].iloc[0]],
            "kind": ["unadjusted_split", "bad_tick", "unadjusted_split"],
            "reason": ["late split", "not in rows", "again"],
        }
    )
    return pd.concat([moves, extra], ignore_index=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_suspect_moves_matches_the_reference(seed):
    rows = labelled(seed)
    moves = moves_of(rows, seed)
    accepted = {moves["asset_symbol"].iloc[1]: [moves["timestamp"].iloc[1]], "S0": []}
    cases = [("moves", moves, {}), ("accepted", moves, {"accepted": accepted})]
    cases += [("no moves", moves.iloc[:0], {}), ("jumps only", moves[moves["kind"] == "jump"], {})]
    for name, some_moves, kwargs in cases:
        new, new_reasons = checks.suspect_moves(rows, some_moves, **kwargs)
        assert_recorded(f"suspect_moves/{seed}/{name}", new)
        GOLDEN.check(f"suspect_moves/{seed}/{name}/reasons", digest(new_reasons))


@pytest.mark.parametrize("seed", SEEDS)
def test_temporal_gaps_matches_the_reference(seed):
    prices = panel(seed)
    calendars = {f"S{i}": "daily" if i % len(CLASSES) == 0 else "weekdays" for i in range(12)}  # S9..S11: no data
    start, end = pd.Timestamp("2021-01-15", tz="UTC"), pd.Timestamp("2021-04-10", tz="UTC")
    window = prices[prices["timestamp"] >= start]
    previous = prices[prices["timestamp"] < start]
    ended = {"S2": pd.Timestamp("2021-02-01", tz="UTC"), "S10": pd.Timestamp("2021-01-01", tz="UTC")}
    for k, kwargs in enumerate(
        (
            {},
            {"previous": previous},
            {"previous": previous, "window_start": start, "window_end": end, "last_trading_days": ended},
            {"window_start": start, "window_end": end, "max_gap_days": 3, "max_cases": 5},
        )
    ):
        assert_recorded(f"temporal_gaps/{seed}/{k}", checks.temporal_gaps(window, calendars=calendars, **kwargs))


@pytest.fixture(scope="module")
def shared_landing(tmp_path_factory):
    """A synthetic landing zone of 7 assets whose news and Trends queries are shared per class, with its Trends
    downloads parsed once for the module (parsing them is most of the time, and neither version changes it)."""
    from functools import cache

    from portfolio_assets import replay
    from portfolio_assets.bench_data import write_landing
    from portfolio_assets.landing import LandingZone
    from portfolio_assets.resources import LandingZoneResource

    out = tmp_path_factory.mktemp("shared")
    write_landing(out, 7, 1)
    read_trends = replay.read_trends
    parse = cache(lambda query: read_trends(LandingZone(out / "landing"), query))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "read_trends", lambda zone, query: parse(query))
        yield LandingZoneResource(root=str(out / "landing"), universe_file=str(out / "universe.yaml"))


def test_sentiment_frame_matches_the_reference(shared_landing, monkeypatch):
    from portfolio_assets import replay
    from portfolio_assets.assets import sentiment

    days = pd.date_range("2019-10-01", "2019-12-31", freq="D", tz="UTC")
    GOLDEN.check("sentiment_frame/all", digest(sentiment.sentiment_frame(shared_landing, days)))
    symbols = sorted(shared_landing.universe().symbols)
    excluded = symbols[1:3]
    GOLDEN.check("sentiment_frame/excluded", digest(sentiment.sentiment_frame(shared_landing, days, excluded)))
    # An asset without a single social row.
    feed = replay.read_social(shared_landing.zone())
    without = feed[feed["asset_symbol"] != symbols[0]].reset_index(drop=True)
    monkeypatch.setattr(replay, "read_social", lambda zone: without)
    GOLDEN.check("sentiment_frame/no social rows", digest(sentiment.sentiment_frame(shared_landing, days)))
