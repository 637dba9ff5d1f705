"""The benchmark's synthetic universe: a deterministic landing zone in the real wire formats, and its universe.

Alpha Vantage daily series for crypto, equities, ETFs, FX and gold (XAUUSD, a macro input, always one of the
assets), with empty SPLITS / DIVIDENDS; FRED latest values of every macro series; GDELT tone and volume
timelines; the social feed; Fear & Greed; monthly Google Trends downloads. Classes cycle crypto, equity, fx,
commodity (an ETF), bond; crypto trades every day, the rest on weekdays; news and Trends queries are shared
per class. Used by ``portfolio_assets.bench``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from portfolio_assets import fpmath

PACKAGE = Path(__file__).resolve().parent
CLASSES = ("crypto", "equity", "fx", "commodity", "bond")
FUNCTION = {
    "crypto": "DIGITAL_CURRENCY_DAILY",
    "equity": "TIME_SERIES_DAILY",
    "fx": "FX_DAILY",
    "commodity": "TIME_SERIES_DAILY",
    "bond": "TIME_SERIES_DAILY",
}
SIGMA = {"crypto": 0.7, "equity": 0.25, "fx": 0.1, "commodity": 0.3, "bond": 0.14}
END = pd.Timestamp("2019-12-31")
FETCHED = pd.Timestamp("2020-01-01", tz="UTC")


def window(years: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The partition window: ``years`` whole years ending 2019-12-31."""
    return pd.Timestamp(f"{END.year - years + 1}-01-01"), END


def assets(n: int) -> list[dict]:
    """``n`` universe entries (XAUUSD first: the gold price is a macro input)."""
    out = [
        {
            "symbol": "XAUUSD",
            "asset_class": "commodity",
            "source": "alphavantage",
            "params": {"function": "FX_DAILY", "from_symbol": "XAU", "to_symbol": "USD", "outputsize": "full"},
            "news_query": "bench commodity",
            "trends_query": "bench commodity",
        }
    ]
    for i in range(1, n):
        asset_class = CLASSES[(i - 1) % len(CLASSES)]
        function = FUNCTION[asset_class]
        if function == "DIGITAL_CURRENCY_DAILY":
            symbol, params = f"C{i:04d}-USD", {"function": function, "symbol": f"C{i:04d}", "market": "USD"}
        elif function == "FX_DAILY":
            symbol = f"X{i:04d}USD"
            params = {"function": function, "from_symbol": f"X{i:04d}", "to_symbol": "USD", "outputsize": "full"}
        else:
            symbol, params = f"S{i:04d}", {"function": function, "symbol": f"S{i:04d}", "outputsize": "full"}
        entry = {
            "symbol": symbol,
            "asset_class": asset_class,
            "source": "alphavantage",
            "params": params,
            "news_query": f"bench {asset_class}",
            "trends_query": f"bench {asset_class}",
        }
        if asset_class == "crypto":
            entry["fear_greed"] = True
        out.append(entry)
    return out


def price_frame(index: int, entry: dict, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """The synthetic OHLCV of universe entry ``index`` (crypto every day, the rest on weekdays)."""
    function = entry["params"]["function"]
    crypto = function == "DIGITAL_CURRENCY_DAILY"
    days = pd.date_range(first, last, freq="D" if crypto else "B")
    return ohlcv(
        1000 + index, days, SIGMA[entry["asset_class"]] / np.sqrt(365 if crypto else 252), function != "FX_DAILY"
    )


def ohlcv(seed: int, days: pd.DatetimeIndex, step: float, volume: bool) -> pd.DataFrame:
    """Seeded geometric Brownian motion (``step``: daily log-return sd) with consistent OHLC."""
    rng = np.random.default_rng(seed)
    close = 100.0 * fpmath.exp(np.cumsum(rng.normal(0.0, step, len(days))))
    open_ = close * fpmath.exp(rng.normal(0.0, step / 4, len(days)))
    high = np.maximum(open_, close) * fpmath.exp(np.abs(rng.normal(0.0, step / 3, len(days))))
    low = np.minimum(open_, close) * fpmath.exp(-np.abs(rng.normal(0.0, step / 3, len(days))))
    frame = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=days)
    frame["volume"] = rng.lognormal(14.0, 0.5, len(days)).round() if volume else np.nan
    return frame


def av_body(params: dict, frame: pd.DataFrame) -> bytes:
    """An Alpha Vantage daily success body (newest first), meta data as the API states it."""
    function = params["function"]
    last = frame.index.max().strftime("%Y-%m-%d")
    rows = {}
    for day, o, h, lo, c, v in zip(
        frame.index.strftime("%Y-%m-%d")[::-1],
        *(frame[k].to_numpy()[::-1] for k in ("open", "high", "low", "close", "volume")),
        strict=True,
    ):
        fields = {"1. open": f"{o:.4f}", "2. high": f"{h:.4f}", "3. low": f"{lo:.4f}", "4. close": f"{c:.4f}"}
        if function != "FX_DAILY":
            fields["5. volume"] = f"{int(v)}"
        rows[day] = fields
    if function == "TIME_SERIES_DAILY":
        meta = {"2. Symbol": params["symbol"], "3. Last Refreshed": last, "5. Time Zone": "US/Eastern"}
        key = "Time Series (Daily)"
    elif function == "FX_DAILY":
        meta = {"5. Last Refreshed": f"{last} 16:00:00", "6. Time Zone": "UTC"}
        key = "Time Series FX (Daily)"
    else:
        meta = {"6. Last Refreshed": f"{last} 00:00:00", "7. Time Zone": "UTC"}
        key = "Time Series (Digital Currency Daily)"
    return json.dumps({"Meta Data": meta, key: rows}).encode()


def fred_body(
    observations: list[tuple[str, str]] | list[tuple[str, str, str, str]], *, output_type: int = 1, realtime: str = ""
) -> bytes:
    """A FRED ``series/observations`` JSON body answered on ``realtime`` (default: the benchmark's fetch day).

    ``observations``: ``(date, value)``, each valid over the answer's realtime period, or
    ``(date, value, realtime_start, realtime_end)`` (ALFRED vintages, ``output_type=4``).
    """
    real = realtime or FETCHED.strftime("%Y-%m-%d")
    items = [o if len(o) == 4 else (*o, real, real) for o in observations]
    return json.dumps(
        {
            "realtime_start": real,
            "realtime_end": real,
            "observation_start": "1600-01-01",
            "observation_end": "9999-12-31",
            "units": "lin",
            "output_type": output_type,
            "file_type": "json",
            "order_by": "observation_date",
            "sort_order": "asc",
            "count": len(items),
            "offset": 0,
            "limit": 100000,
            "observations": [
                {"realtime_start": start, "realtime_end": end, "date": d, "value": v} for d, v, start, end in items
            ],
        }
    ).encode()


def write_landing(out: Path, n: int, years: int) -> dict[str, object]:
    """The landing zone and universe of the benchmark under ``out``; returns what was written."""
    from portfolio_assets.landing import LandingZone

    first, last = window(years)
    data_first = first - pd.DateOffset(years=1)  # a year more: year-over-year changes exist at the start
    root = out / "landing"
    if root.exists():
        shutil.rmtree(root)
    zone = LandingZone(root)
    entries = assets(n)
    files = 0
    for i, entry in enumerate(entries):
        frame = price_frame(i, entry, first, last)
        zone.store(
            "alphavantage", _series(entry["params"]), av_body(entry["params"], frame), ext="json", fetched_at=FETCHED
        )
        files += 1
        if entry["params"]["function"] == "TIME_SERIES_DAILY":
            symbol = entry["params"]["symbol"]
            for function in ("SPLITS", "DIVIDENDS"):
                body = json.dumps({"symbol": symbol, "data": []}).encode()
                zone.store(
                    "alphavantage", {"function": function, "symbol": symbol}, body, ext="json", fetched_at=FETCHED
                )
                files += 1
    rng = np.random.default_rng(7)
    weekdays = pd.bdate_range(data_first, last)
    daily = {"SP500": 2000.0, "VIXCLS": 18.0, "DTWEXBGS": 100.0, "DGS10": 3.0, "DGS2": 1.5, "DCOILWTICO": 60.0}
    for series_id, level in daily.items():
        path = level * fpmath.exp(np.cumsum(rng.normal(0.0, 0.01, len(weekdays))))
        obs = [(d.strftime("%Y-%m-%d"), f"{v:.2f}") for d, v in zip(weekdays, path, strict=True)]
        zone.store("fred", {"series_id": series_id}, fred_body(obs), ext="json", fetched_at=FETCHED)
    months = pd.date_range(data_first - pd.DateOffset(months=14), last, freq="MS")
    for series_id, level in {"CPILFESL": 250.0, "UNRATE": 5.0}.items():
        path = level * fpmath.exp(np.cumsum(rng.normal(0.001, 0.003, len(months))))
        zone.store(
            "fred",
            {"series_id": series_id},
            fred_body([(d.strftime("%Y-%m-%d"), f"{v:.3f}") for d, v in zip(months, path, strict=True)]),
            ext="json",
            fetched_at=FETCHED,
        )
    quarters = pd.date_range(data_first - pd.DateOffset(months=6), last, freq="QS")
    gdp = 18000.0 * fpmath.exp(np.cumsum(rng.normal(0.005, 0.005, len(quarters))))
    zone.store(
        "fred",
        {"series_id": "GDPC1"},
        fred_body([(d.strftime("%Y-%m-%d"), f"{v:.3f}") for d, v in zip(quarters, gdp, strict=True)]),
        ext="json",
        fetched_at=FETCHED,
    )
    files += 9
    calendar = pd.date_range(data_first, last, freq="D")
    stamps = calendar.strftime("%Y%m%dT%H%M%SZ")
    for asset_class in sorted({e["asset_class"] for e in entries}):
        query = f"bench {asset_class}"
        tone = np.clip(rng.normal(-0.5, 1.0, len(calendar)), -5, 3)
        counts = rng.poisson(200, len(calendar))
        details = {"title": query, "date_resolution": "day"}
        tone_body = {
            "query_details": details,
            "timeline": [
                {
                    "series": "Average Tone",
                    "data": [{"date": s, "value": round(float(v), 4)} for s, v in zip(stamps, tone, strict=True)],
                }
            ],
        }
        vol_body = {
            "query_details": details,
            "timeline": [
                {
                    "series": "Article Count",
                    "data": [{"date": s, "value": int(c), "norm": 100000} for s, c in zip(stamps, counts, strict=True)],
                }
            ],
        }
        for mode, body in (("timelinetone", tone_body), ("timelinevolraw", vol_body)):
            zone.store(
                "gdelt", {"mode": mode, "query": query}, json.dumps(body).encode(), ext="json", fetched_at=FETCHED
            )
            files += 1
        files += _trends(zone, query, data_first, last, rng)
    lines = ["timestamp,asset_symbol,social_sentiment_score,social_mention_count"]
    scores = rng.uniform(-1, 1, (len(calendar), len(entries)))
    mentions = rng.poisson(300, (len(calendar), len(entries)))
    for i, day in enumerate(calendar.strftime("%Y-%m-%dT%H:%M:%SZ")):
        lines += [f"{day},{e['symbol']},{scores[i, j]:.4f},{mentions[i, j]}" for j, e in enumerate(entries)]
    zone.store("social", {"feed": "daily"}, ("\n".join(lines) + "\n").encode(), ext="csv", fetched_at=FETCHED)
    values = rng.integers(0, 101, len(calendar))
    fng = {
        "name": "Fear and Greed Index",
        "data": [
            {"value": str(int(v)), "value_classification": fng_class(int(v)), "timestamp": str(int(d.timestamp()))}
            for d, v in zip(calendar[::-1], values[::-1], strict=True)
        ],
        "metadata": {"error": None},
    }
    zone.store("alternative_me", {"limit": 0}, json.dumps(fng).encode(), ext="json", fetched_at=FETCHED)
    files += 2
    universe = yaml.safe_load((PACKAGE / "universe.yaml").read_text())
    universe["assets"] = entries
    (out / "universe.yaml").write_text(yaml.safe_dump(universe, sort_keys=False))
    return {"landing_files": files, "first": str(first.date()), "last": str(last.date())}


def fng_class(value: int) -> str:
    """alternative.me's label of a Fear & Greed value."""
    for top, label in ((24, "Extreme Fear"), (46, "Fear"), (54, "Neutral"), (75, "Greed")):
        if value <= top:
            return label
    return "Extreme Greed"


def _series(params: dict) -> dict[str, str]:
    return {k: v for k, v in params.items() if k != "outputsize"}


def _trends(zone, query: str, first: pd.Timestamp, last: pd.Timestamp, rng: np.random.Generator) -> int:
    """Monthly Trends downloads of ``query``: weekly rows of the 5 years before each, scaled to its own maximum."""
    weeks = pd.date_range(first - pd.DateOffset(years=5), last, freq="W-SUN")
    interest = fpmath.exp(np.cumsum(rng.normal(0.0, 0.1, len(weeks))))
    count = 0
    for fetched in pd.date_range(first, last, freq="ME"):
        inside = (weeks > fetched - pd.DateOffset(years=5)) & (weeks <= fetched)
        scaled = interest[inside] / interest[inside].max() * 100
        lines = ["Category: All categories", "", f"Week,{query}: (Worldwide)"]
        lines += [
            f"{w:%Y-%m-%d},{'<1' if v < 0.5 else int(np.rint(v))}" for w, v in zip(weeks[inside], scaled, strict=True)
        ]
        zone.store(
            "google_trends",
            {"q": query},
            ("\n".join(lines) + "\n").encode(),
            ext="csv",
            fetched_at=fetched.tz_localize("UTC"),
        )
        count += 1
    return count
