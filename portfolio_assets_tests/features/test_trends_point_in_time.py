"""Google Trends score, point in time: no download fetched after a day's decision instant changes that day.

Downloads are built as Google gives them: the weeks of a range up to the fetch (the last one in progress),
scaled to the range's own maximum and rounded, below one as ``<1`` (read as 0.5). Any download fetched
after D's decision instant (its bar end: 24:00 UTC, 16:00 New York or 16:00 UTC of D) may be added,
changed, rescaled by a later spike or removed: the scores of D and every earlier day stay the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_assets import fpmath
from portfolio_assets.features.sentiment import TrendsSnapshot, trends_score
from portfolio_assets.timing import END_OF_UTC_DAY, FX_BAR_END, NEW_YORK_CLOSE

DAYS = pd.date_range("2019-01-01", "2020-06-30", freq="D", tz="UTC")
WEEKS = pd.date_range("2014-12-28", "2020-12-27", freq="7D", tz="UTC")  # Sundays
SPAN = pd.Timedelta(weeks=260)  # a 5-year range: weekly rows


def interest_path(rng: np.random.Generator) -> np.ndarray:
    """Search interest per week (any positive scale): a lognormal random walk with the odd spike."""
    path = fpmath.exp(np.cumsum(rng.normal(0.0, 0.15, len(WEEKS))))
    spikes = rng.random(len(WEEKS)) < 0.02
    return path * np.where(spikes, rng.uniform(2.0, 10.0, len(WEEKS)), 1.0)


def download(interest: np.ndarray, fetched_at: pd.Timestamp, rng: np.random.Generator) -> TrendsSnapshot:
    """One download: the weeks of the 5 years up to ``fetched_at`` (sampling noise), scaled to max 100, rounded."""
    inside = np.asarray((fetched_at - SPAN < WEEKS) & (fetched_at >= WEEKS))
    raw = interest[inside] * fpmath.exp(rng.normal(0.0, 0.05, inside.sum()))
    scaled = raw / raw.max() * 100.0
    starts = WEEKS[inside]
    frame = pd.DataFrame(
        {
            "period_start": starts,
            "period_end": starts + pd.Timedelta(days=7),
            "value": np.where(scaled < 0.5, 0.5, np.rint(scaled)),
        }
    )
    return TrendsSnapshot(fetched_at, frame)


def fetch_times(rng: np.random.Generator, first: str, last: str, n: int) -> list[pd.Timestamp]:
    """``n`` distinct instants between ``first`` and ``last``, to the second (not only midnights)."""
    lo, hi = pd.Timestamp(first, tz="UTC"), pd.Timestamp(last, tz="UTC")
    seconds = rng.choice(int((hi - lo).total_seconds()), size=n, replace=False)
    return sorted(lo + pd.Timedelta(seconds=int(s)) for s in seconds)


def snapshots(seed: int) -> tuple[np.ndarray, list[TrendsSnapshot]]:
    rng = np.random.default_rng(seed)
    interest = interest_path(rng)
    # A download about every fortnight, at any second of its day.
    start = pd.Timestamp("2018-12-20", tz="UTC")
    times = [
        start + pd.Timedelta(days=14 * i + int(rng.integers(-3, 4)), seconds=int(rng.integers(86_400)))
        for i in range(40)
    ]
    return interest, [download(interest, t, rng) for t in times]


def rescaled(snapshot: TrendsSnapshot, rng: np.random.Generator) -> TrendsSnapshot:
    """The same download after a later spike: every value scaled down and rounded again."""
    factor = rng.uniform(0.05, 0.9)
    value = snapshot.frame["value"].to_numpy() * factor
    return TrendsSnapshot(snapshot.fetched_at, snapshot.frame.assign(value=np.where(value < 0.5, 0.5, np.rint(value))))


def changed(snapshot: TrendsSnapshot, rng: np.random.Generator) -> TrendsSnapshot:
    """Other values on some rows (past weeks included), some rows gone."""
    frame = snapshot.frame.copy()
    rows = rng.random(len(frame)) < 0.5
    frame.loc[rows, "value"] = np.rint(rng.uniform(0.0, 100.0, rows.sum()))
    return TrendsSnapshot(snapshot.fetched_at, frame[rng.random(len(frame)) > 0.1].reset_index(drop=True))


def after(base: list[TrendsSnapshot], decision: pd.Timestamp, interest: np.ndarray, seed: int) -> list[TrendsSnapshot]:
    """``base`` with every snapshot fetched after ``decision`` dropped, changed, rescaled or kept, and new ones."""
    rng = np.random.default_rng(seed)
    out = [s for s in base if s.fetched_at <= decision]
    for snapshot in (s for s in base if s.fetched_at > decision):
        action = rng.integers(4)
        if action == 1:
            out.append(changed(snapshot, rng))
        elif action == 2:
            out.append(rescaled(snapshot, rng))
        elif action == 3:
            out.append(snapshot)
    taken = {s.fetched_at for s in out}
    later = decision + pd.Timedelta(seconds=1)
    # right after the instant (a second, within the hour), and any time later
    near = [later, decision + pd.Timedelta(seconds=int(rng.integers(2, 3600)))]
    for t in near + fetch_times(rng, f"{later:%Y-%m-%d %H:%M:%S}", "2020-09-01", int(rng.integers(0, 6))):
        if t > decision and t not in taken:  # a new download, its past rescaled by whatever it holds
            out.append(download(interest * rng.uniform(0.5, 2.0, len(interest)), t, rng))
    rng.shuffle(out)
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base_seed=st.integers(0, 2**32 - 1),
    seed=st.integers(0, 2**32 - 1),
    position=st.integers(0, len(DAYS) - 1),
    clock=st.sampled_from([END_OF_UTC_DAY, NEW_YORK_CLOSE, FX_BAR_END]),
)
def test_downloads_fetched_after_the_decision_instant_never_change_the_score(base_seed, seed, position, clock):
    interest, base = snapshots(base_seed)
    day = DAYS[position]
    decision = clock.on(pd.DatetimeIndex([day]))[0]
    expected = trends_score(DAYS, base, bar_end=clock)
    actual = trends_score(DAYS, after(base, decision, interest, seed), bar_end=clock)
    pd.testing.assert_series_equal(actual[:day], expected[:day], check_exact=True)


def test_the_property_is_not_trivial():
    """The scores exist, change over time, and the newest download up to the decision instant is the one used."""
    _, base = snapshots(11)
    score = trends_score(DAYS, base)
    assert score.notna().mean() > 0.95 and score.nunique() > 20
    # Changing a download fetched *at or before* a day's decision instant does move that day.
    day = DAYS[200]
    used = max((s for s in base if s.fetched_at <= day + pd.Timedelta(days=1)), key=lambda s: s.fetched_at)
    frame = used.frame.copy()
    complete = np.flatnonzero((frame["period_end"] <= used.fetched_at).to_numpy())
    frame.loc[complete[-1], "value"] = 0.5 if frame.loc[complete[-1], "value"] > 1 else 100.0
    moved = [TrendsSnapshot(s.fetched_at, frame) if s is used else s for s in base]
    assert trends_score(DAYS, moved)[day] != score[day]


def test_merging_downloads_would_leak_the_future():
    """Why downloads stay apart: had a later, rescaled download overwritten the shared weeks, D's score moves."""
    rng = np.random.default_rng(3)
    interest = interest_path(rng)
    first = download(interest, pd.Timestamp("2019-06-30 12:00", tz="UTC"), rng)
    later_spike = interest.copy()
    later_spike[WEEKS.get_loc(pd.Timestamp("2019-08-04", tz="UTC"))] *= 50.0
    second = download(later_spike, pd.Timestamp("2019-08-31 12:00", tz="UTC"), rng)
    day = pd.DatetimeIndex([pd.Timestamp("2019-07-15", tz="UTC")])
    kept_apart = trends_score(day, [first, second])
    assert kept_apart.equals(trends_score(day, [first]))
    merged = pd.concat([first.frame, second.frame]).drop_duplicates("period_start", keep="last")
    merged_score = trends_score(day, [TrendsSnapshot(first.fetched_at, merged.sort_values("period_start"))])
    assert merged_score.iloc[0] != kept_apart.iloc[0]
