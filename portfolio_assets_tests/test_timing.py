"""Bar ends as the data states them: a response whose clock contradicts its asset's bar end is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from portfolio_assets import replay
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone
from portfolio_assets.timing import Clock, ClockError
from portfolio_assets.universe import DEFAULT_UNIVERSE, load_universe

EURUSD = "from_symbol=EUR,function=FX_DAILY,to_symbol=USD"


def landing_with_fx_meta(tmp_path: Path, **meta: str) -> LandingZone:
    """The sample landing zone with EURUSD's response stating ``meta`` (``time_zone``, ``last_refreshed``)."""
    root = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING_ROOT / "alphavantage" / EURUSD, root / "alphavantage" / EURUSD)
    path = next((root / "alphavantage" / EURUSD).iterdir())
    body = json.loads(path.read_text())
    names = {"time_zone": "6. Time Zone", "last_refreshed": "5. Last Refreshed"}
    for key, value in meta.items():
        body["Meta Data"][names[key]] = value
    path.write_text(json.dumps(body))
    return LandingZone(root)


def universe_with(tmp_path: Path, symbol: str, **fields: object):
    data = yaml.safe_load(DEFAULT_UNIVERSE.read_text())
    next(a for a in data["assets"] if a["symbol"] == symbol).update(fields)
    path = tmp_path / "universe.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_universe(path)


def test_the_sample_states_what_its_bar_ends_say():
    from portfolio_assets.sources import alphavantage

    zone = LandingZone(SAMPLE_LANDING_ROOT)
    stated = {}
    for spec in load_universe().assets:
        (stored,) = zone.require(alphavantage.SOURCE, alphavantage.series_params(spec.params))
        stated[spec.symbol] = alphavantage.parse_daily(stored.read_bytes()).attrs
        assert len(replay.read_prices(zone, spec)) > 1000  # the check passes
    assert stated["EURUSD"] == {"last_refreshed": "2013-02-28 16:00:00", "time_zone": "UTC"}
    assert stated["GOOG"] == {"last_refreshed": "2013-02-28", "time_zone": "US/Eastern"}
    assert stated["BTC-USD"]["time_zone"] == "UTC"


def test_a_series_stating_another_time_zone_is_refused(tmp_path):
    zone = landing_with_fx_meta(tmp_path, time_zone="GMT+8")
    with pytest.raises(ClockError) as err:
        replay.read_prices(zone, load_universe().asset("EURUSD"))
    message = str(err.value)
    assert "alphavantage EURUSD" in message and EURUSD in message
    assert "states time zone 'GMT+8', but its bars are taken to end at 16:00 UTC" in message
    assert "declare the asset's bar_end in universe.yaml" in message


def test_a_series_refreshed_after_its_bar_end_on_its_last_day_is_refused_until_declared(tmp_path):
    zone = landing_with_fx_meta(tmp_path, last_refreshed="2013-02-28 21:55:00")
    with pytest.raises(ClockError, match=r"last refreshed at 2013-02-28 21:55:00 \(UTC\), after its bar end 16:00 UTC"):
        replay.read_prices(zone, load_universe().asset("EURUSD"))
    # a refresh on an earlier day says nothing about the last bar; one at the bar end is fine
    eurusd = load_universe().asset("EURUSD")
    replay.read_prices(landing_with_fx_meta(tmp_path / "a", last_refreshed="2013-02-27 21:55:00"), eurusd)
    replay.read_prices(landing_with_fx_meta(tmp_path / "b", last_refreshed="2013-02-28 16:00:00"), eurusd)
    # declared: the rows are decided at the later bar end
    universe = universe_with(tmp_path, "EURUSD", bar_end="24:00 UTC")
    spec = universe.asset("EURUSD")
    assert str(spec.bar_end) == "24:00 UTC"
    frame = replay.read_prices(zone, spec)
    assert spec.bar_end.on(frame["timestamp"].iloc[-1:])[0] == pd.Timestamp("2013-03-01", tz="UTC")


def test_a_declared_bar_end_must_be_a_clock(tmp_path):
    from portfolio_assets.universe import UniverseError

    with pytest.raises(UniverseError, match=r"assets\[4\] \(EURUSD\)\.bar_end: expected a clock 'HH:MM Area/City'"):
        universe_with(tmp_path, "EURUSD", bar_end="5pm New York")


def test_a_clock_in_a_daylight_saving_gap_names_itself():
    clock = Clock.parse("02:30 America/New_York")
    with pytest.raises(ClockError, match=r"clock 02:30 America/New_York: .*2010-03-14 02:30:00.* daylight-saving"):
        clock.on(pd.DatetimeIndex(["2010-03-13", "2010-03-14"], tz="UTC"))
    assert list(clock.on(pd.DatetimeIndex(["2010-03-13"], tz="UTC"))) == [pd.Timestamp("2010-03-13 07:30", tz="UTC")]
