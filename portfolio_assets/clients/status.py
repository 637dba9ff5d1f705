"""The fetch-status ledger: which series failed for which days, and whose rows that excludes.

One JSON file per source, ``<data dir>/_fetch_status/<source>.json`` (on S3, the object
``<storage url>/_fetch_status/<source>.json``), written atomically by the source's raw asset at the end
of each run::

    {"<series key>": {"owners": ["BTC-USD"], "excludes": true, "first": "2012-01-01",
                       "last": "2012-01-31", "error": "...", "at": "2026-12-01T12:00:00Z"}, ...}

Only failures are kept. A failure covers the partitions ``first..last`` of the
run that met it; a later fetch of the series clears it only when its own run
covers those days, and a series the source no longer plans (the universe
changed) is dropped. ``owners`` are the universe assets whose rows need the
series; ``excludes`` false marks a reference series (CoinGecko's second
close), whose failure is reported but leaves the asset in.
:func:`excluded_assets` is what an asset leaves out of a window that overlaps
a failure; re-running the source after the cause is fixed clears the entry.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from portfolio_assets.fsutil import write_atomically
from portfolio_assets.objectstore import S3Location

STATUS_DIR = "_fetch_status"


@dataclass(frozen=True)
class SeriesStatus:
    """The outcome of one series in one run over ``first..last``."""

    series: str
    ok: bool
    first: date
    last: date
    owners: tuple[str, ...] = ()
    excludes: bool = True
    error: str = ""
    at: str = ""

    def overlaps(self, first: date | None, last: date | None) -> bool:
        return (first is None or self.last >= first) and (last is None or self.first <= last)


def _path(store_root: str | Path, source: str) -> Path:
    return Path(store_root) / STATUS_DIR / f"{source}.json"


def _load(store_root: str | Path | S3Location, source: str) -> tuple[str, bytes | None]:
    """Where the ledger of ``source`` is, and its bytes (None: no ledger yet). On S3: the object, read afresh."""
    if isinstance(store_root, S3Location):
        relative = f"{STATUS_DIR}/{source}.json"
        try:
            return str(store_root / relative), store_root.get(relative)
        except FileNotFoundError:
            return str(store_root / relative), None
    path = _path(store_root, source)
    return str(path), path.read_bytes() if path.is_file() else None


def read_status(store_root: str | Path | S3Location, source: str) -> dict[str, SeriesStatus]:
    """The failures on record for ``source`` (empty when none). A damaged ledger is an error naming the file."""
    path, raw = _load(store_root, source)
    if raw is None:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
        return {
            series: SeriesStatus(
                series=series,
                ok=False,
                first=date.fromisoformat(entry["first"]),
                last=date.fromisoformat(entry["last"]),
                owners=tuple(str(o) for o in entry.get("owners", [])),
                excludes=bool(entry.get("excludes", True)),
                error=str(entry.get("error", "")),
                at=str(entry.get("at", "")),
            )
            for series, entry in data.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"{path}: unreadable fetch-status ledger ({type(exc).__name__}: {exc}); delete it and re-run the"
            f" raw asset of {source} over the ranges you need"
        ) from exc


def record_status(
    store_root: str | Path | S3Location,
    source: str,
    outcomes: Iterable[SeriesStatus],
    planned: Collection[str] | None = None,
) -> Path | str:
    """Merge one run's ``outcomes`` into the ledger of ``source``.

    A success clears a failure of its series whose days it covers; a failure
    replaces the entry. With ``planned`` (the series the source plans now), entries
    of any other series are dropped.
    """
    current = read_status(store_root, source)
    if planned is not None:
        current = {series: status for series, status in current.items() if series in planned}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for outcome in outcomes:
        held = current.get(outcome.series)
        if outcome.ok:
            if held is not None and outcome.first <= held.first and held.last <= outcome.last:
                del current[outcome.series]
        else:
            current[outcome.series] = SeriesStatus(
                outcome.series,
                False,
                outcome.first,
                outcome.last,
                outcome.owners,
                outcome.excludes,
                outcome.error,
                outcome.at or now,
            )
    data = {
        series: {
            "owners": list(s.owners),
            "excludes": s.excludes,
            "first": s.first.isoformat(),
            "last": s.last.isoformat(),
            "error": s.error,
            "at": s.at,
        }
        for series, s in sorted(current.items())
    }
    text = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")
    if isinstance(store_root, S3Location):  # one PUT: readers get the old ledger or the new one
        store_root.put(f"{STATUS_DIR}/{source}.json", text)
        return str(store_root / STATUS_DIR / f"{source}.json")
    path = _path(store_root, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
    return path


def excluded_assets(
    store_root: str | Path | S3Location,
    symbols: Iterable[str],
    sources: Iterable[str],
    first: date | None = None,
    last: date | None = None,
) -> dict[str, str]:
    """``{symbol: why}`` of the universe ``symbols`` that a failure of ``sources`` over ``first..last`` leaves out."""
    wanted = set(symbols)
    found: dict[str, str] = {}
    for source in sources:
        for status in read_status(store_root, source).values():
            if not status.excludes or not status.overlaps(first, last):
                continue
            for owner in status.owners:
                if owner in wanted:
                    found.setdefault(owner, f"{status.error} (failed at {status.at} for {status.first}..{status.last})")
    return dict(sorted(found.items()))
