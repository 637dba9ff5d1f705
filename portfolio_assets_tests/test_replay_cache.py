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
