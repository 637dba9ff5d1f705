"""The fetch-status ledger: which series failed in their source's latest run, and whose rows that excludes.

One JSON file per source, ``<data dir>/_fetch_status/<source>.json``, written
atomically by the source's raw asset at the end of each run::

    {"<series key>": {"ok": false, "owners": ["BTC-USD"], "excludes": true,
                       "error": "...", "at": "2026-12-01T12:00:00Z"}, ...}

A series fetched (or found fresh) clears its entry; a failed one sets it.
``owners`` are the universe assets whose rows need the series. ``excludes``
false marks a reference series (CoinGecko's second close), whose failure is
reported but leaves the asset in. :func:`excluded_assets` is what ``prices``
and ``sentiment`` leave out; re-running the source after the cause is fixed
clears the entry, and re-materialising the range fills the asset in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from portfolio_assets.fsutil import write_atomically

STATUS_DIR = "_fetch_status"


@dataclass(frozen=True)
class SeriesStatus:
    """The latest outcome of one series."""

    series: str
    ok: bool
    owners: tuple[str, ...] = ()
    excludes: bool = True
    error: str = ""
    at: str = ""


def _path(store_root: str | Path, source: str) -> Path:
    return Path(store_root) / STATUS_DIR / f"{source}.json"


def read_status(store_root: str | Path, source: str) -> dict[str, SeriesStatus]:
    """The ledger of ``source`` (empty when it never ran). A damaged ledger is an error naming the file."""
    path = _path(store_root, source)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            series: SeriesStatus(
                series=series,
                ok=bool(entry["ok"]),
                owners=tuple(str(o) for o in entry.get("owners", [])),
                excludes=bool(entry.get("excludes", True)),
                error=str(entry.get("error", "")),
                at=str(entry.get("at", "")),
            )
            for series, entry in data.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: unreadable fetch-status ledger ({exc}); re-run raw_{source} to rewrite it") from exc


def record_status(store_root: str | Path, source: str, outcomes: Iterable[SeriesStatus]) -> Path:
    """Merge this run's ``outcomes`` into the ledger of ``source`` (failures kept, successes cleared)."""
    current = read_status(store_root, source)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for outcome in outcomes:
        if outcome.ok:
            current.pop(outcome.series, None)
        else:
            current[outcome.series] = SeriesStatus(
                outcome.series, False, outcome.owners, outcome.excludes, outcome.error, outcome.at or now
            )
    data = {
        series: {"ok": s.ok, "owners": list(s.owners), "excludes": s.excludes, "error": s.error, "at": s.at}
        for series, s in sorted(current.items())
    }
    path = _path(store_root, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return path


def excluded_assets(
    store_root: str | Path, symbols: Iterable[str], sources: Iterable[str] | None = None
) -> dict[str, str]:
    """``{symbol: why}`` of the universe ``symbols`` a failed series of ``sources`` (default: all) leaves out."""
    wanted = set(symbols)
    folder = Path(store_root) / STATUS_DIR
    names = sorted(p.stem for p in folder.glob("*.json")) if sources is None else list(sources)
    found: dict[str, str] = {}
    for source in names:
        for status in read_status(store_root, source).values():
            if status.ok or not status.excludes:
                continue
            for owner in status.owners:
                if owner in wanted:
                    found.setdefault(owner, f"{source} [{status.series}] failed at {status.at}: {status.error}")
    return dict(sorted(found.items()))


def failed_series(store_root: str | Path, source: str) -> Mapping[str, SeriesStatus]:
    """The series of ``source`` whose latest fetch failed."""
    return {k: v for k, v in read_status(store_root, source).items() if not v.ok}
