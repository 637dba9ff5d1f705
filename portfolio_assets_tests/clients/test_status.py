"""The fetch-status ledger: failures per series and days, cleared only by a fetch that covers them."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio_assets.clients.status import SeriesStatus, excluded_assets, read_status, record_status

JAN = (date(2012, 1, 1), date(2012, 1, 31))
FEB = (date(2012, 2, 1), date(2012, 2, 29))


def failure(series: str, days: tuple[date, date], owners=("TLT",), excludes=True) -> SeriesStatus:
    return SeriesStatus(series, False, *days, owners=owners, excludes=excludes, error=f"gdelt [{series}]: boom")


def success(series: str, days: tuple[date, date]) -> SeriesStatus:
    return SeriesStatus(series, True, *days)


def test_a_failure_excludes_its_owners_only_over_the_days_it_covers(tmp_path):
    record_status(tmp_path, "gdelt", [failure("q=bonds", JAN), failure("q=btc", JAN, excludes=False)])
    assert list(excluded_assets(tmp_path, ["TLT", "GOOG"], ["gdelt"], *JAN)) == ["TLT"]
    assert excluded_assets(tmp_path, ["TLT"], ["gdelt"], *FEB) == {}
    assert excluded_assets(tmp_path, ["TLT"], ["alphavantage"], *JAN) == {}
    why = excluded_assets(tmp_path, ["TLT"], ["gdelt"])["TLT"]
    assert why.startswith("gdelt [q=bonds]: boom (failed at ") and "2012-01-01..2012-01-31" in why


def test_only_a_fetch_covering_the_failed_days_clears_it(tmp_path):
    record_status(tmp_path, "gdelt", [failure("q=bonds", JAN)])
    record_status(tmp_path, "gdelt", [success("q=bonds", FEB)])  # another range: January is still missing
    assert "q=bonds" in read_status(tmp_path, "gdelt")
    record_status(tmp_path, "gdelt", [success("q=bonds", (date(2011, 12, 1), date(2012, 2, 1)))])
    assert read_status(tmp_path, "gdelt") == {}


def test_series_no_longer_planned_are_dropped(tmp_path):
    record_status(tmp_path, "gdelt", [failure("q=old", JAN), failure("q=bonds", JAN)])
    record_status(tmp_path, "gdelt", [], planned={"q=bonds"})
    assert list(read_status(tmp_path, "gdelt")) == ["q=bonds"]


def test_a_damaged_ledger_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "_fetch_status" / "gdelt.json"
    path.parent.mkdir()
    path.write_text('{"q=bonds": {"owners": []}}')
    with pytest.raises(ValueError, match=r"gdelt\.json: unreadable fetch-status ledger .*re-run"):
        read_status(tmp_path, "gdelt")
