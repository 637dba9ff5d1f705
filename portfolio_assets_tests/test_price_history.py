"""``prices`` derives each asset's history once per process (``assets.prices._asset_history``) and cuts a run's
window out of it (``prices_near``): the same frames as deriving every asset's whole history in every run, and a
changed landing file is never served from what was derived before.

The reference below is ``canonical_prices`` as it was, verbatim but for its name.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

from portfolio_assets import replay
from portfolio_assets.assets import prices
from portfolio_assets.assets.windows import in_window
from portfolio_assets.columns import PRICE_COLUMNS
from portfolio_assets.errors import SourceError
from portfolio_assets.features.adjustment import ADJUSTMENT_FACTOR, SPLIT_FACTOR_CUM, adjustment_factors
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.universe import DEFAULT_UNIVERSE
from portfolio_assets_tests.golden import digest

FX = {"from_symbol": "EUR", "function": "FX_DAILY", "to_symbol": "USD"}


def loop_canonical_prices(landing: LandingZoneResource, excluded: Collection[str] = ()) -> pd.DataFrame:
    """``canonical_prices`` as it was: every asset's whole history derived again."""
    zone = landing.zone()
    frames = []
    for spec in landing.universe().assets:
        if spec.symbol in excluded:
            continue
        frame = replay.read_prices(zone, spec)
        frame = frame[spec.traded_on(frame["timestamp"])].copy()
        frame[SPLIT_FACTOR_CUM], frame[ADJUSTMENT_FACTOR] = adjustment_factors(
            frame["timestamp"], frame["price_close"].to_numpy(dtype="float64"), replay.read_actions(zone, spec)
        )
        frame["reference_close"] = float("nan")
        frame["market_cap"] = float("nan")
        if spec.coingecko_id and zone.files("coingecko", replay.coingecko_params(spec.coingecko_id)):
            chart = replay.read_coingecko(zone, spec.coingecko_id)
            chart = chart[chart["timestamp"] == chart["timestamp"].dt.floor("D")]
            closes = chart.assign(timestamp=chart["timestamp"] - pd.Timedelta(days=1))
            closes = closes.drop_duplicates("timestamp", keep="last").set_index("timestamp")
            frame["reference_close"] = frame["timestamp"].map(closes["price"]).astype("float64")
            frame["market_cap"] = frame["timestamp"].map(closes["market_cap"]).astype("float64")
        frame["available_at"] = spec.bar_end.on(frame["timestamp"]).array
        frames.append((spec.symbol, frame[PRICE_COLUMNS]))
    if not frames:
        raise ValueError(f"prices: every universe asset is excluded because its sources failed: {sorted(excluded)}")
    frames.sort(key=lambda pair: pair[0])
    return pd.concat([frame for _symbol, frame in frames], ignore_index=True)


def assert_same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert digest(new) == digest(old)
    assert type(new.index) is type(old.index)


def window_and_before(history: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.DataFrame, ...]:
    """What the ``prices`` asset takes from the history: the run's rows, and the 60 before them per asset."""
    before = history[history["timestamp"] < first].groupby("asset_symbol").tail(prices.ROWS_BEFORE)
    return in_window(history, first, last), before


def utc(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def store_fx_refetch(zone: LandingZone, fetched_at: datetime, factor: float, days: int = 40) -> None:
    """A later fetch of EURUSD's last ``days`` days, every price times ``factor`` (it wins on those days)."""
    body = json.loads(zone.require("alphavantage", FX)[0].read_bytes())
    series = next(k for k in body if k.startswith("Time Series"))
    recent = dict(sorted(body[series].items())[-days:])
    body[series] = {day: {k: f"{float(v) * factor:.5f}" for k, v in bar.items()} for day, bar in recent.items()}
    zone.store("alphavantage", FX, json.dumps(body).encode(), fetched_at=fetched_at)


@pytest.fixture()
def landing(tmp_path: Path) -> LandingZoneResource:
    """The sample with GOOG's split and dividends, a later partial EURUSD fetch, and USO delisted in 2011."""
    root = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING_ROOT, root)
    zone = LandingZone(root)
    later = datetime(2013, 3, 2, tzinfo=UTC)
    splits = {"symbol": "GOOG", "data": [{"effective_date": "2011-05-02", "split_factor": "2.0000"}]}
    dividends = {
        "symbol": "GOOG",
        "data": [
            {
                "ex_dividend_date": d,
                "declaration_date": "None",
                "record_date": "None",
                "payment_date": "None",
                "amount": a,
            }
            for d, a in (("2012-08-14", "0.50"), ("2009-11-10", "1.25"))
        ],
    }
    zone.store("alphavantage", {"function": "SPLITS", "symbol": "GOOG"}, json.dumps(splits).encode(), fetched_at=later)
    zone.store(
        "alphavantage", {"function": "DIVIDENDS", "symbol": "GOOG"}, json.dumps(dividends).encode(), fetched_at=later
    )
    store_fx_refetch(zone, later, 1.01)
    universe = yaml.safe_load(DEFAULT_UNIVERSE.read_text())
    next(a for a in universe["assets"] if a["symbol"] == "USO")["last_trading_day"] = "2011-06-15"
    (tmp_path / "universe.yaml").write_text(yaml.safe_dump(universe, sort_keys=False))
    prices.clear_history()
    yield LandingZoneResource(root=str(root), universe_file=str(tmp_path / "universe.yaml"))
    prices.clear_history()


WINDOWS = [
    ("2008-01-01", "2008-01-31"),  # the first month: little or nothing before it
    ("2008-02-15", "2008-03-10"),  # fewer than 60 rows before it
    ("2011-04-01", "2011-07-31"),  # GOOG's split, USO's last trading day
    ("2012-08-01", "2012-09-30"),  # a dividend
    ("2013-02-01", "2013-02-28"),  # the refetched days, the last stored ones
    ("2013-03-01", "2013-03-31"),  # after every stored day
    ("2006-01-01", "2006-12-31"),  # before every stored day
]


def test_the_cached_history_and_the_run_windows_are_what_the_loop_derived(landing):
    full = loop_canonical_prices(landing)
    assert full.loc[full["asset_symbol"] == "GOOG", ADJUSTMENT_FACTOR].nunique() == 4  # the events applied
    for _ in range(2):  # derived, then remembered
        assert_same(prices.canonical_prices(landing), full)
    for first, last in WINDOWS:
        first, last = utc(first), utc(last)
        near = prices.prices_near(landing, first, last)
        before = (full["timestamp"] < first).groupby(full["asset_symbol"]).transform("sum")
        position = full.groupby("asset_symbol").cumcount()
        keep = (full["timestamp"] < last + pd.Timedelta(days=1)) & (position >= before - prices.ROWS_BEFORE)
        assert_same(near, full[keep])
        assert_same(prices.canonical_prices(landing, (), (first, last)), near)  # what the asset calls
        for new, old in zip(window_and_before(near, first, last), window_and_before(full, first, last), strict=True):
            assert_same(new, old)
    excluded = ["ETH-USD", "GOOG"]
    assert_same(prices.canonical_prices(landing, excluded), loop_canonical_prices(landing, excluded))
    first, last = utc("2011-04-01"), utc("2011-07-31")
    near, full = prices.prices_near(landing, first, last, excluded), loop_canonical_prices(landing, excluded)
    for new, old in zip(window_and_before(near, first, last), window_and_before(full, first, last), strict=True):
        assert_same(new, old)


def test_a_build_in_many_runs_gives_what_one_run_gives(landing):
    whole = in_window(loop_canonical_prices(landing), utc("2010-11-01"), utc("2012-02-29"))
    starts = pd.date_range("2010-11-01", "2012-02-01", freq="MS", tz="UTC")
    chunks = [
        in_window(prices.prices_near(landing, s, s + pd.offsets.MonthEnd(0)), s, s + pd.offsets.MonthEnd(0))
        for s in starts
    ]
    chunked = pd.concat(chunks, ignore_index=True).sort_values(["asset_symbol", "timestamp"], ignore_index=True)
    assert_same(chunked, whole)


def test_one_asset_keeps_its_response_attrs(tmp_path, landing):
    universe = yaml.safe_load(Path(landing.universe_file).read_text())
    universe["assets"] = [a for a in universe["assets"] if a["symbol"] == "XAUUSD"]  # gold_price needs it
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(universe, sort_keys=False))
    one = LandingZoneResource(root=landing.root, universe_file=str(path))
    full = loop_canonical_prices(one)
    assert full.attrs  # the response's stated clock, kept by a concatenation of one frame
    assert_same(prices.canonical_prices(one), full)
    assert prices.prices_near(one, utc("2012-01-01"), utc("2012-01-31")).attrs == full.attrs


def test_a_changed_or_added_file_is_never_served_stale(landing):
    zone = landing.zone()
    before = prices.canonical_prices(landing)
    # a newer fetch lands
    store_fx_refetch(zone, datetime(2013, 3, 3, tzinfo=UTC), 1.02, days=10)
    after = prices.canonical_prices(landing)
    assert_same(after, loop_canonical_prices(landing))
    assert not after.equals(before)
    # a stored file replaced (a new file renamed over it) with the same size and modification time
    newest = zone.require("alphavantage", FX)[-1]
    stat = newest.path.stat()
    text = newest.read_bytes().decode()
    at = text.index('"4. close": "') + len('"4. close": "')
    changed = text[:at] + ("9" if text[at] != "9" else "8") + text[at + 1 :]
    swap = newest.path.with_name(".incoming-test")
    swap.write_text(changed)
    os.utime(swap, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(swap, newest.path)
    assert newest.path.stat().st_size == stat.st_size and newest.path.stat().st_mtime_ns == stat.st_mtime_ns
    replay.clear_parsed()  # the parse cache keys on the path, size and time alone
    replaced = prices.canonical_prices(landing)
    assert_same(replaced, loop_canonical_prices(landing))
    assert not replaced.equals(after)


def test_a_rewritten_file_with_a_new_time_is_derived_again(landing):
    zone = landing.zone()
    prices.canonical_prices(landing)
    newest = zone.require("alphavantage", FX)[-1]
    newest.path.write_bytes(b'{"Error Message": "Invalid API call."}')
    os.utime(newest.path, ns=(1, 1))
    with pytest.raises(ValueError, match=newest.where):
        prices.canonical_prices(landing)
    with pytest.raises(ValueError, match=newest.where):
        prices.prices_near(landing, utc("2012-01-01"), utc("2012-01-31"))


def test_errors_are_the_loops(landing):
    prices.canonical_prices(landing)
    zone = landing.zone()
    stray = zone.series_dir("alphavantage", {"function": "SPLITS", "symbol": "GOOG"}) / "20130304T000000Z.json.bak"
    stray.write_text("{}")
    with pytest.raises(SourceError) as new:
        prices.canonical_prices(landing)
    with pytest.raises(SourceError) as old:
        loop_canonical_prices(landing)
    assert str(new.value) == str(old.value) and "20130304T000000Z.json.bak" in str(new.value)
    stray.unlink()
    with pytest.raises(ValueError, match="every universe asset is excluded"):
        prices.canonical_prices(landing, landing.universe().symbols)


def test_a_swapped_reader_is_read_through(landing, monkeypatch):
    prices.canonical_prices(landing)
    read = replay.read_prices
    monkeypatch.setattr(replay, "read_prices", lambda zone, spec: read(zone, spec).iloc[:-5])
    assert_same(prices.canonical_prices(landing), loop_canonical_prices(landing))
    monkeypatch.setattr(replay, "read_prices", read)
    assert_same(prices.canonical_prices(landing), loop_canonical_prices(landing))


def test_callers_cannot_change_what_the_next_run_reads(landing):
    first = prices.canonical_prices(landing)
    first.loc[:, "price_close"] = -1.0
    near = prices.prices_near(landing, utc("2012-01-01"), utc("2012-01-31"))
    near.loc[:, "price_close"] = -1.0
    assert (prices.canonical_prices(landing)["price_close"] > 0).all()


def test_the_cache_is_bounded(landing, monkeypatch):
    full = loop_canonical_prices(landing)
    budget = int(full.memory_usage(deep=False).sum() // 3)
    monkeypatch.setattr(prices._HISTORY, "limit", budget)
    for _ in range(2):
        assert_same(prices.canonical_prices(landing), full)
        assert 0 < prices._HISTORY.held <= budget
        assert sum(prices._HISTORY.sizes()) == prices._HISTORY.held
    assert len(prices._HISTORY) < len(landing.universe().assets)
