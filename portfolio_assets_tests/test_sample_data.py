"""The bundled offline sample (``portfolio_assets/sample_data``) is complete, intact and consistent.

Reads the landing zone with json / csv only, independent of the source parsers.
Rebuild the bundle with ``python scripts/build_sample_data.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from portfolio_assets.landing import series_key

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "portfolio_assets"
SAMPLE_DIR = PACKAGE_DIR / "sample_data"
LANDING_DIR = SAMPLE_DIR / "landing"
MANIFEST_PATH = SAMPLE_DIR / "manifest.json"
FETCHED = "20130301T000000Z"
# Google Trends: one download per term at the end of every month (00:00 UTC of its last day)
TRENDS_FETCHED = [
    (date(2008 + (m + 1) // 12, (m + 1) % 12 + 1, 1) - timedelta(days=1)).strftime("%Y%m%dT000000Z") for m in range(62)
]
WINDOW_START, WINDOW_END = date(2008, 1, 1), date(2013, 2, 28)
MAX_BUNDLE_BYTES = 10_000_000

UNIVERSE = yaml.safe_load((PACKAGE_DIR / "universe.yaml").read_text(encoding="utf-8"))
ASSETS = UNIVERSE["assets"]
FRED_MACRO = {spec["series_id"]: spec for spec in UNIVERSE["macro"].values() if spec["source"] == "fred"}
REAL_SERIES = {
    ("alphavantage", "function=TIME_SERIES_DAILY,symbol=GOOG"),
    ("alphavantage", "function=TIME_SERIES_DAILY,symbol=IXIC"),
    ("fred", "series_id=SP500"),
    ("fred", "series_id=DCOILWTICO"),
}
AV_SERIES_KEYS = {
    "TIME_SERIES_DAILY": "Time Series (Daily)",
    "FX_DAILY": "Time Series FX (Daily)",
    "DIGITAL_CURRENCY_DAILY": "Time Series (Digital Currency Daily)",
}
ROWS_PER_YEAR = {"daily": 250, "weekly": 52, "monthly": 12, "quarterly": 4}


def landed(source: str, params: dict, ext: str = "json") -> Path:
    return LANDING_DIR / source / series_key(params) / f"{FETCHED}.{ext}"


def av_params(asset: dict) -> dict:
    return {k: v for k, v in asset["params"].items() if k != "outputsize"}


def av_rows(asset: dict) -> dict[str, dict[str, str]]:
    body = json.loads(landed("alphavantage", av_params(asset)).read_text(encoding="utf-8"))
    assert "Meta Data" in body
    return body[AV_SERIES_KEYS[asset["params"]["function"]]]


def day(text: str) -> date:
    return date.fromisoformat(text[:10])


def utc_day(seconds: float) -> date:
    return datetime.fromtimestamp(seconds, tz=UTC).date()


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- manifest


def test_manifest_header(manifest: dict) -> None:
    assert manifest["window"] == {"start": "2008-01-01", "end": "2013-02-28"}
    assert manifest["fetched_at"] == "2013-03-01T00:00:00Z"
    assert manifest["generator"] == "scripts/build_sample_data.py"


def test_manifest_lists_exactly_the_files_on_disk(manifest: dict) -> None:
    listed = [entry["path"] for entry in manifest["series"]]
    assert listed == sorted(listed), "manifest series must be sorted by path"
    assert len(listed) == len(set(listed))
    on_disk = {p.relative_to(SAMPLE_DIR).as_posix() for p in LANDING_DIR.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"landing/_sample.json"}  # the marker names the manifest, not a series


def test_manifest_checksums_match(manifest: dict) -> None:
    for entry in manifest["series"]:
        data = (SAMPLE_DIR / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]


def test_manifest_entries_are_well_formed(manifest: dict) -> None:
    for entry in manifest["series"]:
        source, key, name = Path(entry["path"]).parts[1:]
        assert entry["source"] == source
        assert entry["series_key"] == key
        fetched = TRENDS_FETCHED if source == "google_trends" else [FETCHED]
        assert name.split(".")[0] in fetched, entry["path"]
        assert entry["kind"] in {"real", "synthetic"}
        assert entry["origin"].strip()
        # a corporate-action list may be empty (a valid "none"); every other file has rows
        assert isinstance(entry["rows"], int) and (entry["rows"] > 0 or is_corporate_action(entry)), entry
    real = {(e["source"], e["series_key"]) for e in manifest["series"] if e["kind"] == "real"}
    assert real == REAL_SERIES
    for entry in manifest["series"]:
        if entry["kind"] == "real":
            assert entry["origin"].startswith(("arch.data.", "backtesting.test.")), entry
            assert entry["package"].startswith(("arch==", "backtesting==")), entry


def test_bundle_is_under_10_mb() -> None:
    size = sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file())
    assert size < MAX_BUNDLE_BYTES


# --------------------------------------------------------------------------- completeness


@pytest.mark.parametrize("asset", ASSETS, ids=[a["symbol"] for a in ASSETS])
def test_every_asset_has_its_files(asset: dict) -> None:
    assert landed("alphavantage", av_params(asset)).is_file()
    for mode in ("timelinetone", "timelinevolraw"):
        assert landed("gdelt", {"mode": mode, "query": asset["news_query"]}).is_file()
    trends = LANDING_DIR / "google_trends" / series_key({"q": asset["trends_query"]})
    assert sorted(p.name for p in trends.iterdir()) == [f"{stamp}.csv" for stamp in TRENDS_FETCHED]
    if asset.get("coingecko_id"):
        assert landed("coingecko", {"id": asset["coingecko_id"], "vs_currency": "usd"}).is_file()
    if asset.get("fear_greed"):
        assert landed("alternative_me", {"limit": 0}).is_file()
    social = landed("social", {"feed": "daily"}, "csv").read_text(encoding="utf-8")
    assert f",{asset['symbol']}," in social


@pytest.mark.parametrize("series_id", sorted(FRED_MACRO))
def test_every_fred_macro_series_has_its_file(series_id: str) -> None:
    body = json.loads(landed("fred", {"series_id": series_id}).read_text(encoding="utf-8"))
    observations = body["observations"]
    assert body["count"] == len(observations) > 0
    dates = [obs["date"] for obs in observations]
    assert dates == sorted(dates)
    for obs in observations:
        assert isinstance(obs["value"], str)
        assert obs["value"] == "." or float(obs["value"]) > 0
    frequency = FRED_MACRO[series_id]["frequency"]
    if frequency == "daily":
        assert {day(d).weekday() for d in dates} <= {0, 1, 2, 3, 4}
        assert day(dates[0]) == WINDOW_START and day(dates[-1]) == WINDOW_END
    else:  # history for year-over-year / quarter-over-quarter changes at the window start
        assert day(dates[0]) <= date(2007, 1, 1)
        assert day(dates[-1]) < WINDOW_END


# --------------------------------------------------------------------------- prices


@pytest.mark.parametrize("asset", ASSETS, ids=[a["symbol"] for a in ASSETS])
def test_price_series_are_ohlc_consistent(asset: dict) -> None:
    rows = av_rows(asset)
    assert rows
    for when, values in rows.items():
        o, h, low, c = (float(values[k]) for k in ("1. open", "2. high", "3. low", "4. close"))
        assert min(o, h, low, c) > 0, when
        assert h >= max(o, c), when
        assert low <= min(o, c), when
        assert WINDOW_START <= day(when) <= WINDOW_END, when
        if asset["params"]["function"] == "TIME_SERIES_DAILY":
            assert values["5. volume"].isdigit(), when
        elif asset["params"]["function"] == "FX_DAILY":
            assert "5. volume" not in values, when


@pytest.mark.parametrize("asset", [a for a in ASSETS if a.get("coingecko_id")], ids=lambda a: a["symbol"])
def test_coingecko_agrees_with_alpha_vantage(asset: dict) -> None:
    closes = {day(d): float(v["4. close"]) for d, v in av_rows(asset).items()}
    body = json.loads(landed("coingecko", {"id": asset["coingecko_id"], "vs_currency": "usd"}).read_text())
    assert len(body["prices"]) == len(body["market_caps"]) == len(body["total_volumes"]) == len(closes)
    for ms, price in body["prices"]:
        assert ms % 86_400_000 == 0
        close = closes[utc_day(ms / 1000) - timedelta(days=1)]  # stamped D+1 00:00 = close of D
        assert abs(price / close - 1) <= 0.003


# --------------------------------------------------------------------------- sentiment formats


def test_fear_greed_format() -> None:
    body = json.loads(landed("alternative_me", {"limit": 0}).read_text(encoding="utf-8"))
    assert body["name"] == "Fear and Greed Index" and body["metadata"] == {"error": None}
    items = body["data"]
    stamps = [int(item["timestamp"]) for item in items]
    assert stamps == sorted(stamps, reverse=True)
    assert "time_until_update" in items[0]
    assert all("time_until_update" not in item for item in items[1:])
    bands = [(24, "Extreme Fear"), (46, "Fear"), (54, "Neutral"), (75, "Greed"), (100, "Extreme Greed")]
    for item in items:
        value = int(item["value"])
        assert 0 <= value <= 100
        assert item["value_classification"] == next(label for top, label in bands if value <= top)


def test_social_feed_covers_every_asset_and_day() -> None:
    text = landed("social", {"feed": "daily"}, "csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == "timestamp,asset_symbol,social_sentiment_score,social_mention_count"
    n_days = (WINDOW_END - WINDOW_START).days + 1
    assert len(rows) == n_days * len(ASSETS)
    assert {(r["timestamp"], r["asset_symbol"]) for r in rows} == {
        ((WINDOW_START + timedelta(days=i)).strftime("%Y-%m-%dT00:00:00Z"), a["symbol"])
        for i in range(n_days)
        for a in ASSETS
    }
    for r in rows:
        assert -1.0 <= float(r["social_sentiment_score"]) <= 1.0
        assert r["social_mention_count"].isdigit()


def trends_cells(path: Path) -> tuple[list[str], list[date], list[str]]:
    """(first three lines, week starts, values) of one Trends download."""
    lines = path.read_text(encoding="utf-8").splitlines()
    weeks, values = zip(*(line.split(",") for line in lines[3:]), strict=True)
    return lines[:3], [day(w) for w in weeks], list(values)


@pytest.mark.parametrize("asset", ASSETS, ids=[a["symbol"] for a in ASSETS])
def test_google_trends_downloads_cover_the_5_years_before_each_fetch(asset: dict) -> None:
    folder = LANDING_DIR / "google_trends" / series_key({"q": asset["trends_query"]})
    below_one = 0
    for path in sorted(folder.iterdir()):
        fetched = datetime.strptime(path.stem, "%Y%m%dT%H%M%SZ").date()
        head, weeks, values = trends_cells(path)
        assert head == ["Category: All categories", "", f"Week,{asset['trends_query']}: (Worldwide)"]
        assert all(w.weekday() == 6 for w in weeks), path.name  # weeks start on Sunday
        assert weeks == [weeks[0] + timedelta(days=7 * i) for i in range(len(weeks))], path.name
        leap_day = (fetched.month, fetched.day) == (2, 29)
        five_years_before = date(fetched.year - 5, fetched.month, 28 if leap_day else fetched.day)
        assert weeks[0] <= five_years_before < weeks[0] + timedelta(days=7), path.name
        assert weeks[-1] <= fetched < weeks[-1] + timedelta(days=7), path.name  # the week in progress
        assert max(int(v) for v in values if v != "<1") == 100, path.name  # scaled to its own maximum
        assert all(v == "<1" or 0 <= int(v) <= 100 for v in values), path.name
        below_one += values.count("<1")
    if asset["asset_class"] == "crypto":
        assert below_one > 0  # early interest of a rising term is below one


def test_google_trends_downloads_rescale_the_same_weeks() -> None:
    """Later downloads hold the same weeks at another scale, as Google's do: what the score must not mix."""
    folder = LANDING_DIR / "google_trends" / series_key({"q": "bitcoin"})
    _, weeks_a, values_a = trends_cells(folder / "20100131T000000Z.csv")
    _, weeks_b, values_b = trends_cells(folder / "20120131T000000Z.csv")
    shared = set(weeks_a) & set(weeks_b)
    a = {w: v for w, v in zip(weeks_a, values_a, strict=True) if w in shared and v != "<1"}
    b = {w: v for w, v in zip(weeks_b, values_b, strict=True) if w in shared and v != "<1"}
    assert len(shared) > 52
    assert sum(int(b[w]) for w in a.keys() & b.keys()) < sum(int(a[w]) for w in a.keys() & b.keys()) / 2


# --------------------------------------------------------------------------- coverage


def series_dates(entry: dict) -> tuple[str, list[date]]:
    """(frequency, dates with a value) of one landed file."""
    path = SAMPLE_DIR / entry["path"]
    source = entry["source"]
    if source in {"google_trends", "social"}:
        text = path.read_text(encoding="utf-8")
        if source == "social":
            return "daily", sorted({day(r["timestamp"]) for r in csv.DictReader(io.StringIO(text))})
        return "weekly", [day(line.split(",")[0]) for line in text.splitlines()[3:]]
    body = json.loads(path.read_text(encoding="utf-8"))
    if source == "alphavantage":
        (key,) = (k for k in body if k != "Meta Data")
        return "daily", sorted(day(d) for d in body[key])
    if source == "fred":
        series_id = entry["series_key"].split("=", 1)[1]
        dates = [day(o["date"]) for o in body["observations"] if o["value"] != "."]
        return FRED_MACRO[series_id]["frequency"], dates
    if source == "gdelt":
        return "daily", [datetime.strptime(p["date"], "%Y%m%dT%H%M%SZ").date() for p in body["timeline"][0]["data"]]
    if source == "coingecko":
        return "daily", [utc_day(ms / 1000) for ms, _ in body["prices"]]
    if source == "alternative_me":
        return "daily", [utc_day(int(item["timestamp"])) for item in body["data"]]
    raise AssertionError(f"unexpected source {source}")


def is_corporate_action(entry: dict) -> bool:
    """An Alpha Vantage SPLITS / DIVIDENDS list (events, not a daily series)."""
    key = entry["series_key"]
    return entry["source"] == "alphavantage" and key.startswith(("function=SPLITS,", "function=DIVIDENDS,"))


def test_corporate_actions_of_every_equity_and_etf(manifest: dict) -> None:
    """Each TIME_SERIES_DAILY asset has both lists, synthetic; only TLT has events (a split, quarterly dividends)."""
    symbols = [a["params"]["symbol"] for a in ASSETS if a["params"]["function"] == "TIME_SERIES_DAILY"]
    entries = {e["series_key"]: e for e in manifest["series"] if is_corporate_action(e)}
    assert set(entries) == {f"function={f},symbol={s}" for f in ("SPLITS", "DIVIDENDS") for s in symbols}
    assert all(e["kind"] == "synthetic" for e in entries.values())
    assert {k: e["rows"] for k, e in entries.items() if e["rows"]} == {
        "function=SPLITS,symbol=TLT": 1,
        "function=DIVIDENDS,symbol=TLT": 20,
    }
    tlt = json.loads((SAMPLE_DIR / entries["function=SPLITS,symbol=TLT"]["path"]).read_text(encoding="utf-8"))
    assert tlt["data"] == [{"effective_date": "2010-06-15", "split_factor": "2.0000"}]


def test_every_series_has_two_years_inside_2009_to_2012(manifest: dict) -> None:
    """Each file; for Google Trends each term's newest download (every download covers the 5 years before it)."""
    lo, hi = date(2009, 1, 1), date(2012, 12, 1)
    newest = {e["series_key"]: e["path"] for e in manifest["series"] if e["source"] == "google_trends"}
    for entry in manifest["series"]:
        if entry["source"] == "google_trends" and entry["path"] != newest[entry["series_key"]]:
            continue
        if is_corporate_action(entry):
            continue
        frequency, dates = series_dates(entry)
        inside = sorted(d for d in dates if lo < d < hi)
        assert inside, entry["path"]
        assert (inside[-1] - inside[0]).days >= 2 * 365, entry["path"]
        assert len(inside) >= 2 * ROWS_PER_YEAR[frequency], entry["path"]


def test_a_copy_of_the_sample_landing_zone_still_says_which_series_are_synthetic(tmp_path):
    """Found: a copy of the sample's landing zone (another directory, S3) exported synthetic series as real."""
    import shutil

    from portfolio_assets.assets.export_meta import sources_provenance
    from portfolio_assets.export.provenance import SAMPLE_MARKER, sample_marker, sample_sources
    from portfolio_assets.landing import SAMPLE_LANDING_ROOT
    from portfolio_assets.resources import LandingZoneResource

    assert (SAMPLE_LANDING_ROOT / SAMPLE_MARKER).read_bytes() == sample_marker()  # current with the manifest
    copy = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING_ROOT, copy)
    assert sources_provenance(LandingZoneResource(root=str(copy))) == sample_sources()
    (copy / SAMPLE_MARKER).write_text('{"sample_manifest_sha256": "another sample"}\n')
    assert "landing_zone" in sources_provenance(LandingZoneResource(root=str(copy)))  # not this sample: live
    (copy / SAMPLE_MARKER).unlink()
    assert not LandingZoneResource(root=str(copy)).holds_sample()
