"""The real webserver (issue 14): `dagster-webserver -w workspace.yaml` on loopback, over a store where a week of
daily observation partitions was built by `make backfill`, answers the UI's GraphQL with what the Definitions say:
the groups, the lineage from the raw sources to the export, the daily partitions, the checks, the jobs and the
schedules, and each materialised day's metadata."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from portfolio_assets import settings
from portfolio_assets.definitions import LABELLED_ASSETS, OBSERVATION_ASSETS, defs
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets_tests.webserver import LOCATION, REPOSITORY, Webserver, backfill, project_env, running_webserver

pytestmark = pytest.mark.slow  # a materialisation and a server: 15-30 s on 2 cores

WINDOW = ("2008-03-01", "2009-06-30")
"""A short window with labelled days (2009-03-02..2009-04-01). Not from 2008-01-01: a run of only the first days of
January 2008 fails macro's blocking schema check (no DXY or oil release yet: a tz-naive column)."""
BUILT = ("2008-03-01", "2008-03-07")
"""The observation days materialised: from the window's first day, where the indicators accept a short lookback."""
DAY = "2008-03-04"
"""A weekday of ``BUILT``: every universe asset has a row, and the run's other days have rows too."""
WEEKEND_DAY = "2008-03-01"
"""A Saturday of ``BUILT``: only the crypto assets have a row."""

ASSET_NODES = """
query AssetNodes {
  assetNodes {
    assetKey { path }
    groupName
    jobNames
    dependencyKeys { path }
    isPartitioned
    partitionDefinition { type description }
    assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } }
  }
}
"""
PARTITION_KEYS = """
query PartitionKeys($key: AssetKeyInput!) {
  assetNodes(assetKeys: [$key]) {
    partitionKeys
    assetPartitionStatuses { __typename ... on TimePartitionStatuses { ranges { startKey endKey status } } }
  }
}
"""
REPOSITORY_QUERY = """
query Repository($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository {
      jobs { name isAssetJob }
      schedules { name cronSchedule executionTimezone pipelineName }
      sensors { name targets { pipelineName } }
      assetGroups { groupName assetKeys { path } }
    }
    ... on PythonError { message }
  }
}
"""
MATERIALISATIONS = """
query Materialisations($key: AssetKeyInput!, $partitions: [String!]) {
  assetNodes(assetKeys: [$key]) {
    assetMaterializations(partitions: $partitions) {
      partition
      runId
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Webserver, PartitionStore]]:
    """The webserver over an instance and store where ``BUILT`` of the observation job was materialised (daily
    partitions, the window ``WINDOW``); stopped at the end, which must end its processes."""
    base = tmp_path_factory.mktemp("webserver")
    data_dir = base / "data"
    env = project_env(
        base / "dagster_home",
        data_dir,
        {
            settings.PARTITIONS_ENV: "daily",
            settings.START_DATE_ENV: WINDOW[0],
            settings.END_DATE_ENV: WINDOW[1],
            settings.SOURCE_RETRY_DELAY_ENV: "0",
        },
    )
    summary = backfill(env, *BUILT, only="observation")
    assert summary["success"] and summary["runs"][0]["range"] == f"{BUILT[0]}..{BUILT[1]}"
    with running_webserver(env, base / "webserver.log") as web:
        yield web, PartitionStore(data_dir)
        status = web.stop()
        assert status == 0, f"dagster-webserver exited {status} on SIGTERM:\n{web.log_tail()}"
        assert web.process.poll() is not None


def _nodes(web: Webserver) -> dict[str, dict]:
    return {"/".join(n["assetKey"]["path"]): n for n in web.graphql(ASSET_NODES)["assetNodes"]}


def _days(first: date, last: date) -> list[str]:
    return [str(first + timedelta(days=i)) for i in range((last - first).days + 1)]


def _key_names(assets: list) -> set[str]:
    return {key.to_user_string() for asset in assets for key in asset.keys}


def test_the_ui_shows_the_groups_of_the_definitions(server):
    web, _ = server
    groups = {spec.key.to_user_string(): spec.group_name for spec in defs.resolve_all_asset_specs()}
    assert {name: node["groupName"] for name, node in _nodes(web).items()} == groups
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    repository = web.graphql(REPOSITORY_QUERY, {"selector": selector})["repositoryOrError"]
    shown = {g["groupName"]: {"/".join(k["path"]) for k in g["assetKeys"]} for g in repository["assetGroups"]}
    assert shown == {group: {k for k, g in groups.items() if g == group} for group in set(groups.values())}
    assert shown["sources"] == {f"raw_{s}" for s in ("alphavantage", "coingecko", "fear_greed", "fred", "gdelt")} | {
        "raw_google_trends",
        "raw_social",
    }


def test_the_lineage_leads_from_every_raw_source_to_the_export(server):
    web, _ = server
    nodes = _nodes(web)
    graph = defs.resolve_asset_graph()
    parents = {name: {"/".join(k["path"]) for k in node["dependencyKeys"]} for name, node in nodes.items()}
    assert parents == {
        key.to_user_string(): {p.to_user_string() for p in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    children: dict[str, set[str]] = {name: set() for name in parents}
    for name, ups in parents.items():
        for up in ups:
            children[up].add(name)
    raw = sorted(name for name, node in nodes.items() if node["groupName"] == "sources")
    assert len(raw) == 7
    for source in raw:
        path = _path(children, source, "training_set")
        assert path, f"no path of dependencies from {source} to training_set in the UI's lineage"
        assert path[-2] == "sft_rows"  # the export reads the gate's rows, nothing else


def _path(children: dict[str, set[str]], start: str, goal: str) -> list[str]:
    """The shortest path of edges ``start`` → … → ``goal`` (empty when there is none)."""
    before: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        if name == goal:
            path = [name]
            while (up := before[path[-1]]) is not None:
                path.append(up)
            return path[::-1]
        for child in sorted(children[name]):
            if child not in before:
                before[child] = name
                queue.append(child)
    return []


def test_the_partitions_are_the_days_of_the_window(server):
    web, _ = server
    window = settings.read_window({settings.START_DATE_ENV: WINDOW[0], settings.END_DATE_ENV: WINDOW[1]})
    expected = {
        **dict.fromkeys(_key_names(OBSERVATION_ASSETS), _days(window.start, window.end)),
        **dict.fromkeys(_key_names(LABELLED_ASSETS), _days(window.labelled_start, window.labelled_end)),
    }
    nodes = _nodes(web)
    assert set(nodes) == {*expected, "evaluation"}
    # The export is one materialisation per export, of the labelled days it names, and the evaluation one per
    # evaluation of the newest export: not partitioned.
    assert not nodes.pop("training_set")["isPartitioned"] and not nodes.pop("evaluation")["isPartitioned"]
    for name in nodes:
        assert nodes[name]["isPartitioned"] and nodes[name]["partitionDefinition"]["type"] == "TIME_WINDOW"
        assert nodes[name]["partitionDefinition"]["description"].startswith("Daily, starting ")
        keys = web.graphql(PARTITION_KEYS, {"key": {"path": [name]}})["assetNodes"][0]["partitionKeys"]
        assert keys == expected[name], name
    assert expected["prices"][0] == "2008-03-01" and expected["prices"][-1] == "2009-06-30"
    assert expected["sft_rows"][0] == "2009-03-02" and expected["sft_rows"][-1] == "2009-04-01"
    (prices,) = web.graphql(PARTITION_KEYS, {"key": {"path": ["prices"]}})["assetNodes"]
    assert prices["assetPartitionStatuses"]["ranges"] == [
        {"startKey": BUILT[0], "endKey": BUILT[1], "status": "MATERIALIZED"}
    ]


def test_the_checks_are_the_check_specs_of_the_definitions(server):
    web, _ = server
    graph = defs.resolve_asset_graph()
    expected: dict[str, dict[str, bool]] = {key.to_user_string(): {} for key in graph.get_all_asset_keys()}
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        expected[check_key.asset_key.to_user_string()][spec.name] = spec.blocking
    shown = {
        name: {c["name"]: c["blocking"] for c in node["assetChecksOrError"].get("checks", [])}
        for name, node in _nodes(web).items()
    }
    assert shown == expected
    assert shown["prices"] == {
        "schema": True,
        "temporal_gaps": True,
        "feature_distribution": False,
        "cross_source_consistency": False,
    }


def test_the_jobs_and_the_daily_schedules_are_in_the_repository(server):
    web, _ = server
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    repository = web.graphql(REPOSITORY_QUERY, {"selector": selector})["repositoryOrError"]
    assert repository["__typename"] == "Repository"
    jobs = {job["name"] for job in repository["jobs"]}
    assert {"observation", "labelled"} <= jobs
    schedules = {s["name"]: s for s in repository["schedules"]}
    schedule = schedules["observation_daily"]
    assert (schedule["cronSchedule"], schedule["executionTimezone"], schedule["pipelineName"]) == (
        "0 6 * * *",
        "UTC",
        "observation",
    )
    # The labelled run starts once the morning's observation run has stored yesterday's prices.
    sensors = {s["name"]: s for s in repository["sensors"]}
    assert [t["pipelineName"] for t in sensors["labelled_after_observation"]["targets"]] == ["labelled"]
    nodes = _nodes(web)
    assert all("observation" in nodes[name]["jobNames"] for name in _key_names(OBSERVATION_ASSETS))
    assert all("labelled" in nodes[name]["jobNames"] for name in _key_names(LABELLED_ASSETS))


def _rows_of(web: Webserver, asset: str, key: str) -> tuple[dict, int | None]:
    (node,) = web.graphql(MATERIALISATIONS, {"key": {"path": [asset]}, "partitions": [key]})["assetNodes"]
    (materialisation,) = node["assetMaterializations"]
    rows = {e["label"]: e.get("intValue") for e in materialisation["metadataEntries"]}.get("rows")
    return materialisation, rows


def test_each_materialised_day_has_its_materialisation(server):
    web, store = server
    for key in _days(date.fromisoformat(BUILT[0]), date.fromisoformat(BUILT[1])):
        materialisation, rows = _rows_of(web, "prices", key)
        assert materialisation["partition"] == key and materialisation["runId"]
        assert rows is not None and rows >= len(store.read(["prices"], [key], granularity="daily")) > 0


def test_each_materialised_day_carries_its_own_row_count(server):
    web, store = server
    for key in (DAY, WEEKEND_DAY):
        own = len(store.read(["prices"], [key], granularity="daily"))
        _, rows = _rows_of(web, "prices", key)
        assert rows == own, f"prices {key}: the materialisation says {rows} rows, the partition holds {own}"
