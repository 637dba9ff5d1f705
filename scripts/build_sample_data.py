#!/usr/bin/env python
"""Build the bundled offline sample: a raw landing zone in the real APIs' wire formats.

Writes ``portfolio_assets/sample_data/landing/`` (deleted and rewritten on every
run) and ``portfolio_assets/sample_data/manifest.json``. Every file is stored
through :class:`portfolio_assets.landing.LandingZone` as fetched at
2013-03-01T00:00:00Z and covers the window 2008-01-01 .. 2013-02-28 (monthly and
quarterly macro series start 2006-01-01 so that year-over-year and
quarter-over-quarter changes exist at the window start), except Google Trends:
one download per term at the end of every month of the window, each as fetched
then and covering the 5 years before it.

Real series come from datasets that the ``arch`` and ``backtesting`` packages
ship (``pip install -e '.[sample]'``); everything else is synthetic, drawn from
numpy Generators seeded with ``zlib.crc32`` of the series name, so rebuilding
gives byte-identical files. See ``docs/WIRE_FORMATS.md`` for the formats.

Usage::

    python scripts/build_sample_data.py
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script, without an editable install
    sys.path.insert(0, str(REPO_ROOT))

from portfolio_assets.export.provenance import SAMPLE_MARKER, sample_marker  # noqa: E402
from portfolio_assets.landing import LandingZone, series_key  # noqa: E402

PACKAGE_DIR = REPO_ROOT / "portfolio_assets"
UNIVERSE_PATH = PACKAGE_DIR / "universe.yaml"
SAMPLE_DIR = PACKAGE_DIR / "sample_data"
LANDING_DIR = SAMPLE_DIR / "landing"
MANIFEST_PATH = SAMPLE_DIR / "manifest.json"
GENERATOR = "scripts/build_sample_data.py"

WINDOW_START = pd.Timestamp("2008-01-01")
WINDOW_END = pd.Timestamp("2013-02-28")
HISTORY_START = pd.Timestamp("2006-01-01")  # monthly / quarterly macro history
FETCHED_AT = datetime(2013, 3, 1, tzinfo=UTC)
REALTIME = FETCHED_AT.strftime("%Y-%m-%d")
MAX_BUNDLE_BYTES = 10_000_000

# Alpha Vantage number formats by function.
AV_DECIMALS = {"TIME_SERIES_DAILY": 4, "FX_DAILY": 5, "DIGITAL_CURRENCY_DAILY": 8}
CRYPTO_NAMES = {"BTC": "Bitcoin", "ETH": "Ethereum"}
MARKET_NAMES = {"USD": "United States Dollar"}


# --------------------------------------------------------------------------- helpers


def rng_for(name: str) -> np.random.Generator:
    """A Generator whose seed depends only on the series name."""
    return np.random.default_rng(zlib.crc32(name.encode("utf-8")))


def fmt(value: float, decimals: int) -> str:
    """Fixed-point string without a negative zero."""
    return f"{round(float(value), decimals) + 0.0:.{decimals}f}"


def rnd(value: float, decimals: int) -> float:
    """Rounded float for JSON numbers, without a negative zero."""
    return round(float(value), decimals) + 0.0


def compact_json(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def knot_path(index: pd.DatetimeIndex, knots: Sequence[tuple[str, float]]) -> np.ndarray:
    """Piecewise-linear path through ``(date, value)`` knots, evaluated on ``index``."""
    days = (index - WINDOW_START).days.to_numpy(dtype="float64")
    knot_days = np.array([(pd.Timestamp(d) - WINDOW_START).days for d, _ in knots], dtype="float64")
    knot_values = np.array([v for _, v in knots], dtype="float64")
    return np.interp(days, knot_days, knot_values)


def ou_around(rng: np.random.Generator, target: np.ndarray, *, speed: float, noise: float) -> np.ndarray:
    """Mean-reverting (discrete Ornstein-Uhlenbeck) path pulled towards ``target``."""
    shocks = rng.standard_normal(len(target)) * noise
    out = np.empty(len(target))
    x = float(target[0])
    for i, (m, e) in enumerate(zip(target, shocks, strict=True)):
        x = x + speed * (m - x) + e
        out[i] = x
    return out


def ar1(rng: np.random.Generator, n: int, *, phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) with marginal standard deviation ``sd``."""
    shocks = rng.standard_normal(n) * sd * np.sqrt(1.0 - phi * phi)
    out = np.empty(n)
    x = rng.standard_normal() * sd
    for i in range(n):
        x = phi * x + shocks[i]
        out[i] = x
    return out


def iso_day(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


def unix_seconds(ts: pd.Timestamp) -> int:
    return int(ts.tz_localize("UTC").timestamp()) if ts.tzinfo is None else int(ts.timestamp())


# --------------------------------------------------------------------------- bundle


@dataclass
class Bundle:
    """Writes files through the landing zone and records them for the manifest."""

    zone: LandingZone
    entries: list[dict[str, object]]

    def store(
        self,
        source: str,
        params: Mapping[str, object],
        body: bytes,
        *,
        ext: str,
        kind: str,
        origin: str,
        rows: int,
        package: str | None = None,
        fetched_at: datetime = FETCHED_AT,
    ) -> None:
        landed = self.zone.store(source, params, body, ext=ext, fetched_at=fetched_at)
        os.chmod(landed.path, 0o644)  # mkstemp creates 0600
        entry: dict[str, object] = {
            "source": source,
            "series_key": series_key(params),
            "path": landed.path.relative_to(SAMPLE_DIR).as_posix(),
            "kind": kind,
            "origin": origin,
            "rows": rows,
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        if package:
            entry["package"] = package
        self.entries.append(entry)


# --------------------------------------------------------------------------- calendars


@dataclass(frozen=True)
class Calendars:
    days: pd.DatetimeIndex  # every calendar day in the window
    weekdays: pd.DatetimeIndex  # Monday .. Friday
    nyse: pd.DatetimeIndex  # trading days of the real IXIC data
    holidays: pd.DatetimeIndex  # weekdays that are not NYSE trading days


def in_window(frame: pd.DataFrame | pd.Series, start: pd.Timestamp = WINDOW_START) -> pd.DataFrame | pd.Series:
    return frame.loc[(frame.index >= start) & (frame.index <= WINDOW_END)]


def load_real() -> dict[str, pd.DataFrame | pd.Series]:
    import arch.data.core_cpi
    import arch.data.nasdaq
    import arch.data.sp500
    import arch.data.wti
    from backtesting.test import GOOG

    return {
        "GOOG": in_window(GOOG),
        "IXIC": in_window(arch.data.nasdaq.load()),
        "SP500": in_window(arch.data.sp500.load()["Close"]),
        "DCOILWTICO": in_window(arch.data.wti.load()["DCOILWTICO"]),
        "CPILFESL": in_window(arch.data.core_cpi.load()["CPILFESL"], HISTORY_START),
    }


def calendars(ixic: pd.DataFrame) -> Calendars:
    weekdays = pd.bdate_range(WINDOW_START, WINDOW_END)
    nyse = pd.DatetimeIndex(ixic.index).normalize()
    return Calendars(
        days=pd.date_range(WINDOW_START, WINDOW_END, freq="D"),
        weekdays=weekdays,
        nyse=nyse,
        holidays=weekdays.difference(nyse),
    )


# --------------------------------------------------------------------------- Alpha Vantage


def ohlcv_frame(data: pd.DataFrame) -> pd.DataFrame:
    out = data.rename(columns=str.lower)[["open", "high", "low", "close", "volume"]].copy()
    out.index = pd.DatetimeIndex(out.index).normalize()
    return out


def av_body(params: Mapping[str, str], frame: pd.DataFrame) -> bytes:
    """Alpha Vantage success body for ``params['function']``; rows written newest first."""
    function = params["function"]
    decimals = AV_DECIMALS[function]
    last = frame.index.max()
    rows: dict[str, dict[str, str]] = {}
    for day, row in frame.sort_index(ascending=False).iterrows():
        values = {
            "1. open": fmt(row["open"], decimals),
            "2. high": fmt(row["high"], decimals),
            "3. low": fmt(row["low"], decimals),
            "4. close": fmt(row["close"], decimals),
        }
        if function == "TIME_SERIES_DAILY":
            values["5. volume"] = str(int(np.rint(row["volume"])))
        elif function == "DIGITAL_CURRENCY_DAILY":
            values["5. volume"] = fmt(row["volume"], 8)
        rows[iso_day(day)] = values

    if function == "TIME_SERIES_DAILY":
        meta = {
            "1. Information": "Daily Prices (open, high, low, close) and Volumes",
            "2. Symbol": params["symbol"],
            "3. Last Refreshed": iso_day(last),
            "4. Output Size": "Full size",
            "5. Time Zone": "US/Eastern",
        }
        key = "Time Series (Daily)"
    elif function == "FX_DAILY":
        meta = {
            "1. Information": "Forex Daily Prices (open, high, low, close)",
            "2. From Symbol": params["from_symbol"],
            "3. To Symbol": params["to_symbol"],
            "4. Output Size": "Full size",
            "5. Last Refreshed": f"{iso_day(last)} 16:00:00",
            "6. Time Zone": "UTC",
        }
        key = "Time Series FX (Daily)"
    elif function == "DIGITAL_CURRENCY_DAILY":
        meta = {
            "1. Information": "Daily Prices and Volumes for Digital Currency",
            "2. Digital Currency Code": params["symbol"],
            "3. Digital Currency Name": CRYPTO_NAMES.get(params["symbol"], params["symbol"]),
            "4. Market Code": params["market"],
            "5. Market Name": MARKET_NAMES.get(params["market"], params["market"]),
            "6. Last Refreshed": f"{iso_day(last)} 00:00:00",
            "7. Time Zone": "UTC",
        }
        key = "Time Series (Digital Currency Daily)"
    else:
        raise ValueError(f"unsupported Alpha Vantage function {function!r}")
    return json.dumps({"Meta Data": meta, key: rows}, indent=4).encode("utf-8")


@dataclass(frozen=True)
class PriceProfile:
    start: float  # level on 2008-01-01
    sigma: float  # annualised volatility
    volume: float  # typical daily volume (shares / coins); 0 = none
    drift: float = 0.0  # annualised log drift before the -sigma^2/2 correction


# Plausible 2008 levels and class-appropriate volatilities for the synthetic prices.
PROFILES = {
    "BTC-USD": PriceProfile(start=500.0, sigma=0.70, volume=25_000.0, drift=0.15),
    "ETH-USD": PriceProfile(start=40.0, sigma=0.70, volume=300_000.0, drift=0.15),
    "EURUSD": PriceProfile(start=1.47, sigma=0.10, volume=0.0),
    "USDJPY": PriceProfile(start=109.0, sigma=0.10, volume=0.0),
    "XAUUSD": PriceProfile(start=850.0, sigma=0.18, volume=0.0, drift=0.08),
    "USO": PriceProfile(start=75.0, sigma=0.35, volume=10_000_000.0),
    "TLT": PriceProfile(start=90.0, sigma=0.14, volume=8_000_000.0, drift=0.03),
}
CLASS_SIGMA = {"crypto": 0.70, "fx": 0.10, "commodity": 0.25, "bond": 0.14, "equity": 0.25}


def synthetic_ohlcv(
    name: str, dates: pd.DatetimeIndex, profile: PriceProfile, periods_per_year: float, *, gap_share: float
) -> pd.DataFrame:
    """Seeded GBM closes with consistent open / high / low and a lognormal volume.

    ``gap_share`` is the share of the close-to-close variance that happens
    between the previous close and the open (0 for 24-hour markets, whose open
    is the previous close).
    """
    rng = rng_for(f"alphavantage:{name}")
    n = len(dates)
    dt = 1.0 / periods_per_year
    step = profile.sigma * np.sqrt(dt)
    gap = rng.standard_normal(n) * step * np.sqrt(gap_share)
    body = rng.standard_normal(n) * step * np.sqrt(1.0 - gap_share)
    mu = (profile.drift - 0.5 * profile.sigma**2) * dt
    log_open = np.empty(n)
    log_close = np.empty(n)
    prev = np.log(profile.start)
    for i in range(n):
        log_open[i] = prev + gap[i]
        log_close[i] = log_open[i] + body[i] + mu
        prev = log_close[i]
    opens, closes = np.exp(log_open), np.exp(log_close)
    up = np.abs(rng.standard_normal(n)) * step * 0.6
    down = np.abs(rng.standard_normal(n)) * step * 0.6
    highs = np.maximum(opens, closes) * np.exp(up)
    lows = np.minimum(opens, closes) * np.exp(-down)
    z = np.abs(gap + body) / step
    volume = profile.volume * np.exp(0.35 * rng.standard_normal(n) + 0.25 * z - 0.2)
    return pd.DataFrame({"open": opens, "high": highs, "low": lows, "close": closes, "volume": volume}, index=dates)


def build_prices(bundle: Bundle, assets: list[dict], real: dict, cal: Calendars) -> dict[str, pd.DataFrame]:
    """Every asset's Alpha Vantage file; returns the frames as written (rounded)."""
    real_equities = {
        "GOOG": (real["GOOG"], "backtesting.test.GOOG", f"backtesting=={version('backtesting')}"),
        "IXIC": (real["IXIC"], "arch.data.nasdaq", f"arch=={version('arch')}"),
    }
    written: dict[str, pd.DataFrame] = {}
    for asset in assets:
        symbol = asset["symbol"]
        params = {k: str(v) for k, v in asset["params"].items() if k != "outputsize"}
        function = params["function"]
        if symbol in real_equities and function == "TIME_SERIES_DAILY":
            data, origin, package = real_equities[symbol]
            frame = ohlcv_frame(data)
            kind = "real"
        else:
            profile = PROFILES.get(symbol) or PriceProfile(100.0, CLASS_SIGMA.get(asset["asset_class"], 0.25), 1e6)
            if function == "DIGITAL_CURRENCY_DAILY":
                dates, ppy, gap_share, cal_name = cal.days, 365.0, 0.0, "every calendar day"
            elif function == "FX_DAILY":
                dates, ppy, gap_share, cal_name = cal.weekdays, 260.0, 0.02, "Monday..Friday"
            else:
                dates, ppy, gap_share, cal_name = cal.nyse, 252.0, 0.2, "NYSE trading days of IXIC"
            frame = synthetic_ohlcv(symbol, dates, profile, ppy, gap_share=gap_share)
            origin = (
                f"seeded GBM (start {profile.start:g}, vol {profile.sigma:.0%}/yr, drift {profile.drift:.0%}/yr), "
                f"consistent OHLC{'' if function == 'FX_DAILY' else ', lognormal volume'}; {cal_name}"
            )
            if symbol in SYNTHETIC_ACTIONS:
                frame = as_traded(frame, SYNTHETIC_ACTIONS[symbol])
                origin += f"; as traded through the synthetic {SYNTHETIC_ACTIONS[symbol].describe()}"
            kind, package = "synthetic", None
        body = av_body(params, frame)
        bundle.store(
            "alphavantage", params, body, ext="json", kind=kind, origin=origin, rows=len(frame), package=package
        )
        # keep what was written (rounded) for the sources that must agree with it
        decimals = AV_DECIMALS[function]
        written[symbol] = frame.astype("float64").round({c: decimals for c in ("open", "high", "low", "close")})
    return written


# --------------------------------------------------------------------------- corporate actions


@dataclass(frozen=True)
class SyntheticActions:
    """A synthetic split and quarterly dividends; the GBM is the total-return path, the file is as traded."""

    split_on: pd.Timestamp  # first trading day on or after this is the effective date
    split_factor: float  # new / old shares
    dividend_months: tuple[int, ...]  # ex-date: first trading day of these months
    dividend_yield: float  # per payment, of the ex-date close

    def describe(self) -> str:
        return (
            f"{self.split_factor:g}-for-1 split from {iso_day(self.split_on)} (OHLC ÷ {self.split_factor:g}, volume "
            f"× {self.split_factor:g}) and quarterly dividends of {self.dividend_yield:.2%} of the ex-date close"
        )

    def split_day(self, dates: pd.DatetimeIndex) -> pd.Timestamp:
        return dates[dates >= self.split_on][0]

    def ex_dates(self, dates: pd.DatetimeIndex) -> list[pd.Timestamp]:
        months = pd.date_range(dates[0], dates[-1], freq="MS")
        firsts = [dates[dates >= m][0] for m in months if m.month in self.dividend_months and m > dates[0]]
        return sorted(set(firsts))


SYNTHETIC_ACTIONS = {
    "TLT": SyntheticActions(pd.Timestamp("2010-06-15"), 2.0, (3, 6, 9, 12), 0.009),
}
"""Assets whose synthetic prices go through corporate actions (the rest have none)."""


def as_traded(frame: pd.DataFrame, actions: SyntheticActions) -> pd.DataFrame:
    """The total-return OHLCV as traded: divided by the split from its day on, and dropping by each dividend."""
    dates = pd.DatetimeIndex(frame.index)
    split = np.where(dates >= actions.split_day(dates), actions.split_factor, 1.0)
    paid = np.zeros(len(dates))
    for day in actions.ex_dates(dates):
        paid[dates >= day] += 1
    scale = (1.0 - actions.dividend_yield) ** paid / split
    out = frame.copy()
    for column in ("open", "high", "low", "close"):
        out[column] = frame[column] * scale
    out["volume"] = frame["volume"] * split
    return out


def dividend_amounts(frame: pd.DataFrame, actions: SyntheticActions, decimals: int) -> list[tuple[pd.Timestamp, str]]:
    """(ex-date, amount) so that 1 + amount / close_E undoes the as-traded drop at E (rounded as written)."""
    dates = pd.DatetimeIndex(frame.index)
    closes = frame["close"].round(decimals)
    y = actions.dividend_yield
    return [(day, fmt(float(closes.loc[day]) * y / (1.0 - y), 4)) for day in actions.ex_dates(dates)]


def splits_body(symbol: str, splits: Sequence[tuple[pd.Timestamp, float]]) -> bytes:
    """Alpha Vantage ``SPLITS`` body, newest first."""
    data = [{"effective_date": iso_day(day), "split_factor": f"{factor:.4f}"} for day, factor in sorted(splits)[::-1]]
    return json.dumps({"symbol": symbol, "data": data}, indent=4).encode("utf-8")


def dividends_body(symbol: str, dividends: Sequence[tuple[pd.Timestamp, str]]) -> bytes:
    """Alpha Vantage ``DIVIDENDS`` body, newest first (declared a week before, paid a week after the ex-date)."""
    data = [
        {
            "ex_dividend_date": iso_day(day),
            "declaration_date": iso_day(day - pd.Timedelta(days=7)),
            "record_date": iso_day(day + pd.Timedelta(days=2)),
            "payment_date": iso_day(day + pd.Timedelta(days=7)),
            "amount": amount,
        }
        for day, amount in sorted(dividends)[::-1]
    ]
    return json.dumps({"symbol": symbol, "data": data}, indent=4).encode("utf-8")


def build_corporate_actions(bundle: Bundle, assets: list[dict], prices: dict[str, pd.DataFrame]) -> None:
    """``SPLITS`` and ``DIVIDENDS`` of every ``TIME_SERIES_DAILY`` asset: empty, except the synthetic ones."""
    for asset in assets:
        params = asset["params"]
        if params["function"] != "TIME_SERIES_DAILY":
            continue
        symbol, name = params["symbol"], asset["symbol"]
        actions = SYNTHETIC_ACTIONS.get(name)
        frame = prices[name]
        splits = [] if actions is None else [(actions.split_day(pd.DatetimeIndex(frame.index)), actions.split_factor)]
        dividends = [] if actions is None else dividend_amounts(frame, actions, AV_DECIMALS["TIME_SERIES_DAILY"])
        kind = "synthetic"  # written here, not fetched: empty lists where the real symbol had no event then
        for function, body, rows, what in (
            ("SPLITS", splits_body(symbol, splits), len(splits), "splits"),
            ("DIVIDENDS", dividends_body(symbol, dividends), len(dividends), "dividends"),
        ):
            origin = (
                f"synthetic {what} ({actions.describe()})"
                if actions is not None
                else f"no {what} (none in the window; an empty data list, as Alpha Vantage answers)"
            )
            bundle.store(
                "alphavantage", {"function": function, "symbol": symbol}, body, ext="json", kind=kind,
                origin=origin, rows=rows,
            )  # fmt: skip


# --------------------------------------------------------------------------- CoinGecko

COIN_SUPPLY = {"bitcoin": (7.0e6, 11.0e6), "ethereum": (70.0e6, 75.0e6)}


def build_coingecko(bundle: Bundle, assets: list[dict], prices: dict[str, pd.DataFrame]) -> None:
    for asset in assets:
        coin = asset.get("coingecko_id")
        if not coin:
            continue
        frame = prices[asset["symbol"]]
        rng = rng_for(f"coingecko:{coin}")
        n = len(frame)
        noise = rng.uniform(-0.0025, 0.0025, n)  # |noise| <= 0.3 % against the Alpha Vantage close
        supply_lo, supply_hi = COIN_SUPPLY.get(coin, (1.0e7, 1.1e7))
        supply = np.linspace(supply_lo, supply_hi, n)
        vol_noise = np.exp(0.1 * rng.standard_normal(n))
        stamps = [unix_seconds(day + pd.Timedelta(days=1)) * 1000 for day in frame.index]
        price = frame["close"].to_numpy() * (1.0 + noise)
        caps = price * supply
        volumes = frame["volume"].to_numpy() * frame["close"].to_numpy() * vol_noise
        body = {
            "prices": [[ms, rnd(p, 6)] for ms, p in zip(stamps, price, strict=True)],
            "market_caps": [[ms, rnd(c, 2)] for ms, c in zip(stamps, caps, strict=True)],
            "total_volumes": [[ms, rnd(v, 2)] for ms, v in zip(stamps, volumes, strict=True)],
        }
        bundle.store(
            "coingecko",
            {"id": coin, "vs_currency": "usd"},
            compact_json(body),
            ext="json",
            kind="synthetic",
            origin=(
                f"Alpha Vantage {asset['symbol']} close of day D x (1 + U(-0.25%, 0.25%)) stamped D+1 00:00 UTC; "
                "market cap = price x linear supply; volume = AV volume x close x lognormal noise"
            ),
            rows=n,
        )


# --------------------------------------------------------------------------- FRED


def fred_body(observations: Sequence[tuple[str, str]]) -> bytes:
    return compact_json(
        {
            "realtime_start": REALTIME,
            "realtime_end": REALTIME,
            "observation_start": "1600-01-01",
            "observation_end": "9999-12-31",
            "units": "lin",
            "output_type": 1,
            "file_type": "json",
            "order_by": "observation_date",
            "sort_order": "asc",
            "count": len(observations),
            "offset": 0,
            "limit": 100000,
            "observations": [
                {"realtime_start": REALTIME, "realtime_end": REALTIME, "date": d, "value": v} for d, v in observations
            ],
        }
    )


ALFRED_REALTIME = {"realtime_start": "1776-07-04", "realtime_end": "9999-12-31"}


def alfred_body(observations: Sequence[tuple[str, str, str, str]]) -> bytes:
    """An ALFRED ``output_type=4`` (initial release only) answer: ``(date, value, realtime_start, realtime_end)``."""
    return compact_json(
        {
            **ALFRED_REALTIME,
            "observation_start": "1600-01-01",
            "observation_end": "9999-12-31",
            "units": "lin",
            "output_type": 4,
            "file_type": "json",
            "order_by": "observation_date",
            "sort_order": "asc",
            "count": len(observations),
            "offset": 0,
            "limit": 100000,
            "observations": [
                {"realtime_start": start, "realtime_end": end, "date": d, "value": v}
                for d, v, start, end in observations
            ],
        }
    )


def _next_weekday(day: pd.Timestamp) -> pd.Timestamp:
    while day.weekday() >= 5:
        day += pd.Timedelta(days=1)
    return day


def first_release_day(series_id: str, observed: pd.Timestamp) -> pd.Timestamp:
    """A plausible first-release day: CPI the 15th of the next month, the unemployment rate the first Friday
    of the next month, real GDP's advance estimate the 28th of the month after the quarter (next weekday)."""
    if series_id == "UNRATE":
        day = observed + pd.DateOffset(months=1)
        return day + pd.Timedelta(days=(4 - day.weekday()) % 7)
    if series_id == "GDPC1":
        return _next_weekday(observed + pd.DateOffset(months=4) + pd.Timedelta(days=27))
    return _next_weekday(observed + pd.DateOffset(months=1) + pd.Timedelta(days=14))


@dataclass(frozen=True)
class Revision:
    """How a revised series' first releases differ from its final values (synthetic revision noise)."""

    noise: float
    decimals: int


REVISED_FRED = {
    "CPILFESL": Revision(0.06, 3),
    "UNRATE": Revision(0.1, 1),
    "GDPC1": Revision(25.0, 3),
}
"""Series FRED revises after release: the sample holds their first releases (ALFRED), as the live client asks."""


def first_releases(series_id: str, final: Sequence[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """``(date, first-release value, realtime_start, realtime_end)`` of every observation released by the fetch.

    The value is the final one plus seeded revision noise (the first print nobody could know was revised);
    each vintage ends the day before the next observation's release.
    """
    spec = REVISED_FRED[series_id]
    rng = rng_for(f"alfred:{series_id}")
    rows = []
    for day, value in final:
        released = first_release_day(series_id, pd.Timestamp(day))
        if released > pd.Timestamp(REALTIME):
            continue
        printed = value if value == "." else fmt(float(value) + rng.normal(0.0, spec.noise), spec.decimals)
        rows.append((day, printed, iso_day(released)))
    ends = [iso_day(pd.Timestamp(nxt) - pd.Timedelta(days=1)) for _, _, nxt in rows[1:]] + ["9999-12-31"]
    return [(d, v, start, end) for (d, v, start), end in zip(rows, ends, strict=True)]


def daily_observations(weekdays: pd.DatetimeIndex, values: pd.Series, decimals: int) -> list[tuple[str, str]]:
    """One observation a weekday; missing or NaN values are FRED's ``"."``."""
    values = values.copy()
    values.index = pd.DatetimeIndex(values.index).normalize()
    aligned = values.reindex(weekdays)
    return [(iso_day(d), "." if pd.isna(v) else fmt(v, decimals)) for d, v in aligned.items()]


def _vix(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    knots = [
        ("2008-01-01", 23),
        ("2008-06-01", 20),
        ("2008-09-01", 23),
        ("2008-10-24", 68),
        ("2008-11-20", 72),
        ("2009-01-15", 45),
        ("2009-04-01", 38),
        ("2009-07-01", 26),
        ("2010-01-01", 20),
        ("2010-05-20", 36),
        ("2010-07-20", 25),
        ("2011-01-01", 17),
        ("2011-07-20", 19),
        ("2011-08-15", 40),
        ("2011-10-15", 32),
        ("2012-01-01", 22),
        ("2012-06-01", 21),
        ("2013-02-28", 14),
    ]
    target = np.log(knot_path(index, knots))
    return np.clip(np.exp(ou_around(rng, target, speed=0.12, noise=0.06)), 10.0, 80.0)


def _dollar(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    knots = [
        ("2008-01-01", 97.0),
        ("2008-07-15", 96.5),
        ("2009-03-05", 108),
        ("2009-12-01", 99),
        ("2010-06-07", 104),
        ("2011-07-25", 97),
        ("2012-06-01", 102.5),
        ("2013-02-28", 100.5),
    ]
    return np.clip(ou_around(rng, knot_path(index, knots), speed=0.05, noise=0.2), 95.0, 110.0)


def _dgs10(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    knots = [
        ("2008-01-01", 3.9),
        ("2008-06-15", 4.1),
        ("2008-12-20", 2.2),
        ("2009-06-10", 3.8),
        ("2010-04-05", 3.9),
        ("2010-10-10", 2.5),
        ("2011-02-10", 3.6),
        ("2011-09-20", 2.0),
        ("2012-07-25", 1.65),
        ("2013-02-28", 2.0),
    ]
    return np.clip(ou_around(rng, knot_path(index, knots), speed=0.05, noise=0.035), 1.4, 4.5)


def _dgs2(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    knots = [
        ("2008-01-01", 2.8),
        ("2008-03-15", 1.6),
        ("2008-06-15", 2.6),
        ("2008-12-15", 0.8),
        ("2009-06-10", 1.2),
        ("2010-06-01", 0.7),
        ("2011-01-01", 0.6),
        ("2011-09-20", 0.2),
        ("2012-06-01", 0.28),
        ("2013-02-28", 0.25),
    ]
    target = np.log(knot_path(index, knots))
    return np.clip(np.exp(ou_around(rng, target, speed=0.05, noise=0.025)), 0.15, 3.0)


def _unrate(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    knots = [
        ("2006-01-01", 4.7),
        ("2006-10-01", 4.5),
        ("2007-06-01", 4.6),
        ("2007-12-01", 5.0),
        ("2008-06-01", 5.6),
        ("2008-12-01", 7.3),
        ("2009-06-01", 9.5),
        ("2009-10-01", 10.0),
        ("2010-06-01", 9.5),
        ("2010-12-01", 9.3),
        ("2011-06-01", 9.1),
        ("2011-12-01", 8.5),
        ("2012-06-01", 8.2),
        ("2012-12-01", 7.8),
        ("2013-01-01", 7.9),
    ]
    return np.clip(knot_path(index, knots) + rng.normal(0.0, 0.08, len(index)), 4.5, 10.0)


def _gdp(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    knots = [
        ("2006-01-01", 14600),
        ("2007-10-01", 15000),
        ("2008-04-01", 15020),
        ("2009-04-01", 14350),
        ("2010-04-01", 14800),
        ("2011-04-01", 15000),
        ("2012-10-01", 15400),
    ]
    return knot_path(index, knots) + rng.normal(0.0, 15.0, len(index))


@dataclass(frozen=True)
class SyntheticFred:
    frequency: str  # daily | monthly | quarterly
    decimals: int
    model: Callable[[pd.DatetimeIndex, np.random.Generator], np.ndarray]
    description: str


SYNTHETIC_FRED = {
    "VIXCLS": SyntheticFred("daily", 2, _vix, "log-OU around a VIX-like path (10..80, spike Oct-Nov 2008)"),
    "DTWEXBGS": SyntheticFred("daily", 4, _dollar, "OU around a broad-dollar-like path, clipped 95..110"),
    "DGS10": SyntheticFred("daily", 2, _dgs10, "OU around a 10y-yield-like path, percent, 1.4..4.5"),
    "DGS2": SyntheticFred("daily", 2, _dgs2, "log-OU around a 2y-yield-like path, percent, 0.15..3.0"),
    "UNRATE": SyntheticFred("monthly", 1, _unrate, "unemployment-like knot path (2009 rise to 10%) + N(0, 0.08)"),
    "GDPC1": SyntheticFred("quarterly", 3, _gdp, "real-GDP-like knot path (~15000, 2008-09 dip) + N(0, 15)"),
}
# Last observation date published before 2013-03-01, by frequency.
LAST_PUBLISHED = {"monthly": pd.Timestamp("2013-01-01"), "quarterly": pd.Timestamp("2012-10-01")}


def build_fred(bundle: Bundle, macro: Mapping[str, dict], real: dict, cal: Calendars) -> None:
    series_ids = sorted({spec["series_id"] for spec in macro.values() if spec.get("source") == "fred"})
    arch_pkg = f"arch=={version('arch')}"
    for series_id in series_ids:
        params = {"series_id": series_id}
        if series_id == "SP500":
            obs = daily_observations(cal.weekdays, real["SP500"], 2)
            bundle.store(
                "fred",
                params,
                fred_body(obs),
                ext="json",
                kind="real",
                origin="arch.data.sp500 (Close); '.' on weekdays without data",
                rows=len(obs),
                package=arch_pkg,
            )
        elif series_id == "DCOILWTICO":
            obs = daily_observations(cal.weekdays, real["DCOILWTICO"], 2)
            bundle.store(
                "fred",
                params,
                fred_body(obs),
                ext="json",
                kind="real",
                origin="arch.data.wti; missing days '.'",
                rows=len(obs),
                package=arch_pkg,
            )
        elif series_id == "CPILFESL":
            cpi = real["CPILFESL"]
            cpi = cpi[cpi.index <= LAST_PUBLISHED["monthly"]]
            obs = first_releases(series_id, [(iso_day(d), "." if pd.isna(v) else fmt(v, 3)) for d, v in cpi.items()])
            bundle.store(
                "fred",
                params,
                alfred_body(obs),
                ext="json",
                kind="synthetic",
                origin=(
                    "ALFRED first releases (output_type=4), synthesised: arch.data.core_cpi (a late vintage, monthly"
                    " from 2006-01-01) + seeded N(0, 0.06) revision noise; released the 15th of the next month"
                    " (next weekday); the real first prints are not available offline"
                ),
                rows=len(obs),
                package=arch_pkg,
            )
        elif series_id in SYNTHETIC_FRED:
            spec = SYNTHETIC_FRED[series_id]
            rng = rng_for(f"fred:{series_id}")
            if spec.frequency == "daily":
                index = cal.weekdays
                values = pd.Series(spec.model(index, rng), index=index)
                values[values.index.isin(cal.holidays)] = np.nan
                obs = daily_observations(cal.weekdays, values, spec.decimals)
                description = f"seeded {spec.description}; weekdays, '.' on NYSE holidays"
            else:
                freq = "MS" if spec.frequency == "monthly" else "QS"
                index = pd.date_range(HISTORY_START, LAST_PUBLISHED[spec.frequency], freq=freq)
                values = spec.model(index, rng)
                obs = [(iso_day(d), fmt(v, spec.decimals)) for d, v in zip(index, values, strict=True)]
                description = f"seeded {spec.description}; {spec.frequency} from 2006-01-01"
            body = fred_body(obs)
            if series_id in REVISED_FRED:
                noise = REVISED_FRED[series_id].noise
                obs = first_releases(series_id, obs)
                body = alfred_body(obs)
                description += (
                    f"; as ALFRED first releases (output_type=4): + seeded N(0, {noise:g}) revision noise, released"
                    " on a plausible calendar (UNRATE the first Friday of the next month, GDPC1 the 28th of the"
                    " month after the quarter)"
                )
            bundle.store("fred", params, body, ext="json", kind="synthetic", origin=description, rows=len(obs))
        else:
            raise SystemExit(f"build_sample_data: no real or synthetic source for FRED series {series_id}")


# --------------------------------------------------------------------------- GDELT


def build_gdelt(bundle: Bundle, assets: list[dict], cal: Calendars) -> None:
    n = len(cal.days)
    stamps = [d.strftime("%Y%m%dT%H%M%SZ") for d in cal.days]
    # Total monitored articles a day: shared by every query.
    rng = rng_for("gdelt:norm")
    trend = np.log(np.linspace(90_000, 150_000, n))
    weekend = np.where(cal.days.dayofweek >= 5, np.log(0.8), 0.0)
    norm = np.clip(np.exp(trend + weekend + ar1(rng, n, phi=0.7, sd=0.08)), 50_000, 200_000).round().astype(int)
    # A market-wide tone factor: darker news in the 2008-09 crisis and Aug 2011.
    crisis = knot_path(
        cal.days,
        [
            ("2008-01-01", -0.3),
            ("2008-09-01", -0.5),
            ("2008-10-15", -1.6),
            ("2009-03-15", -1.2),
            ("2009-09-01", -0.3),
            ("2011-07-20", -0.2),
            ("2011-08-15", -1.0),
            ("2011-11-01", -0.3),
            ("2013-02-28", 0.0),
        ],
    )
    for query in sorted({asset["news_query"] for asset in assets}):
        rng = rng_for(f"gdelt:{query}")
        tone = np.clip(rng.uniform(-1.5, 0.5) + crisis + ar1(rng, n, phi=0.85, sd=0.6), -5.0, 3.0)
        share = rng.uniform(0.001, 0.008) * np.exp(ar1(rng, n, phi=0.9, sd=0.35))
        counts = rng.poisson(norm * share)
        details = {"title": query, "date_resolution": "day"}
        tone_body = {
            "query_details": details,
            "timeline": [
                {
                    "series": "Average Tone",
                    "data": [{"date": s, "value": rnd(v, 4)} for s, v in zip(stamps, tone, strict=True)],
                }
            ],
        }
        vol_body = {
            "query_details": details,
            "timeline": [
                {
                    "series": "Article Count",
                    "data": [
                        {"date": s, "value": int(c), "norm": int(m)}
                        for s, c, m in zip(stamps, counts, norm, strict=True)
                    ],
                }
            ],
        }
        bundle.store(
            "gdelt",
            {"mode": "timelinetone", "query": query},
            compact_json(tone_body),
            ext="json",
            kind="synthetic",
            origin="seeded AR(1) tone + shared crisis factor, clipped -5..3; daily",
            rows=n,
        )
        bundle.store(
            "gdelt",
            {"mode": "timelinevolraw", "query": query},
            compact_json(vol_body),
            ext="json",
            kind="synthetic",
            origin="Poisson(norm x AR(1) lognormal share); norm = shared total ~90k..150k/day; daily",
            rows=n,
        )


# --------------------------------------------------------------------------- Fear & Greed


def fng_class(value: int) -> str:
    if value <= 24:
        return "Extreme Fear"
    if value <= 46:
        return "Fear"
    if value <= 54:
        return "Neutral"
    if value <= 75:
        return "Greed"
    return "Extreme Greed"


def build_fear_greed(bundle: Bundle, assets: list[dict], prices: dict[str, pd.DataFrame], cal: Calendars) -> None:
    crypto = [a["symbol"] for a in assets if a.get("fear_greed")]
    if not crypto:
        return
    rng = rng_for("alternative_me:fng")
    n = len(cal.days)
    close = prices[crypto[0]]["close"].reindex(cal.days).ffill().bfill()
    momentum = np.log(close).diff(30).fillna(0.0).to_numpy() / (0.70 * np.sqrt(30 / 365))
    raw = 50.0 + 28.0 * np.tanh(0.8 * momentum) + ar1(rng, n, phi=0.8, sd=9.0)
    values = np.clip(np.rint(raw), 0, 100).astype(int)
    items = []
    for i in range(n - 1, -1, -1):  # newest first
        item = {
            "value": str(values[i]),
            "value_classification": fng_class(int(values[i])),
            "timestamp": str(unix_seconds(cal.days[i])),
        }
        if i == n - 1:
            next_update = cal.days[i] + pd.Timedelta(days=1)
            item["time_until_update"] = str(max(0, unix_seconds(next_update) - int(FETCHED_AT.timestamp())))
        items.append(item)
    body = {"name": "Fear and Greed Index", "data": items, "metadata": {"error": None}}
    bundle.store(
        "alternative_me",
        {"limit": 0},
        compact_json(body),
        ext="json",
        kind="synthetic",
        origin=f"seeded 50 + 28 tanh(30-day {crypto[0]} momentum) + AR(1) noise, clipped 0..100; daily",
        rows=n,
    )


# --------------------------------------------------------------------------- social


def build_social(bundle: Bundle, assets: list[dict], cal: Calendars) -> None:
    n = len(cal.days)
    per_asset = {}
    for asset in assets:
        symbol = asset["symbol"]
        rng = rng_for(f"social:{symbol}")
        score = np.tanh(rng.uniform(-0.1, 0.2) + ar1(rng, n, phi=0.9, sd=0.35))
        base = rng.uniform(50, 2000)
        growth = np.linspace(np.log(0.3), 0.0, n) if asset["asset_class"] == "crypto" else 0.0
        counts = rng.poisson(base * np.exp(growth + ar1(rng, n, phi=0.8, sd=0.3)))
        per_asset[symbol] = (score, counts)
    lines = ["timestamp,asset_symbol,social_sentiment_score,social_mention_count"]
    for i, day in enumerate(cal.days):
        stamp = day.strftime("%Y-%m-%dT%H:%M:%SZ")
        for asset in assets:
            score, counts = per_asset[asset["symbol"]]
            lines.append(f"{stamp},{asset['symbol']},{fmt(score[i], 4)},{int(counts[i])}")
    body = ("\n".join(lines) + "\n").encode("utf-8")
    bundle.store(
        "social",
        {"feed": "daily"},
        body,
        ext="csv",
        kind="synthetic",
        origin="seeded tanh(AR(1)) score per asset, Poisson mention counts; every asset x calendar day",
        rows=len(lines) - 1,
    )


# --------------------------------------------------------------------------- Google Trends


TRENDS_FETCHES = pd.date_range(WINDOW_START, WINDOW_END, freq="ME")  # the last day of every month, 00:00 UTC
TRENDS_SPAN = pd.DateOffset(years=5)  # Google answers a 5-year range with weekly rows
TRENDS_CRYPTO_GROWTH = np.log(250.0) / ((WINDOW_END - WINDOW_START).days / 365.25)  # log interest per year
TRENDS_SAMPLING_SD = 0.05  # log noise of one download (Google samples the searches anew each time)
TRENDS_PARTIAL_SD = 0.2  # extra log noise of the week still in progress at the fetch


def sunday_on_or_before(day: pd.Timestamp) -> pd.Timestamp:
    return day - pd.Timedelta(days=(day.dayofweek + 1) % 7)


def trends_cells(interest: np.ndarray, rng: np.random.Generator) -> list[str]:
    """One download's cells: sampling noise, the last (partial) week noisier, scaled to max 100, rounded."""
    raw = interest * np.exp(rng.standard_normal(len(interest)) * TRENDS_SAMPLING_SD)
    raw[-1] *= np.exp(rng.standard_normal() * TRENDS_PARTIAL_SD)
    scaled = raw / raw.max() * 100.0
    return ["<1" if v < 0.5 else str(int(np.rint(v))) for v in scaled]


def build_trends(bundle: Bundle, assets: list[dict]) -> None:
    """One weekly download per term at the end of every month, each of the 5 years before its fetch.

    Every download is scaled to its own maximum, as Google scales it, so the same week reads
    differently in two downloads; the week in progress at the fetch is included (partial).
    """
    weeks = pd.date_range(
        sunday_on_or_before(TRENDS_FETCHES[0] - TRENDS_SPAN), sunday_on_or_before(TRENDS_FETCHES[-1]), freq="7D"
    )
    years_to_end = (weeks - WINDOW_END).days.to_numpy(dtype="float64") / 365.25
    for asset in assets:
        query = asset["trends_query"]
        rng = rng_for(f"google_trends:{query}")
        crypto = asset["asset_class"] == "crypto"
        growth = TRENDS_CRYPTO_GROWTH * years_to_end if crypto else 0.0
        interest = np.exp(growth + ar1(rng, len(weeks), phi=0.85, sd=0.25))
        for fetched in TRENDS_FETCHES:
            inside = (weeks >= sunday_on_or_before(fetched - TRENDS_SPAN)) & (weeks <= fetched)
            cells = trends_cells(interest[inside], rng_for(f"google_trends:{query}:{iso_day(fetched)}"))
            lines = ["Category: All categories", "", f"Week,{query}: (Worldwide)"]
            lines += [f"{iso_day(w)},{c}" for w, c in zip(weeks[inside], cells, strict=True)]
            bundle.store(
                "google_trends",
                {"q": query},
                ("\n".join(lines) + "\n").encode("utf-8"),
                ext="csv",
                kind="synthetic",
                origin=(
                    f"a Google Trends download fetched {iso_day(fetched)} (one at the end of every month): the weekly"
                    " rows of the 5 years before, the week in progress included (partial, noisier); one seeded"
                    f" lognormal AR(1) interest path per term{' rising ~250x over the window' if crypto else ''},"
                    f" x seeded per-download sampling noise exp(N(0, {TRENDS_SAMPLING_SD:g})), scaled to this"
                    " download's own maximum = 100 and rounded, '<1' below 0.5"
                ),
                rows=int(inside.sum()),
                fetched_at=fetched.to_pydatetime().replace(tzinfo=UTC),
            )


# --------------------------------------------------------------------------- main


def bundle_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> int:
    universe = yaml.safe_load(UNIVERSE_PATH.read_text(encoding="utf-8"))
    assets: list[dict] = universe["assets"]
    macro: dict[str, dict] = universe["macro"]

    real = load_real()
    cal = calendars(real["IXIC"])

    if LANDING_DIR.exists():
        shutil.rmtree(LANDING_DIR)
    LANDING_DIR.mkdir(parents=True)
    bundle = Bundle(LandingZone(LANDING_DIR), [])

    prices = build_prices(bundle, assets, real, cal)
    build_corporate_actions(bundle, assets, prices)
    build_coingecko(bundle, assets, prices)
    build_fred(bundle, macro, real, cal)
    build_gdelt(bundle, assets, cal)
    build_fear_greed(bundle, assets, prices, cal)
    build_social(bundle, assets, cal)
    build_trends(bundle, assets)

    manifest = {
        "window": {"start": iso_day(WINDOW_START), "end": iso_day(WINDOW_END)},
        "fetched_at": FETCHED_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": GENERATOR,
        "series": sorted(bundle.entries, key=lambda e: str(e["path"])),
    }
    MANIFEST_PATH.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (LANDING_DIR / SAMPLE_MARKER).write_bytes(sample_marker(MANIFEST_PATH))  # copies of the zone carry it

    size = bundle_size(SAMPLE_DIR)
    real_count = sum(e["kind"] == "real" for e in bundle.entries)
    print(
        f"wrote {len(bundle.entries)} files ({real_count} real) to {LANDING_DIR.relative_to(REPO_ROOT)}; "
        f"sample_data is {size:,} bytes"
    )
    if size >= MAX_BUNDLE_BYTES:
        print(f"build_sample_data: sample_data exceeds {MAX_BUNDLE_BYTES:,} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
