"""The graph as a Spark application, for clusters that run jobs by ``spark-submit`` or through Dagster Pipes.

::

    spark-submit --master spark://dgx-cluster:7077 --executor-memory 16g \\
        portfolio_assets/submit.py --observation 2010-01-01:2010-12-31 --labelled 2010-01-01:2010-09-30

The driver runs the Dagster runs in-process (resources from the environment, as ``definitions.py`` builds them),
and the engine adopts the application's own Spark session, so the heavy per-asset work runs on its executors.
``--assets heavy`` (the default) builds ``indicators`` over the observation range, then ``targets`` and the gate,
then ``training_set`` over the labelled range (unless ``--no-export``), from inputs already in the store;
``--assets all`` builds every asset (observation, then labelled, then the export) as ``make demo`` does.
Launched by a Dagster Pipes client (``PipesSubprocessClient``, EMR, Databricks), it reports one materialisation
to the launching asset with what each run stored (or why it failed), and its log lines; launched by hand it
prints that summary as JSON on its last line. Exit status 1 if a run failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from dagster import DagsterInstance


def _span(text: str) -> tuple[str, str]:
    first, sep, last = text.partition(":")
    if not sep or not first or not last:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range written FIRST:LAST (YYYY-MM-DD:YYYY-MM-DD)")
    return first, last


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: the ranges and which assets."""
    parser = argparse.ArgumentParser(prog="submit.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--observation", type=_span, help="observation days FIRST:LAST (default: the window)")
    parser.add_argument("--labelled", type=_span, help="labelled days FIRST:LAST (default: the labelled window)")
    parser.add_argument("--assets", choices=("heavy", "all"), default="heavy", help="which assets (default: heavy)")
    parser.add_argument("--no-export", action="store_true", help="stop before training_set (no export)")
    return parser.parse_args(argv)


def _instance() -> DagsterInstance:
    """The instance of ``DAGSTER_HOME`` when Dagster finds one, else an ephemeral one."""
    try:
        return DagsterInstance.get()
    except Exception:  # DagsterHomeNotSetError, or an unusable home: the runs still run, unrecorded
        return DagsterInstance.ephemeral()


def _whole(partitions: Any) -> tuple[str, str]:
    return partitions.get_first_partition_key(), partitions.get_last_partition_key()


def run(args: argparse.Namespace, spark: Any, pipes: Any) -> dict[str, Any]:
    """Materialise the ranges with the engine on ``spark``; the summary of what each run stored."""
    from portfolio_assets.definitions import (
        LABELLED_ASSETS,
        OBSERVATION_ASSETS,
        gate_and_rows,
        indicators,
        resources_for,
        targets,
        training_set,
    )
    from portfolio_assets.engine import EngineResource
    from portfolio_assets.partitions import LABELLED_PARTITIONS, OBSERVATION_PARTITIONS
    from portfolio_assets.runner import run_ranges

    context = spark.sparkContext
    configured = resources_for()
    direct_io = configured["engine"].direct_io  # PORTFOLIO_SPARK_DIRECT_IO: the one engine setting that applies
    engine = EngineResource(master_url=context.master, app_name=context.appName, direct_io=direct_io)
    resources = {**configured, "engine": engine}
    obs = args.observation or _whole(OBSERVATION_PARTITIONS)
    lab = args.labelled or _whole(LABELLED_PARTITIONS)
    if args.assets == "all":
        steps = [(OBSERVATION_ASSETS, obs), ([a for a in LABELLED_ASSETS if a is not training_set], lab)]
    else:
        steps = [([indicators], obs), ([targets, gate_and_rows], lab)]
    if not args.no_export:
        steps.append(([training_set], lab))
    with _instance() as instance:
        runs = [(selection, first, last) for selection, (first, last) in steps]
        summary = run_ranges(runs, resources=resources, instance=instance, log=pipes.log.info)
    return {"application_id": context.applicationId, "engine": engine.describe(), **summary}


def main(argv: Sequence[str] | None = None) -> int:
    """Run as ``spark-submit portfolio_assets/submit.py …``: the application's session, then :func:`run`."""
    from dagster_pipes import PipesEnvVarParamsLoader, open_dagster_pipes
    from pyspark.sql import SparkSession

    args = parse_args(argv)
    spark = SparkSession.builder.getOrCreate()  # spark-submit's master, conf and application
    launched = PipesEnvVarParamsLoader().is_dagster_pipes_process()
    try:
        with open_dagster_pipes() if launched else nullcontext(_Printer()) as pipes:
            summary = run(args, spark, pipes)
            pipes.report_asset_materialization(metadata={"spark_job": {"raw_value": summary, "type": "json"}})
            if not summary["success"]:
                pipes.log.error(f"a run failed: {json.dumps(summary['runs'][-1])}")
    finally:
        spark.stop()
    print(json.dumps(summary))
    return 0 if summary["success"] else 1


class _Printer:
    """Pipes' ``log`` and ``report_asset_materialization`` when no Dagster process launched this one."""

    class _Log:
        def info(self, message: str) -> None:
            print(message, file=sys.stderr)

        error = info

    log = _Log()

    def report_asset_materialization(self, **_: object) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
