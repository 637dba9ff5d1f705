"""The daily schedules: each morning, the observation partition holding yesterday and the labelled partition
holding the day whose 90-day horizon closed yesterday; a skip, saying why, when no partition holds it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dagster import build_schedule_context

from portfolio_assets.definitions import SCHEDULES, SENSORS, defs


def _after(when: datetime, schedule_name: str | None = "observation_daily"):
    """What the labelled sensor asks once a run of the observation job succeeded (launched by ``schedule_name``
    for ``when``; None: not by a schedule)."""
    from dagster import DagsterEvent, DagsterInstance, DagsterRun, build_run_status_sensor_context

    (sensor,) = SENSORS
    tags = {"dagster/schedule_name": schedule_name, ".dagster/scheduled_execution_time": when.isoformat()}
    run = DagsterRun(job_name="observation", run_id="observation-run", tags=tags if schedule_name else {})
    event = DagsterEvent(event_type_value="PIPELINE_SUCCESS", job_name="observation")
    with DagsterInstance.ephemeral() as instance:
        context = build_run_status_sensor_context(
            sensor.name, event, instance, run, repository_def=defs.get_repository_def()
        )
        return sensor(context)


def _tick(name: str, when: datetime):
    if name == "labelled_daily":
        return _after(when)
    schedule = next(s for s in SCHEDULES if s.name == name)
    context = build_schedule_context(scheduled_execution_time=when, repository_def=defs.get_repository_def())
    result = schedule.evaluate_tick(context)
    return result.run_requests[0] if result.run_requests else result.skip_message


def test_the_observation_runs_every_morning_and_the_labelled_job_after_it():
    assert {(s.name, s.job_name, s.cron_schedule) for s in SCHEDULES} == {
        ("observation_daily", "observation", "0 6 * * *"),
    }
    (sensor,) = SENSORS
    assert sensor.name == "labelled_after_observation" and sensor.job_name == "labelled"


def test_a_backfill_of_the_observation_job_starts_no_labelled_run():
    skipped = _after(datetime(2012, 6, 15, 6, tzinfo=UTC), schedule_name=None)
    assert "is not a run of observation_daily" in skipped.skip_message


@pytest.mark.parametrize(
    ("name", "when", "key"),
    [
        ("observation_daily", datetime(2013, 3, 1, 6, tzinfo=UTC), "2013-02-01"),  # yesterday, 2013-02-28
        ("labelled_daily", datetime(2012, 6, 15, 6, tzinfo=UTC), "2012-03-01"),  # 2012-06-14 minus 90 days
    ],
)
def test_a_morning_requests_the_partition_of_its_day(name, when, key):
    request = _tick(name, when)
    assert request.partition_key == key and request.run_key == f"{name.split('_')[0]}-{key}-{when.date()}"


def test_a_day_no_partition_holds_is_skipped_saying_why():
    skipped = _tick("labelled_daily", datetime(2030, 1, 1, 6, tzinfo=UTC))
    assert "no partition holds 2029-10-02" in skipped.skip_message


def test_the_instance_retries_failed_runs_but_not_a_failed_gate(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    from dagster import DagsterInstance

    shutil.copy(Path(__file__).resolve().parents[1] / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.get() as instance:
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    assert defs.resolve_job_def("labelled").tags["dagster/retry_on_asset_or_op_failure"] == "false"
    assert "dagster/retry_on_asset_or_op_failure" not in defs.resolve_job_def("observation").tags


def test_a_live_window_flags_a_late_daily_partition_and_the_sample_never():
    """With an open window every asset has a freshness policy (late after 26 hours, failed after 30; the
    schedule runs every 24); the sample's closed window holds history and has none."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "from portfolio_assets.definitions import defs\n"
        "g = defs.resolve_asset_graph()\n"
        "keys = [k for k in g.get_all_asset_keys() if k.to_user_string() != 'evaluation']  # on demand\n"
        "p = {k.to_user_string(): g.get(k).freshness_policy for k in keys}\n"
        "print(sorted({str(v.fail_window.to_timedelta()) if v else None for v in p.values()}, key=str), len(p))\n"
    )
    root = Path(__file__).resolve().parents[1]
    for end, expected in (("open", "['1 day, 6:00:00'] 16"), ("", "[None] 16")):
        env = {**os.environ, "PORTFOLIO_END_DATE": end} if end else dict(os.environ)
        env.pop("PORTFOLIO_END_DATE", None) if not end else None
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=root)
        assert done.stdout.strip().splitlines()[-1] == expected, done.stderr[-2000:]


@pytest.mark.slow
def test_the_labelled_mornings_run_exports_every_labelled_day_up_to_its_partition(full_backfill, instance):
    """The labelled job of one month, as the schedule launches it: its export holds the labelled days from the
    window's first through that month (one month alone cannot be split into train / validation / test)."""
    from dagster import AssetKey, Definitions

    from portfolio_assets.definitions import ALL_ASSETS, JOBS, LABELLED_ASSETS
    from portfolio_assets_tests.resources import make_resources

    data_dir, _ = full_backfill
    request = _tick("labelled_daily", datetime(2012, 9, 15, 6, tzinfo=UTC))
    assert request.partition_key == "2012-06-01"
    job = next(j for j in JOBS if j.name == "labelled")
    resolved = Definitions(assets=ALL_ASSETS, jobs=[job], resources=make_resources(data_dir)).resolve_job_def(
        "labelled"
    )
    result = resolved.execute_in_process(
        run_config=request.run_config,
        instance=instance,
        partition_key=request.partition_key,
        asset_selection=[key for a in LABELLED_ASSETS for key in a.keys],
    )
    assert result.success
    (export,) = [e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey("training_set")]
    meta = export.materialization.metadata
    assert meta["date_range"].value == "2009-01-01..2012-06-30"
    assert "training_set_2009-01-01_2012-06-30_" in str(meta["path"].value)
