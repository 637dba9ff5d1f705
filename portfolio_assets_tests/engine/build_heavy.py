"""Run in a fresh process by the cluster tests (a process holds one Spark context): materialise the heavy
assets over a range of a store that holds their inputs, with the engine at ``argv[2]`` (``in-process``: none).

``python -m portfolio_assets_tests.engine.build_heavy <data dir> <URL or in-process> <app name> <first> <last>
[<direct_io>]``; its last line of output is JSON: the assets whose partitions the executors staged (store to store).
"""

from __future__ import annotations

import json
import sys

from dagster import DagsterInstance

from portfolio_assets.definitions import gate_and_rows, indicators, targets
from portfolio_assets.engine import EngineResource
from portfolio_assets.runner import materialize_range
from portfolio_assets_tests.resources import make_resources


def main(data_dir: str, url: str, app_name: str, first: str, last: str, direct_io: str = "auto") -> int:
    remote, spark = url.startswith("sc://"), url != "in-process"
    engine = EngineResource(
        master_url=url if spark and not remote else "",
        remote=url if remote else "",
        app_name=app_name,
        direct_io=direct_io,
    )
    resources = make_resources(data_dir, engine=engine)
    staged = set()
    with DagsterInstance.ephemeral() as instance:
        for selection, lo, hi in (([indicators], first, last), ([targets, gate_and_rows], first, last)):
            result = materialize_range(selection, lo, hi, resources=resources, instance=instance, log_level="WARNING")
            if not result.success:
                return 1
            for event in result.get_asset_materialization_events():
                if "staged_by" in event.materialization.metadata:
                    staged.add(event.materialization.asset_key.to_user_string())
    print(json.dumps({"staged_by_executors": sorted(staged)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:7]))
