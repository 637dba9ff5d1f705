"""``temporal_gaps`` (ERROR): an asset misses more than ``max_gap_days`` expected days in a row."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from portfolio_assets.checks._frame import _require
from portfolio_assets.checks._text import _date, _join, _plural
from portfolio_assets.checks.calendars import CALENDARS
from portfolio_assets.checks.outcome import ERROR, MAX_CASES, CheckOutcome, _outcome
from portfolio_assets.timeutil import utc_index, utc_timestamp


def _expected_days_between(first: np.ndarray, last: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """Expected observation days in [first, last] (day precision; 0 where last < first)."""
    f = first.astype("datetime64[D]")
    e = last.astype("datetime64[D]") + np.timedelta64(1, "D")
    e = np.maximum(e, f)
    calendar = (e - f).astype("int64")
    business = np.busday_count(f, e)
    return np.where(weekdays, business, calendar)


def _first_expected(day: np.ndarray, weekdays: np.ndarray, forward: bool) -> np.ndarray:
    """``day`` moved to the nearest expected day in the given direction (itself if expected)."""
    d = day.astype("datetime64[D]")
    rolled = np.busday_offset(d, 0, roll="forward" if forward else "backward")
    return np.where(weekdays, rolled, d)


def _day64(value: object) -> np.datetime64:
    """The UTC day of ``value`` as a naive ``datetime64[ns]`` midnight."""
    return utc_timestamp(value).tz_localize(None).floor("D").to_datetime64().astype("datetime64[ns]")


def _expected_through(symbols: np.ndarray, end: np.datetime64, ended: Mapping[str, np.datetime64]) -> np.ndarray:
    """Per symbol, the last day an observation is expected: ``end``, or its last trading day if earlier."""
    return np.array([min(ended.get(str(s), end), end) for s in symbols], dtype="datetime64[ns]")


def temporal_gaps(
    prices: pd.DataFrame,
    *,
    calendars: Mapping[str, str],
    max_gap_days: int = 7,
    previous: pd.DataFrame | None = None,
    window_end: pd.Timestamp | None = None,
    window_start: pd.Timestamp | None = None,
    last_trading_days: Mapping[str, pd.Timestamp] | None = None,
    max_cases: int = MAX_CASES,
) -> CheckOutcome:
    """ERROR if an asset misses more than ``max_gap_days`` expected days in a row.

    Calendars (``calendars[symbol]``, see ``calendars_for``): ``daily`` expects
    every calendar day (crypto), ``weekdays`` every Monday..Friday (weekends are
    never gaps; holidays are, but a few do not reach the limit). A gap's length
    is the number of expected days strictly between two consecutive
    observations: the calendar days between them minus 1, not counting
    Saturdays and Sundays for ``weekdays``. Friday → Monday is 0; Thursday →
    Tuesday over a 4-day holiday weekend is 2; a 10-weekday hole fails.

    ``previous``: observations before the checked window (at least each asset's
    last one), so a gap straddling the window start is caught; only gaps that
    end inside ``prices`` (or at ``window_end``) are reported. ``window_end``
    (optional): the last day of the checked window; the expected days after an
    asset's last observation through it form an open gap (an asset whose data
    stopped, including one present in ``previous`` only). With both ``window_start``
    and ``window_end``, an asset of ``calendars`` with no observation at all (in the
    window or in ``previous``) is one gap over the whole window: a window that starts
    before any data, or an asset whose source returned nothing, does not pass.

    ``last_trading_days`` (``{symbol: day}``, see ``last_trading_days_for``): an asset that
    stopped trading is expected through that day only. The days after it are no gap (the open
    gap runs to the earlier of it and ``window_end``), and an asset whose last trading day is
    before ``window_start`` is not "without a single observation".

    Failure cases: asset, ``gap_start`` / ``gap_end`` (first and last missing
    expected day), ``gap_days``, and the observations around the gap.
    """
    name = "temporal_gaps"
    _require(prices, ["asset_symbol", "timestamp"], name)
    bad_calendars = {s: c for s, c in calendars.items() if c not in CALENDARS}
    if bad_calendars:
        raise ValueError(f"{name}: unknown calendar(s) {bad_calendars} (expected one of {CALENDARS})")
    current = pd.DataFrame(
        {"asset_symbol": prices["asset_symbol"].astype(str).to_numpy(), "timestamp": utc_index(prices["timestamp"])}
    )
    current["in_window"] = True
    parts = [current]
    if previous is not None and len(previous):
        _require(previous, ["asset_symbol", "timestamp"], f"{name} (previous)")
        prev = pd.DataFrame(
            {
                "asset_symbol": previous["asset_symbol"].astype(str).to_numpy(),
                "timestamp": utc_index(previous["timestamp"]),
            }
        )
        first_in_window = current.groupby("asset_symbol")["timestamp"].min()
        start = prev["asset_symbol"].map(first_in_window)
        prev = prev[(start.isna() | (prev["timestamp"] < start)).to_numpy()].copy()
        prev["in_window"] = False
        parts.append(prev)
    frame = pd.concat(parts, ignore_index=True)
    no_timestamp = int(frame["timestamp"].isna().sum())
    frame = frame.dropna(subset=["timestamp"])
    frame["day"] = frame["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("D")
    # One entry per (asset, day): a day observed in the window counts as in the window.
    frame = frame.groupby(["asset_symbol", "day"], sort=True)["in_window"].max().reset_index()
    unknown = sorted(set(frame["asset_symbol"]) - set(calendars))
    if unknown:
        raise ValueError(f"{name}: calendars does not name asset(s) {unknown}")

    sym = frame["asset_symbol"].to_numpy()
    day = frame["day"].to_numpy().astype("datetime64[ns]")
    in_window = frame["in_window"].to_numpy()
    same_as_prev = np.r_[False, sym[1:] == sym[:-1]]
    # Consecutive observations (prev -> next) of the same asset; next in the window.
    nxt = np.flatnonzero(same_as_prev & in_window)
    prv = nxt - 1
    before = day[prv]
    after = day[nxt]
    symbols_pairs = sym[nxt]
    open_end = np.zeros(len(nxt), dtype=bool)
    # Open gaps that stop at the asset's last trading day rather than at window_end.
    to_last_day = np.zeros(len(nxt), dtype=bool)
    ended = {str(s): _day64(d) for s, d in (last_trading_days or {}).items()}
    if window_end is not None:
        end_day = _day64(window_end)
        last_idx = np.flatnonzero(np.r_[sym[1:] != sym[:-1], True]) if len(sym) else np.zeros(0, dtype=int)
        through = _expected_through(sym[last_idx], end_day, ended)
        keep = day[last_idx] < through
        last_idx, through = last_idx[keep], through[keep]
        before = np.r_[before, day[last_idx]]
        # The open gap runs through its last expected day inclusive: model it as ending the day after.
        after = np.r_[after, through + np.timedelta64(1, "D")]
        symbols_pairs = np.r_[symbols_pairs, sym[last_idx]]
        open_end = np.r_[open_end, np.ones(len(last_idx), dtype=bool)]
        to_last_day = np.r_[to_last_day, through < end_day]
    absent: list[str] = []
    if window_start is not None and window_end is not None:
        start_day, end_day = _day64(window_start), _day64(window_end)
        candidates = np.array(sorted(set(calendars) - set(sym)), dtype=object)
        through = _expected_through(candidates, end_day, ended)
        # An asset whose last trading day is before the window is expected to have no observation in it.
        absent = [str(s) for s in candidates[through >= start_day]]
        through = through[through >= start_day]
        before = np.r_[before, np.full(len(absent), start_day - np.timedelta64(1, "D"), "datetime64[ns]")]
        after = np.r_[after, through + np.timedelta64(1, "D")]
        symbols_pairs = np.r_[symbols_pairs, np.array(absent, dtype=object)]
        open_end = np.r_[open_end, np.ones(len(absent), dtype=bool)]
        to_last_day = np.r_[to_last_day, through < end_day]
    weekdays = pd.Series(symbols_pairs, dtype="object").map(calendars).eq("weekdays").to_numpy()
    first_missing = before + np.timedelta64(1, "D")
    last_missing = after - np.timedelta64(1, "D")
    gap = _expected_days_between(first_missing, last_missing, weekdays) if len(before) else np.zeros(0, int)
    longest = {str(k): int(v) for k, v in pd.Series(gap, index=symbols_pairs).groupby(level=0).max().items()}
    bad = gap > max_gap_days

    meta: dict[str, object] = {
        "max_gap_days": max_gap_days,
        "calendars": {s: calendars[s] for s in sorted(set(sym))},
        "observations": int(in_window.sum()),
        "longest_gap_days": dict(sorted(longest.items())),
        "window_end": None if window_end is None else _date(pd.Timestamp(window_end)),
        "previous_given": previous is not None,
        "assets_without_observations": absent,
    }
    if ended:
        meta["last_trading_days"] = {s: _date(pd.Timestamp(d)) for s, d in sorted(ended.items()) if s in calendars}
    if no_timestamp:
        meta["rows_without_timestamp"] = no_timestamp
    if not bad.any():
        summary = (
            f"no gap over {max_gap_days} expected days in {int(in_window.sum())} observations of "
            f"{_plural(len(set(sym)), 'asset')} (longest {max(longest.values(), default=0)})"
        )
        return _outcome(name, passed=True, severity=ERROR, summary=summary, metadata=meta, cases=None, max_cases=0)

    gap_start = utc_index(_first_expected(first_missing[bad], weekdays[bad], True).astype("datetime64[ns]"))
    gap_end = utc_index(_first_expected(last_missing[bad], weekdays[bad], False).astype("datetime64[ns]"))
    cal = np.where(weekdays[bad], "weekdays", "daily")
    cases = pd.DataFrame(
        {
            "asset_symbol": symbols_pairs[bad],
            "timestamp": gap_start,
            "column": "timestamp",
            "value": gap[bad],
            "reason": [
                f"{g} missing {c} from {_date(a)} to {_date(b)}"
                + (
                    " (no observation in the window)"
                    if s in absent
                    else f" (open: none through its last trading day {_date(pd.Timestamp(ended[s]))})"
                    if o and t
                    else " (open: none through window end)"
                    if o
                    else ""
                )
                for s, g, c, a, b, o, t in zip(
                    symbols_pairs[bad], gap[bad], cal, gap_start, gap_end, open_end[bad], to_last_day[bad], strict=True
                )
            ],
            "gap_start": gap_start,
            "gap_end": gap_end,
            "gap_days": gap[bad],
            "last_before": [
                pd.NaT if s in absent else pd.Timestamp(b, tz="UTC")
                for s, b in zip(symbols_pairs[bad], before[bad], strict=True)
            ],
            "first_after": [
                pd.NaT if o else pd.Timestamp(a, tz="UTC") for a, o in zip(after[bad], open_end[bad], strict=True)
            ],
            "calendar": cal,
        }
    ).sort_values(["asset_symbol", "gap_start"], kind="stable")
    meta["gaps_per_asset"] = {str(s): len(g) for s, g in cases.groupby("asset_symbol")}
    parts = []
    for s, g in cases.groupby("asset_symbol", sort=True):
        worst = g.iloc[int(np.argmax(g["gap_days"].to_numpy()))]
        span = f"{_date(worst['gap_start'])}..{_date(worst['gap_end'])}"
        if len(g) == 1:
            parts.append(f"{s}: 1 gap of {worst['gap_days']} days ({span}) exceeds {max_gap_days}")
        else:
            parts.append(f"{s}: {len(g)} gaps exceed {max_gap_days} (longest {worst['gap_days']} days, {span})")
    summary = _join(parts)
    return _outcome(
        name,
        passed=False,
        severity=ERROR,
        summary=summary,
        metadata=meta,
        cases=cases,
        max_cases=max_cases,
    )
