"""Every setting is checked when the definitions load, and a bad one names its variable and the cause."""

from __future__ import annotations

from datetime import date

import pytest
from dagster import EnvVar

from portfolio_assets.definitions import local_resources
from portfolio_assets.settings import SettingError, Window, read_window

BAD_VALUES = [
    ("PORTFOLIO_CONTEXT_WINDOW", "100000", "PORTFOLIO_CONTEXT_WINDOW='100000' must be between 1 and 60"),
    ("PORTFOLIO_CONTEXT_WINDOW", "-5", "PORTFOLIO_CONTEXT_WINDOW='-5' must be between 1 and 60"),
    ("PORTFOLIO_CONTEXT_WINDOW", "thirty", "PORTFOLIO_CONTEXT_WINDOW='thirty' is not a whole number"),
    ("PORTFOLIO_CONTEXT_WINDOW", "3_0", "PORTFOLIO_CONTEXT_WINDOW='3_0' is not a whole number"),
    ("PORTFOLIO_EMBARGO_DAYS", "-1", "PORTFOLIO_EMBARGO_DAYS='-1' must be between 0 and 365"),
    ("PORTFOLIO_PROMPT_FORMAT", "xml", "PORTFOLIO_PROMPT_FORMAT='xml' must be one of features, timeseries, chat"),
    ("PORTFOLIO_SHARD_BY", "week", "PORTFOLIO_SHARD_BY='week' must be one of year, quarter, month"),
    ("PORTFOLIO_DATA_DIR", "", "PORTFOLIO_DATA_DIR is set but empty; unset it to use the default"),
    ("PORTFOLIO_DATA_DIR", "   ", "PORTFOLIO_DATA_DIR is set but empty; unset it to use the default"),
    (
        "PORTFOLIO_LANDING_DIR",
        "/no/such/landing",
        "PORTFOLIO_LANDING_DIR='/no/such/landing' '/no/such/landing': no such directory",
    ),
    (
        "PORTFOLIO_UNIVERSE_FILE",
        "/no/such.yaml",
        "PORTFOLIO_UNIVERSE_FILE='/no/such.yaml' '/no/such.yaml': no such file",
    ),
    (
        "PORTFOLIO_VALIDATION_START",
        "2012-13-01",
        "PORTFOLIO_VALIDATION_START='2012-13-01' is not a day written YYYY-MM-DD",
    ),
]


@pytest.mark.parametrize(("variable", "value", "message"), BAD_VALUES)
def test_a_bad_setting_fails_when_the_definitions_load(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    if variable == "PORTFOLIO_VALIDATION_START":
        monkeypatch.setenv("PORTFOLIO_TEST_START", "2012-06-01")
    with pytest.raises(SettingError) as raised:
        local_resources()
    assert str(raised.value) == message


def test_split_boundaries_come_both_or_neither_and_in_order(monkeypatch):
    monkeypatch.setenv("PORTFOLIO_VALIDATION_START", "2012-01-01")
    with pytest.raises(SettingError, match="set both PORTFOLIO_VALIDATION_START and PORTFOLIO_TEST_START"):
        local_resources()
    monkeypatch.setenv("PORTFOLIO_TEST_START", "2011-01-01")
    with pytest.raises(SettingError, match="PORTFOLIO_VALIDATION_START must be before PORTFOLIO_TEST_START"):
        local_resources()
    monkeypatch.setenv("PORTFOLIO_TEST_START", "2012-06-01")
    export = local_resources()["export"]
    assert export.validation_start == EnvVar("PORTFOLIO_VALIDATION_START")


def test_a_universe_file_is_validated_when_the_definitions_load(monkeypatch, tmp_path):
    bad = tmp_path / "universe.yaml"
    bad.write_text("assets: []\n")
    monkeypatch.setenv("PORTFOLIO_UNIVERSE_FILE", str(bad))
    with pytest.raises(SettingError, match=r"PORTFOLIO_UNIVERSE_FILE='.*universe\.yaml' .*universe\.yaml"):
        local_resources()


def test_the_window_refuses_a_start_after_the_end():
    with pytest.raises(SettingError) as raised:
        read_window({"PORTFOLIO_START_DATE": "2014-01-01", "PORTFOLIO_END_DATE": "2013-02-28"})
    assert str(raised.value) == "PORTFOLIO_START_DATE=2014-01-01 is after PORTFOLIO_END_DATE=2013-02-28"
    assert read_window({"PORTFOLIO_END_DATE": "open"}) == Window(date(2008, 1, 1), None)


def test_a_resource_built_directly_is_checked_when_the_run_starts(tmp_path):
    from portfolio_assets.assets.training_set import training_set
    from portfolio_assets.runner import materialize_range
    from portfolio_assets_tests.resources import make_resources

    resources = make_resources(tmp_path, context_window=100000)
    result = materialize_range(
        [training_set], "2010-03-01", "2010-03-01", resources=resources, raise_on_error=False, log_level="CRITICAL"
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_failure)
    text = str(failure.event_specific_data.error)
    assert "ExportResource.context_window (PORTFOLIO_CONTEXT_WINDOW)='100000' must be between 1 and 60" in text
