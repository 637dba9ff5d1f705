"""`make backfill START=… END=` and `make export START=… END=`: a range of days rebuilt from the command line.

Each partitions set is one run (a single-run backfill): the observation assets over the partitions holding
START..END, then the labelled assets over those of START..END that are labelled (a day is labelled once its
90-day horizon is in the window), the export last: one materialisation of the unpartitioned ``training_set``,
of the labelled days of those partitions (``--only export``: that alone, e.g. with another
``PORTFOLIO_PROMPT_FORMAT``; earlier exports are kept and ``LATEST.json`` names the new one). Inputs outside
the range (the indicators' lookback, the targets' horizon) are read from the store as they are. Runs go to the
instance of ``DAGSTER_HOME``, so the UI (`make dev`) shows them. The last line printed is a JSON summary; the
exit status is 1 if a run failed.

``python -m portfolio_assets.backfill START END [--only observation|labelled|export]``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date

from dagster import AssetsDefinition, DagsterInstance

from portfolio_assets import settings
from portfolio_assets.assets.raw import RAW_ASSETS
from portfolio_assets.definitions import OBSERVATION_ASSETS, gate_and_rows, resources_for, targets, training_set
from portfolio_assets.partitions import day_bounds
from portfolio_assets.runner import run_ranges

ONLY = ("all", "observation", "labelled", "export")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def plan(start: date, end: date, only: str = "all") -> list[tuple[list[AssetsDefinition], str, str]]:
    """The runs a backfill of ``start..end`` makes: (assets, first day, last day), each clipped to the days its
    partitions exist for; a ``ValueError`` says why a range holds nothing to build."""
    if end < start:
        raise ValueError(f"backfill {start}..{end}: the last day is before the first")
    runs: list[tuple[list[AssetsDefinition], str, str]] = []
    low, high = day_bounds(labelled=False)
    if only in ("all", "observation") and start <= high and end >= low:
        live = settings.SOURCE_MODE == "live"  # in sample mode the raw assets would only look the sample up
        observation = [a for a in OBSERVATION_ASSETS if live or a not in RAW_ASSETS]
        runs.append((observation, str(max(start, low)), str(min(end, high))))
    low, high = day_bounds(labelled=True)
    if only != "observation" and start <= high and end >= low:
        first, last = str(max(start, low)), str(min(end, high))
        if only in ("all", "labelled"):
            runs.append(([targets, gate_and_rows], first, last))
        if only in ("all", "labelled", "export"):
            runs.append(([training_set], first, last))
    if not runs:
        raise ValueError(
            f"backfill {start}..{end}: no {'' if only == 'all' else only + ' '}partition holds these days "
            f"(observations {day_bounds(labelled=False)[0]}..{day_bounds(labelled=False)[1]}, labelled days "
            f"{day_bounds(labelled=True)[0]}..{day_bounds(labelled=True)[1]}; {settings.START_DATE_ENV} / "
            f"{settings.END_DATE_ENV} set the window)"
        )
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portfolio_assets.backfill", description=__doc__.split("\n\n")[0])
    parser.add_argument("start", type=_day, help="first day, YYYY-MM-DD")
    parser.add_argument("end", type=_day, help="last day, YYYY-MM-DD")
    parser.add_argument(
        "--only",
        choices=ONLY,
        default="all",
        help="one partitions set, or the export alone (re-export the labelled days START..END)",
    )
    args = parser.parse_args(argv)
    try:
        runs = plan(args.start, args.end, args.only)
    except ValueError as exc:
        parser.error(str(exc))
    summary = run_ranges(runs, resources=resources_for(), instance=DagsterInstance.get(), log=_say)
    print(json.dumps({"range": f"{args.start}..{args.end}", **summary}, default=str))
    return 0 if summary["success"] else 1


def _say(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
