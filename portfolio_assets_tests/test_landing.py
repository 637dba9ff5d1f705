from __future__ import annotations

from datetime import UTC, datetime

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
