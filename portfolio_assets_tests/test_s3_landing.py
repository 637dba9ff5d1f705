"""The landing zone on an S3-compatible server (moto on loopback): replay through the mirror, whole uploads."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portfolio_assets.clients.store import FetchRecord, ResponseStore
from portfolio_assets.errors import SourceError
from portfolio_assets.landing import SAMPLE_LANDING_ROOT, LandingZone, parse_series_key
from portfolio_assets.objectstore import S3Location, S3Options
from portfolio_assets.s3landing import S3LandingZone

SERIES = "from_symbol=EUR,function=FX_DAILY,to_symbol=USD"
PARAMS = parse_series_key(SERIES)


def upload_tree(location: S3Location, root: Path) -> int:
    """Upload every file under ``root`` to ``location`` with the same relative names; return how many."""
    files = [p for p in sorted(root.rglob("*")) if p.is_file()]
    for path in files:
        location.upload(path.relative_to(root).as_posix(), path)
    return len(files)


def other_machine(location: S3Location, cache: Path) -> S3Location:
    """The same objects seen from another cache (another machine)."""
    options = S3Options(endpoint_url=location.options.endpoint_url, region="us-east-1", cache_dir=str(cache))
    return S3Location(location.bucket, location.key, options)


@pytest.fixture
def landing(s3_bucket):
    location = s3_bucket / "landing"
    upload_tree(location / "alphavantage" / SERIES, SAMPLE_LANDING_ROOT / "alphavantage" / SERIES)
    return location


def test_replay_reads_the_objects_as_the_local_zone_reads_the_files(landing):
    zone = LandingZone(landing)
    assert isinstance(zone, S3LandingZone)
    local = LandingZone(SAMPLE_LANDING_ROOT).files("alphavantage", PARAMS)
    found = zone.files("alphavantage", PARAMS)
    assert [(f.path.name, f.fetched_at, f.read_bytes()) for f in found] == [
        (f.path.name, f.fetched_at, f.read_bytes()) for f in local
    ]
    assert zone.files("alphavantage", {"function": "FX_DAILY", "from_symbol": "NOPE"}) == []
    # The naming rules hold for objects too: a stray object in a series is an error naming it.
    landing.put(f"alphavantage/{SERIES}/notes.json.bak", b"{}")
    with pytest.raises(SourceError, match=r"unexpected file name 'notes.json.bak'"):
        zone.files("alphavantage", PARAMS)
    landing.delete([f"alphavantage/{SERIES}/notes.json.bak"])
    assert len(zone.files("alphavantage", PARAMS)) == len(local)  # the mirror follows the objects


def test_a_stored_response_is_uploaded_whole_under_its_final_name_once(landing, tmp_path):
    zone = LandingZone(landing)
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    landed = zone.store("alphavantage", PARAMS, b'{"ok": 1}', fetched_at=moment)
    assert landing.get(f"alphavantage/{SERIES}/20300102T030405Z.json") == b'{"ok": 1}'
    assert landed.read_bytes() == b'{"ok": 1}'
    # Another machine (an empty mirror) sees it, and refuses to store the same instant again.
    elsewhere = LandingZone(other_machine(landing, tmp_path / "elsewhere"))
    assert elsewhere.files("alphavantage", PARAMS)[-1].fetched_at == moment
    with pytest.raises(SourceError, match="is already stored; a stored response is never overwritten"):
        elsewhere.store("alphavantage", PARAMS, b"{}", fetched_at=moment)
    assert landing.get(f"alphavantage/{SERIES}/20300102T030405Z.json") == b'{"ok": 1}'


def test_live_fetches_stage_accept_refuse_and_record_on_s3(landing, tmp_path):
    store = ResponseStore(landing)
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    staged = store.stage("alphavantage", PARAMS, b'{"body": 1}', moment)
    assert f"_pending/alphavantage/{SERIES}/20300102T030405Z.json" in landing.list("_pending")
    accepted = store.accept(staged, "alphavantage", PARAMS)
    assert landing.list("_pending") == {}  # moved: the pending object is withdrawn after the final one is up
    assert landing.get(f"alphavantage/{SERIES}/{accepted.path.name}") == b'{"body": 1}'
    record = FetchRecord(fetched_at=moment, file=accepted.path.name, since=None, through=None, rows=3)
    store.write_record("alphavantage", PARAMS, record)
    later = datetime(2030, 1, 2, 3, 4, 6, tzinfo=UTC)
    body = store.refuse("alphavantage", PARAMS, later, {"error": "HTML page"}, body=b"<html>")
    failed = sorted(landing.list("_failed"))
    assert failed == sorted(
        [f"_failed/alphavantage/{SERIES}/{body.name}", f"_failed/alphavantage/{SERIES}/{body.stem}.error.json"]
    )
    # Another machine's store finds the record of the accepted response (and so its coverage).
    elsewhere = ResponseStore(other_machine(landing, tmp_path / "elsewhere"))
    assert [r.rows for r in elsewhere.records("alphavantage", PARAMS)] == [3]


def test_a_body_a_dead_fetch_left_pending_is_recovered_into_failed(landing, tmp_path):
    landing.put(f"_pending/alphavantage/{SERIES}/20300102T030405Z.json", b"half")
    store = ResponseStore(other_machine(landing, tmp_path / "elsewhere"))
    assert store.recover_pending(older_than=3600.0) == []  # just written: its fetch may still be running
    moved = store.recover_pending(older_than=3600.0, now=time.time() + 7200)
    assert [p.name for p in moved] == ["20300102T030405Z.json"]
    assert landing.list("_pending") == {}
    error = json.loads(landing.get(f"_failed/alphavantage/{SERIES}/20300102T030405Z.error.json"))
    assert "stopped before its parse finished" in error["error"]
    assert not any(
        name.startswith(".incoming-") for name in os.listdir(store.root / "_failed" / "alphavantage" / SERIES)
    )


def test_an_accepted_body_is_uploaded_before_it_takes_its_final_local_name(landing, monkeypatch):
    """Another process mirroring the series folder removes local files that are not objects: a body is
    uploaded from its staged file first, so its final local name never exists before its object does."""
    store = ResponseStore(landing)
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    staged = store.stage("alphavantage", PARAMS, b'{"body": 2}', moment)
    final = store.zone.series_dir("alphavantage", PARAMS) / staged.name
    seen = []
    real = S3Location.upload

    def upload(self, relative, path):
        if relative.endswith(staged.name) and not relative.startswith("_"):
            seen.append(final.exists())
        return real(self, relative, path)

    monkeypatch.setattr(S3Location, "upload", upload)
    store.accept(staged, "alphavantage", PARAMS)
    assert seen == [False] and final.read_bytes() == b'{"body": 2}'
