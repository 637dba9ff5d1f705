"""A build in many runs parses each stored response once per process, and nobody can change the copy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from portfolio_assets import replay
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone
from portfolio_assets.sources import alphavantage
from portfolio_assets.universe import load_universe


@pytest.fixture()
def zone(tmp_path: Path) -> LandingZone:
    shutil.copytree(SAMPLE_LANDING_ROOT, tmp_path / "landing")
    replay.clear_parsed()
    yield LandingZone(tmp_path / "landing")
    replay.clear_parsed()


def test_each_response_is_parsed_once_and_every_caller_gets_its_own_copy(zone, monkeypatch):
    spec = next(a for a in load_universe().assets if a.params.get("function") == "TIME_SERIES_DAILY")
    calls = []
    parse = alphavantage.parse_daily

    def counted(data: bytes, *, where: str) -> pd.DataFrame:
        calls.append(where)
        return parse(data, where=where)

    monkeypatch.setattr(alphavantage, "parse_daily", counted)
    first = replay.read_prices(zone, spec)
    files = len(calls)
    assert files >= 1
    first.loc[0, "price_close"] = -1.0  # a caller changing its frame
    second = replay.read_prices(zone, spec)
    assert len(calls) == files  # parsed once
    assert second.loc[0, "price_close"] > 0
    pd.testing.assert_frame_equal(second, replay.read_prices(zone, spec))


def test_a_changed_file_is_parsed_again(zone):
    spec = next(a for a in load_universe().assets if a.params.get("function") == "TIME_SERIES_DAILY")
    before = replay.read_prices(zone, spec)
    (newest,) = zone.require(alphavantage.SOURCE, alphavantage.series_params(spec.params))[-1:]
    newest.path.write_bytes(b'{"Error Message": "Invalid API call."}')
    os.utime(newest.path, ns=(1, 1))
    with pytest.raises(ValueError, match=newest.where):
        replay.read_prices(zone, spec)
    assert len(before) > 100


def test_a_file_replaced_by_rename_with_the_same_size_and_time_is_parsed_again(zone):
    """Writers replace files atomically (write, then rename): the same size and time must not hide the change."""
    spec = next(a for a in load_universe().assets if a.params.get("function") == "TIME_SERIES_DAILY")
    (newest,) = zone.require(alphavantage.SOURCE, alphavantage.series_params(spec.params))[-1:]
    original = newest.path.read_bytes()
    before = replay.read_prices(zone, spec)
    stat = newest.path.stat()
    at = original.index(b'"4. close": "') + len(b'"4. close": "')
    digit = b"1" if original[at : at + 1] != b"1" else b"2"
    changed = original[:at] + digit + original[at + 1 :]  # one close's first digit: the same size
    staged = newest.path.with_name(newest.path.name + ".tmp")
    staged.write_bytes(changed)
    os.utime(staged, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    staged.replace(newest.path)
    assert (newest.path.stat().st_size, newest.path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    after = replay.read_prices(zone, spec)
    assert not after["price_close"].equals(before["price_close"])


def test_a_merged_series_is_read_once_and_every_caller_gets_its_own_copy(zone, monkeypatch):
    """The social feed (every asset's) is merged once per process, not in every run of a build."""
    from portfolio_assets.sources import social

    calls = []
    parse = social.parse_social_csv

    def counted(data: bytes, *, where: str) -> pd.DataFrame:
        calls.append(where)
        return parse(data, where=where)

    merges = []
    combine = replay._combine

    def merge(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
        merges.append(keys)
        return combine(frames, keys)

    monkeypatch.setattr(social, "parse_social_csv", counted)
    monkeypatch.setattr(replay, "_combine", merge)
    first = replay.read_social(zone)
    files = len(calls)
    assert files >= 1 and len(merges) == 1
    first.loc[0, "social_sentiment_score"] = 99.0  # a caller changing its frame
    second = replay.read_social(zone)
    assert len(calls) == files and len(merges) == 1  # read and merged once
    assert second.loc[0, "social_sentiment_score"] != 99.0
    pd.testing.assert_frame_equal(second, replay.read_social(zone))


def test_a_merged_series_whose_file_changed_is_read_again(zone):
    (query,) = {spec.news_query for spec in load_universe().assets[:1]}
    before = replay.read_gdelt(zone, query, "timelinetone")
    newest = zone.require("gdelt", {"mode": "timelinetone", "query": query})[-1]
    newest.path.write_bytes(b"Invalid query")
    os.utime(newest.path, ns=(1, 1))
    with pytest.raises(ValueError, match=newest.where):
        replay.read_gdelt(zone, query, "timelinetone")
    assert len(before) > 10
