"""Every file in the bundled sample landing zone parses with its source's parser.

Also: a truncated copy of each JSON source's body (the sample's if bundled, else
an inline one) raises ``SourceError`` naming the source, and so does every
strict prefix of the small inline bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.landing import FETCHED_AT_FORMAT, SAMPLE_LANDING_ROOT, parse_series_key
from portfolio_assets.sources import alphavantage, coingecko, fear_greed, fred, gdelt, google_trends, social
from portfolio_assets_tests.sources import (
    test_alphavantage,
    test_coingecko,
    test_fear_greed,
    test_fred,
    test_gdelt,
)


def _fred(body: bytes, *, where: str) -> pd.DataFrame:
    series_id = where.split("/", 1)[0].removeprefix("series_id=")
    parsed = fred.parse_observations(body, where=where, series_id=series_id)
    assert parsed.series_id == series_id
    return parsed.frame


Parser = Callable[..., pd.DataFrame]
# source dir -> (parser, file extension, time column); rows are unique per time (and asset for social)
PARSERS: dict[str, tuple[Parser, str, str]] = {
    alphavantage.SOURCE: (alphavantage.parse_daily, "json", "timestamp"),
    fred.SOURCE: (_fred, "json", "observation_date"),
    gdelt.SOURCE: (gdelt.parse_timeline, "json", "timestamp"),
    coingecko.SOURCE: (coingecko.parse_market_chart, "json", "timestamp"),
    fear_greed.SOURCE: (fear_greed.parse_fng, "json", "timestamp"),
    social.SOURCE: (social.parse_social_csv, "csv", "timestamp"),
    google_trends.SOURCE: (google_trends.parse_trends_csv, "csv", "period_start"),
}
INLINE_JSON = {
    alphavantage.SOURCE: test_alphavantage.DAILY,
    fred.SOURCE: test_fred.BODY,
    gdelt.SOURCE: test_gdelt.VOLRAW,
    coingecko.SOURCE: test_coingecko.BODY,
    fear_greed.SOURCE: test_fear_greed.BODY,
}


def _sample_files() -> list[Path]:
    if not SAMPLE_LANDING_ROOT.is_dir():
        return []
    return sorted(p for p in SAMPLE_LANDING_ROOT.glob("*/*/*") if p.is_file() and p.suffix in (".json", ".csv"))


def _params() -> list[object]:
    files = _sample_files()
    if not files:
        return [pytest.param(None, id="no-sample-bundle")]
    return [pytest.param(path, id=f"{path.parent.parent.name}/{path.parent.name}/{path.name}") for path in files]


def _where(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("path", _params())
def test_sample_file_parses(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"sample landing zone {SAMPLE_LANDING_ROOT} does not exist yet")
    source = path.parent.parent.name
    assert source in PARSERS, f"no parser for landing-zone source {source!r}"
    parse, ext, time_column = PARSERS[source]
    assert path.suffix == f".{ext}", f"{source} files should be .{ext}"
    parse_series_key(path.parent.name)  # the folder is a valid series key
    fetched = datetime.strptime(path.name.split(".", 1)[0], FETCHED_AT_FORMAT).replace(tzinfo=UTC)

    frame = parse(path.read_bytes(), where=_where(path))

    assert not frame.empty, f"{_where(path)} parsed to an empty frame"
    assert frame[time_column].is_monotonic_increasing
    assert not frame.duplicated(subset=[time_column, *(["asset_symbol"] if source == social.SOURCE else [])]).any()
    # nothing in a response can be dated after it was fetched (no look-ahead in the sample)
    assert frame[time_column].max() <= pd.Timestamp(fetched)


def test_sample_covers_every_parser() -> None:
    files = _sample_files()
    if not files:
        pytest.skip(f"sample landing zone {SAMPLE_LANDING_ROOT} does not exist yet")
    assert {path.parent.parent.name for path in files} == set(PARSERS)


def _truncation_params() -> list[object]:
    bundled = {path.parent.parent.name: path for path in reversed(_sample_files())}
    params = []
    for source in INLINE_JSON:
        params.append(pytest.param(source, INLINE_JSON[source].encode(), id=f"{source}-inline"))
        if source in bundled:
            params.append(pytest.param(source, bundled[source].read_bytes(), id=f"{source}-sample"))
    return params


@pytest.mark.parametrize("source, body", _truncation_params())
def test_truncated_json_names_the_source(source: str, body: bytes) -> None:
    parse = PARSERS[source][0]
    with pytest.raises(SourceError, match=rf"^{source} \[x/20130301T000000Z.json\]: truncated JSON") as info:
        parse(body[: len(body) // 2], where="x/20130301T000000Z.json")
    assert info.value.source == source


@pytest.mark.parametrize("source", INLINE_JSON)
def test_every_prefix_of_a_json_body_raises_source_error(source: str) -> None:
    parse = PARSERS[source][0]
    body = INLINE_JSON[source].strip()
    for cut in range(len(body)):
        with pytest.raises(SourceError) as info:
            parse(body[:cut], where="x/y.json")
        assert info.value.source == source
        assert str(info.value).startswith(f"{source} [x/y.json]: ")
