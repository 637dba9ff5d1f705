"""The macro group on a hand-made landing zone: vintages, lags, weekend rows."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from portfolio_assets import bench_data
from portfolio_assets.assets.macro import macro_frame, macro_series
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.timing import END_OF_UTC_DAY, FX_BAR_END, NEW_YORK_CLOSE, Clock
from portfolio_assets.universe import load_universe


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def at(frame: pd.DataFrame, clock: Clock) -> pd.DataFrame:
    """The macro rows decided at ``clock`` on each day, by day."""
    days = frame["timestamp"]
    return frame[frame["decision_time"].to_numpy() == clock.on(days).to_numpy()].set_index("timestamp")


def replay_series(landing: LandingZoneResource, name: str) -> pd.Series:
    spec = next(s for s in load_universe().macro if s.name == name)
    series = macro_series(landing, spec)
    return series.set_index("observation_date")["value"]


def fred_body(observations: list[tuple[str, str, str]], output_type: int) -> bytes:
    """A FRED answer of 2013-03-01: ``(date, value, realtime_start)``, each valid until further notice."""
    items = [(d, v, start, "9999-12-31") for d, v, start in observations]
    return bench_data.fred_body(items, output_type=output_type, realtime="2013-03-01")


def landing_with(tmp_path, series_id: str, body: bytes) -> LandingZoneResource:
    root = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING_ROOT, root)
    shutil.rmtree(root / "fred" / f"series_id={series_id}")
    LandingZone(root).store(
        "fred", {"series_id": series_id}, body, ext="json", fetched_at=datetime(2013, 3, 1, tzinfo=UTC)
    )
    return LandingZoneResource(root=str(root))


def test_first_release_vintage_dates_drive_visibility(tmp_path):
    # Initial-release (ALFRED output_type=4) CPI: each value public on its realtime_start.
    months = pd.date_range("2009-01-01", "2010-03-01", freq="MS")
    obs = [
        (m.strftime("%Y-%m-%d"), f"{200 + i:.3f}", (m + pd.DateOffset(months=1, days=13)).strftime("%Y-%m-%d"))
        for i, m in enumerate(months)
    ]
    landing = landing_with(tmp_path, "CPILFESL", fred_body(obs, output_type=4))
    spec = next(s for s in load_universe().macro if s.name == "cpi_yoy")
    series = macro_series(landing, spec)
    jan = series[series["observation_date"] == utc("2010-01-01")].iloc[0]
    # the vintage date (not month end + 20) at the release time, 08:30 New York
    assert jan["available_at"] == utc("2010-02-14 13:30")
    assert abs(jan["value"] - (212 / 200 - 1) * 100) < 1e-12
    days = pd.date_range("2010-02-13", "2010-02-15", freq="D", tz="UTC")
    frame = macro_frame(landing, days)
    for clock in (END_OF_UTC_DAY, NEW_YORK_CLOSE, FX_BAR_END):
        rows = at(frame, clock)
        assert np.isnan(rows.loc[utc("2010-02-13"), "cpi_yoy"])  # December's yoy needs Dec 2008: absent
        assert abs(rows.loc[utc("2010-02-14"), "cpi_yoy"] - (212 / 200 - 1) * 100) < 1e-12
        assert rows.loc[utc("2010-02-14"), "cpi_yoy_available_at"] == utc("2010-02-14 13:30")


def test_without_vintage_the_documented_lag_applies(tmp_path):
    # A latest-values answer (output_type=1) says nothing of when each value was first public.
    months = pd.date_range("2010-01-01", "2010-08-01", freq="MS")
    obs = [(m.strftime("%Y-%m-%d"), f"{9 + i / 10:.1f}", "2013-03-01") for i, m in enumerate(months)]
    landing = landing_with(tmp_path, "UNRATE", fred_body(obs, output_type=1))
    spec = next(s for s in load_universe().macro if s.name == "unemployment_rate")
    series = macro_series(landing, spec)
    row = series[series["observation_date"] == utc("2010-06-01")].iloc[0]
    # June's rate: month end + 10 days (Saturday 07-10, so Monday), 08:30 New York
    assert row["available_at"] == utc("2010-07-12 12:30")


def test_weekend_rows_see_fridays_closes_and_yield_curve_is_same_day():
    landing = LandingZoneResource(root=str(SAMPLE_LANDING_ROOT))
    days = pd.date_range("2010-06-04", "2010-06-07", freq="D", tz="UTC")  # Fri..Mon
    frame = at(macro_frame(landing, days), END_OF_UTC_DAY)  # crypto's decisions: every day at 24:00 UTC
    friday, saturday, sunday = (frame.loc[utc(d)] for d in ("2010-06-04", "2010-06-05", "2010-06-06"))
    assert saturday["sp500_close"] == friday["sp500_close"] == sunday["sp500_close"]
    assert saturday["vix"] == friday["vix"]
    np.testing.assert_allclose(frame["yield_curve_10y_2y"], frame["us10y_yield"] - frame["us2y_yield"], rtol=0)
    assert (
        frame[
            [
                "sp500_close",
                "vix",
                "dxy",
                "us10y_yield",
                "us2y_yield",
                "gold_price",
                "oil_price",
                "cpi_yoy",
                "gdp_growth_qoq",
                "unemployment_rate",
            ]
        ]
        .notna()
        .all()
        .all()
    )


def test_the_bundled_sample_holds_first_releases_of_every_revised_series():
    from portfolio_assets import replay
    from portfolio_assets.export import sample_sources

    zone = LandingZone(SAMPLE_LANDING_ROOT)
    sources = sample_sources()
    for series_id in ("CPILFESL", "UNRATE", "GDPC1"):
        observed = replay.read_fred(zone, series_id)
        assert observed.vintage, series_id  # ALFRED output_type=4: each value as first printed, dated by its release
        assert (observed.frame["realtime_start"] > observed.frame["observation_date"]).all(), series_id
        entry = next(v for k, v in sources.items() if series_id in k)
        assert entry["kind"] == "synthetic" and "first releases" in entry["origin"], series_id
    for series_id in ("SP500", "DGS10"):  # market series are not revised: latest values
        assert not replay.read_fred(zone, series_id).vintage


def test_the_unemployment_rate_is_the_first_print_from_its_release_day():
    from portfolio_assets import replay

    observed = replay.read_fred(LandingZone(SAMPLE_LANDING_ROOT), "UNRATE").frame.set_index("observation_date")
    june = observed.loc[utc("2011-06-01")]
    may = observed.loc[utc("2011-05-01")]
    released = june["realtime_start"]  # the first Friday of July 2011
    assert released == utc("2011-07-01")
    days = pd.date_range(released - pd.Timedelta(days=1), released, freq="D", tz="UTC")
    frame = macro_frame(LandingZoneResource(), days)
    for clock in (END_OF_UTC_DAY, NEW_YORK_CLOSE, FX_BAR_END):  # 08:30 New York is before every decision of the day
        assert at(frame, clock)["unemployment_rate"].tolist() == [may["value"], june["value"]]


def test_each_decision_time_sees_only_what_was_released_by_it():
    """Friday 2010-06-04: FX and metals decide at 16:00 UTC, before the S&P 500 (16:00 New York) and the VIX
    (16:15) close, so they see Thursday's; equities decide at the S&P close (so they see it) but before the
    VIX; crypto at 24:00 UTC sees both."""
    landing = LandingZoneResource()
    days = pd.date_range("2010-06-03", "2010-06-04", freq="D", tz="UTC")
    frame = macro_frame(landing, days)
    sp500 = replay_series(landing, "sp500_close")
    vix = replay_series(landing, "vix")
    thursday, friday = utc("2010-06-03"), utc("2010-06-04")
    fx, equity, crypto = (at(frame, clock).loc[friday] for clock in (FX_BAR_END, NEW_YORK_CLOSE, END_OF_UTC_DAY))
    assert fx["sp500_close"] == sp500[thursday] and fx["vix"] == vix[thursday]
    assert equity["sp500_close"] == sp500[friday] and equity["vix"] == vix[thursday]
    assert crypto["sp500_close"] == sp500[friday] and crypto["vix"] == vix[friday]
    assert fx["sp500_close_available_at"] == utc("2010-06-03 20:00")  # 16:00 New York, daylight saving
    assert equity["sp500_close_available_at"] == utc("2010-06-04 20:00") == equity["decision_time"]
    assert crypto["vix_available_at"] == utc("2010-06-04 20:15")
    assert fx["gold_price_available_at"] == utc("2010-06-04 16:00") == fx["decision_time"]  # XAU's own bar end
    # every value was available by its row's decision time, and the schema holds
    for column in [c for c in frame.columns if c.endswith("_available_at")]:
        assert (frame[column].dropna() <= frame.loc[frame[column].notna(), "decision_time"]).all(), column
    assert len(frame) == 2 * 3 and frame[["timestamp", "decision_time"]].drop_duplicates().shape[0] == 6


def test_a_field_with_nothing_released_yet_keeps_utc_availability_and_passes_the_schema():
    """The sample's first days: the dollar index and oil have no release yet, so every availability is empty;
    it stays a UTC instant column (it became naive, and macro's blocking schema check failed the run)."""
    from portfolio_assets.schemas import MacroSchema, validate_rows

    frame = macro_frame(LandingZoneResource(), pd.date_range("2008-01-01", "2008-01-05", freq="D", tz="UTC"))
    assert frame["dxy_available_at"].isna().all() and frame["oil_price_available_at"].isna().all()
    for column in [c for c in frame.columns if c.endswith("_available_at")]:
        assert str(frame[column].dtype) == "datetime64[ns, UTC]", column
    assert validate_rows(frame, MacroSchema).invalid.empty
