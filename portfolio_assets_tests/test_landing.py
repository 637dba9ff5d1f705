from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from portfolio_assets.errors import SourceError
from portfolio_assets.landing import LandingZone, parse_series_key, series_key


def test_series_key_is_sorted_encoded_and_reversible():
    params = {"query": "bitcoin OR BTC", "mode": "timelinetone"}
    key = series_key(params)
    assert key == "mode=timelinetone,query=bitcoin%20OR%20BTC"
    assert parse_series_key(key) == params


@pytest.mark.parametrize("secret", ["apikey", "api_key", "APIKEY"])
def test_secrets_never_name_a_file(secret):
    with pytest.raises(ValueError, match="secret") as err:
        series_key({"function": "FX_DAILY", secret: "SHOULD-NOT-LEAK"})
    assert "SHOULD-NOT-LEAK" not in str(err.value)


def test_store_then_read_in_fetch_order(tmp_path):
    zone = LandingZone(tmp_path)
    params = {"series_id": "DGS10"}
    zone.store("fred", params, b"second", ext="json", fetched_at=datetime(2020, 1, 2, tzinfo=UTC))
    zone.store("fred", params, b"first", ext="json", fetched_at=datetime(2020, 1, 1, tzinfo=UTC))
    files = zone.files("fred", params)
    assert [f.read_bytes() for f in files] == [b"first", b"second"]
    assert files[0].fetched_at == datetime(2020, 1, 1, tzinfo=UTC)
    assert files[0].where == "series_id=DGS10/20200101T000000Z.json"
    assert not list((tmp_path / "fred" / "series_id=DGS10").glob(".incoming-*"))


def test_missing_series_is_an_error_naming_source_and_request(tmp_path):
    with pytest.raises(SourceError, match=r"^fred: no stored response for series_id=NOPE"):
        LandingZone(tmp_path).require("fred", {"series_id": "NOPE"})


def test_a_stray_file_name_is_reported(tmp_path):
    folder = tmp_path / "fred" / "series_id=X"
    folder.mkdir(parents=True)
    (folder / "latest.json").write_text("{}")
    with pytest.raises(SourceError, match=r"unexpected file name 'latest\.json'"):
        LandingZone(tmp_path).files("fred", {"series_id": "X"})


# --- file names in a series folder -------------------------------------------

GOOD = "20130301T000000Z"


def _series(root: Path, source: str, ext: str, *names: str) -> Path:
    """A series folder holding one good fetch (``GOOD.<ext>``) and ``names``."""
    folder = root / source / "x=1"
    folder.mkdir(parents=True)
    for name in (f"{GOOD}.{ext}", *names):
        (folder / name).write_text("{}")
    return folder


def _cause(root: Path, source: str) -> str:
    with pytest.raises(SourceError) as err:
        LandingZone(root).files(source, {"x": "1"})
    assert err.value.where == "x=1"
    return err.value.cause


@pytest.mark.parametrize(
    "name",
    [
        "20130302T000000Z.json.bak",  # a backup copy
        "20130302T000000Zjunk.json",  # junk after the timestamp
        "20130302T000000Z.JSON",  # the extension in the wrong case
        "20130302T000000Z.csv",  # another source's extension
        "20130302T000000Z",  # no extension
        "20130302T000000Z.json ",  # trailing space
        "2013032T000000Z.json",  # not zero-padded (strptime read it as 2013-03-02)
        "٢٠١٣٠٣٠٢T000000Z.json",  # non-ASCII digits
        "latest.json",
    ],
)
def test_only_exact_fetch_names_are_read(tmp_path, name):
    _series(tmp_path, "fred", "json", name)
    assert _cause(tmp_path, "fred") == (
        f"unexpected file name {name!r}: a stored fred response must be named <YYYYmmddTHHMMSSZ>.json"
        " (its fetch time in UTC)"
    )


@pytest.mark.parametrize(("source", "ext", "other"), [("social", "csv", "json"), ("google_trends", "csv", "json")])
def test_csv_sources_are_read_as_csv_only(tmp_path, source, ext, other):
    folder = _series(tmp_path, source, ext)
    assert [f.path.name for f in LandingZone(tmp_path).files(source, {"x": "1"})] == [f"{GOOD}.{ext}"]
    (folder / f"20130302T000000Z.{other}").write_text("{}")
    assert _cause(tmp_path, source) == (
        f"unexpected file name '20130302T000000Z.{other}': a stored {source} response must be named"
        f" <YYYYmmddTHHMMSSZ>.{ext} (its fetch time in UTC)"
    )


@pytest.mark.parametrize("name", [".DS_Store", ".20130302T000000Z.json", "._20130302T000000Z.json"])
def test_hidden_files_are_errors_not_skipped(tmp_path, name):
    _series(tmp_path, "gdelt", "json", name)
    assert _cause(tmp_path, "gdelt") == (
        f"unexpected file name {name!r}: a stored gdelt response must be named <YYYYmmddTHHMMSSZ>.json"
        " (its fetch time in UTC); hidden files are not skipped, only the store's in-flight .incoming-* files are"
    )


def test_in_flight_files_of_the_store_are_ignored(tmp_path):
    _series(tmp_path, "fred", "json", ".incoming-k2j3h4")
    assert [f.path.name for f in LandingZone(tmp_path).files("fred", {"x": "1"})] == [f"{GOOD}.json"]


@pytest.mark.parametrize(
    ("stamp", "why"),
    [
        ("20131301T000000Z", "month must be in 1..12"),
        ("20130230T000000Z", "day is out of range for month"),
        ("20130301T240000Z", "hour must be in 0..23"),
        ("20130301T000060Z", "second must be in 0..59"),
    ],
)
def test_impossible_fetch_times_are_errors(tmp_path, stamp, why):
    _series(tmp_path, "alphavantage", "json", f"{stamp}.json")
    assert _cause(tmp_path, "alphavantage") == f"file name '{stamp}.json' is not a valid fetch time: {why}"


@pytest.mark.parametrize("other", [f"{GOOD}.csv", f"{GOOD}.json.bak", f"{GOOD}.JSON"])
def test_one_fetch_instant_has_one_file(tmp_path, other):
    _series(tmp_path, "coingecko", "json", other)
    names = ", ".join(repr(n) for n in sorted([f"{GOOD}.json", other]))
    assert _cause(tmp_path, "coingecko") == (
        f"several files for the fetch at {GOOD}: {names}; a fetch is stored once, as {GOOD}.json"
    )


def test_a_folder_in_a_series_is_an_error(tmp_path):
    folder = _series(tmp_path, "fred", "json")
    (folder / "20130302T000000Z.json").mkdir()
    assert _cause(tmp_path, "fred") == "'20130302T000000Z.json' is not a regular file"


def test_store_names_files_with_the_wire_extension(tmp_path):
    zone = LandingZone(tmp_path)
    assert zone.store("social", {"feed": "daily"}, b"a,b\n", fetched_at=datetime(2020, 1, 1, tzinfo=UTC)).path.name == (
        "20200101T000000Z.csv"
    )
    with pytest.raises(SourceError) as err:
        zone.store("fred", {"series_id": "X"}, b"{}", ext="csv")
    assert str(err.value) == "fred: responses are stored as .json, not .csv"
    assert not (tmp_path / "fred").exists()


def test_an_unknown_source_has_no_wire_format(tmp_path):
    expected = (
        "yahoo: unknown landing-zone source (known: alphavantage, alternative_me, coingecko, fred, gdelt,"
        " google_trends, social)"
    )
    with pytest.raises(SourceError) as err:
        LandingZone(tmp_path).files("yahoo", {"x": "1"})
    assert str(err.value) == expected
    with pytest.raises(SourceError) as err:
        LandingZone(tmp_path).store("yahoo", {"x": "1"}, b"{}", ext="json")
    assert str(err.value) == expected


def test_store_refuses_a_naive_time_and_never_overwrites(tmp_path):
    from datetime import UTC, datetime

    import pytest

    from portfolio_assets.errors import SourceError
    from portfolio_assets.landing import LandingZone

    zone = LandingZone(tmp_path)
    with pytest.raises(ValueError, match="has no time zone"):
        zone.store("alternative_me", {"limit": "0"}, b"{}", fetched_at=datetime(2013, 3, 1, 12))
    moment = datetime(2013, 3, 1, 12, tzinfo=UTC)
    first = zone.store("alternative_me", {"limit": "0"}, b'{"first": 1}', fetched_at=moment)
    with pytest.raises(SourceError, match="already stored; a stored response is never overwritten"):
        zone.store("alternative_me", {"limit": "0"}, b'{"second": 2}', fetched_at=moment.replace(microsecond=5))
    assert first.path.read_bytes() == b'{"first": 1}'
