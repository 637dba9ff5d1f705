"""Daily sentiment fields for one asset, each as known at the day's close.

* ``news_sentiment_score``: GDELT DOC average tone of the day's matching
  articles divided by 100 (GDELT's tone scale is -100..+100), so -1..1.
* ``news_volume``: GDELT raw count of the day's matching articles.
* ``social_sentiment_score`` / ``social_mention_count``: the licensed daily feed.
* ``google_trends_score``: a Trends download is scaled to the maximum of its
  whole requested range and rounded, so a later week that rises rescales every
  past value, and values of two downloads are not comparable. Each download is
  therefore kept as fetched (:class:`TrendsSnapshot`) and a row's score comes
  from one download only: the newest fetched at or before the row's decision
  instant, its latest period complete at the fetch (a week Sunday..Saturday
  ends at Sunday 00:00 UTC; the week in progress is partial and not used),
  relative to the highest value of *that download's* trailing 52 weeks up to
  it, x100. Held at most one period + 5 weeks after the period ended (a
  download a month is enough); before the first download there is no score.
* ``fear_greed_index``: alternative.me's index for the day (crypto only).

Every row has a decision instant (``timing``: its own price bar's end, 24:00 UTC
for crypto, 16:00 New York for equities and ETFs, 16:00 UTC for FX and metals).
Daily aggregates (news, social, fear & greed) cover UTC days and are complete
(available) at 24:00 UTC of their day: a row uses the newest UTC day complete at
its decision instant (crypto's day D itself; every other class closes earlier
and uses D-1). Trends downloads count if fetched at or before the decision
instant. Each field comes with its ``<field>_available_at``: the end of the
aggregated day, or the download's fetch instant. Values are matched to their
own day; nothing is filled from other days except the Trends score (bounded,
see above), and nothing backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from portfolio_assets.features.registry import SENTIMENT_FIELDS, available_column
from portfolio_assets.timeutil import utc_index, utc_timestamp
from portfolio_assets.timing import END_OF_UTC_DAY, Clock, complete_utc_day

UTC_NS = "datetime64[ns, UTC]"
_COUNTS = ("news_volume", "social_mention_count")

TRENDS_TRAILING = pd.Timedelta(weeks=52)
TRENDS_HOLD = pd.Timedelta(weeks=5)
"""How long past its own period's length a Trends value is used after the period ended."""


@dataclass(frozen=True)
class TrendsSnapshot:
    """One Google Trends download as fetched: ``frame`` (``period_start``, ``period_end``
    exclusive, ``value``) scaled to its own range's maximum, and its UTC fetch instant."""

    fetched_at: pd.Timestamp
    frame: pd.DataFrame

    @cached_property
    def score(self) -> tuple[float, pd.Timestamp, pd.Timedelta]:
        """``snapshot_score`` of this download, computed once: assets sharing a search term share its
        downloads, and a download is never changed once fetched."""
        return snapshot_score(self)


def _on_days(days: pd.DatetimeIndex, frame: pd.DataFrame, column: str) -> pd.Series:
    if frame is None or frame.empty:
        return pd.Series(np.nan, index=days)
    series = frame.set_index(pd.DatetimeIndex(frame["timestamp"]).normalize())[column]
    series = series[~series.index.duplicated(keep="last")]
    return series.reindex(days)


def snapshot_score(snapshot: TrendsSnapshot) -> tuple[float, pd.Timestamp, pd.Timedelta]:
    """``(score, period end, period length)`` of the latest period complete at the snapshot's fetch.

    The score is that period's value / the highest value of the snapshot's trailing 52 weeks up to
    it x100; NaN (and NaT) when no period was complete at the fetch or the trailing high is 0.
    """
    fetched_at = utc_timestamp(snapshot.fetched_at)
    frame = snapshot.frame
    if frame is None or frame.empty:
        return np.nan, pd.NaT, pd.NaT
    ends = utc_index(frame["period_end"])
    complete = frame[np.asarray(ends <= fetched_at)].sort_values("period_start", kind="stable")
    if complete.empty:
        return np.nan, pd.NaT, pd.NaT
    starts = utc_index(complete["period_start"])
    values = complete["value"].to_numpy(dtype="float64")
    high = values[np.asarray(starts > starts[-1] - TRENDS_TRAILING)].max()
    score = values[-1] / high * 100.0 if high > 0 else np.nan
    end = utc_index(complete["period_end"])[-1]
    return float(score), end, end - starts[-1]


def trends_score(
    days: pd.DatetimeIndex, snapshots: Sequence[TrendsSnapshot] | None, *, bar_end: Clock = END_OF_UTC_DAY
) -> pd.Series:
    """Google Trends score of each day (UTC midnights), decided at ``bar_end`` on the day (``trends_at``)."""
    days = pd.DatetimeIndex(days)
    score, _ = trends_at(bar_end.on(days), snapshots)
    return pd.Series(score.to_numpy(), index=days, dtype="float64")


def trends_at(decision: pd.DatetimeIndex, snapshots: Sequence[TrendsSnapshot] | None) -> tuple[pd.Series, pd.Series]:
    """Google Trends score at each decision instant, from the newest snapshot fetched by then, and that
    snapshot's fetch instant (its ``available_at``).

    A snapshot fetched after the instant never changes its score. No snapshot by then: NaN (and NaT).
    """
    decision = utc_index(decision)
    if not snapshots:
        return pd.Series(np.nan, index=decision, dtype="float64"), pd.Series(pd.NaT, index=decision, dtype=UTC_NS)
    fetched = utc_index([s.fetched_at for s in snapshots])
    if fetched.has_duplicates:
        raise ValueError(f"Google Trends: two snapshots fetched at {fetched[fetched.duplicated()][0]}")
    # Only a snapshot that is the newest fetched by some decision instant can give a score: score those alone
    # (a chunked build's run sees a few months of decisions, but every download of the whole history).
    order = np.argsort(fetched.as_unit("ns").asi8, kind="stable")
    newest = np.searchsorted(fetched.as_unit("ns").asi8[order], decision.as_unit("ns").asi8, side="right") - 1
    used = order[np.unique(newest[newest >= 0])] if (newest >= 0).any() else order[:1]
    snapshots, fetched = [snapshots[i] for i in used], fetched[used]
    scores = [s.score for s in snapshots]
    known = pd.DataFrame(
        {
            "fetched_at": fetched,
            "score": np.array([s for s, _, _ in scores], dtype="float64"),
            "held_until": utc_index([end + length + TRENDS_HOLD for _, end, length in scores]),
        }
    ).sort_values("fetched_at", kind="stable")
    probe = pd.DataFrame({"decision": decision})
    merged = pd.merge_asof(probe, known, left_on="decision", right_on="fetched_at", direction="backward")
    fresh = (merged["decision"] <= merged["held_until"]).to_numpy() & merged["score"].notna().to_numpy()
    score = pd.Series(np.where(fresh, merged["score"].to_numpy(), np.nan), index=decision, dtype="float64")
    fetched_at = pd.Series(utc_index(merged["fetched_at"]), index=decision).where(fresh, pd.NaT).astype(UTC_NS)
    return score, fetched_at


def asset_sentiment(
    days: pd.DatetimeIndex,
    *,
    asset_symbol: str,
    tone: pd.DataFrame,
    volume: pd.DataFrame,
    social: pd.DataFrame,
    trends: Sequence[TrendsSnapshot] | None,
    fear_greed: pd.DataFrame | None,
    bar_end: Clock = END_OF_UTC_DAY,
    trends_scores: tuple[pd.Series, pd.Series] | None = None,
) -> pd.DataFrame:
    """The six sentiment fields of one asset on ``days`` (UTC midnights), each with its ``<field>_available_at``.

    ``trends_scores``: ``trends_at(bar_end.on(days), trends)`` when the caller has it already (assets of one
    search term and bar end share it); computed here otherwise.

    ``fear_greed`` is None where the index does not apply (non-crypto): the
    column is then NaN, which the registry marks as not applicable.
    ``bar_end``: the asset's price bar end (``timing.bar_end``), which sets each day's decision
    instant: daily aggregates come from the newest UTC day complete by then (crypto: D; a class
    that closes before 24:00 UTC: D-1), Trends from the newest download fetched by then.
    """
    days = pd.DatetimeIndex(days)
    decision = bar_end.on(days)
    source_days = complete_utc_day(decision)
    own_social = social[social["asset_symbol"] == asset_symbol] if social is not None else None
    trends_values, trends_fetched = trends_scores if trends_scores is not None else trends_at(decision, trends)
    fields = {
        "news_sentiment_score": _on_days(source_days, tone, "value") / 100.0,
        "news_volume": _on_days(source_days, volume, "value").round().astype("Int64"),
        "social_sentiment_score": _on_days(source_days, own_social, "social_sentiment_score"),
        "social_mention_count": _on_days(source_days, own_social, "social_mention_count").astype("Int64"),
        "fear_greed_index": _on_days(source_days, fear_greed, "value") if fear_greed is not None else None,
    }
    complete_at = utc_index(source_days + pd.Timedelta(days=1))  # a UTC day's aggregates are final at its end
    missing = pd.DatetimeIndex([pd.NaT] * len(days), tz="UTC")
    frame = pd.DataFrame({"timestamp": days, "asset_symbol": asset_symbol})
    for name in SENTIMENT_FIELDS:
        if name == "google_trends_score":
            values, available = trends_values.to_numpy(), utc_index(trends_fetched)
        elif fields[name] is None:
            values, available = np.full(len(days), np.nan), missing
        else:
            values = fields[name].array if name in _COUNTS else fields[name].to_numpy()
            available = complete_at.where(fields[name].notna().to_numpy(), pd.NaT)
        frame[name] = values
        frame[available_column(name)] = available.as_unit("ns")
    return frame


@dataclass(frozen=True)
class AssetSources:
    """Where one asset's sentiment comes from (the arguments of ``asset_sentiment`` but the social feed).

    Assets sharing a source share the very object (a news query's timelines, a search term's scores at one
    bar end, the Fear & Greed index), so ``sentiment_panel`` computes each once.
    """

    symbol: str
    bar_end: Clock
    tone: pd.DataFrame
    volume: pd.DataFrame
    trends_scores: tuple[pd.Series, pd.Series]
    fear_greed: pd.DataFrame | None


def _stack(parts: list[object], at: np.ndarray) -> object:
    """Positions ``at`` of the arrays ``parts`` put end to end (numpy arrays, or extension arrays of one type)."""
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)[at]
    return type(parts[0])._concat_same_type(parts).take(at)


def _social_rows(social: pd.DataFrame | None, symbols: list[str], source_days: list[pd.DatetimeIndex]) -> np.ndarray:
    """For asset ``a`` and day ``j``, the row of ``social`` holding its value on ``source_days[a][j]`` (the last
    such row, as ``_on_days`` keeps), or -1; flattened asset by asset."""
    n = len(source_days[0]) if source_days else 0
    if social is None or social.empty:
        return np.full(len(symbols) * n, -1, dtype="int64")
    asset = pd.Index(symbols).get_indexer(social["asset_symbol"])
    on = pd.DatetimeIndex(social["timestamp"]).normalize()
    days = pd.Index(on.unique())
    key = asset * len(days) + days.get_indexer(on)
    key[asset < 0] = -1
    last = ~pd.Index(key).duplicated(keep="last") & (asset >= 0)
    found = pd.Index(key[last])
    row = np.flatnonzero(last)
    wanted = np.concatenate([a * len(days) + days.get_indexer(d) for a, d in enumerate(source_days)])
    wanted[np.concatenate([days.get_indexer(d) < 0 for d in source_days])] = -2  # no such day: no row
    at = found.get_indexer(wanted)
    return np.where(at >= 0, row[at], -1)


def _social_values(social: pd.DataFrame | None, name: str, at: np.ndarray) -> object:
    """Column ``name`` of ``social`` at rows ``at`` (-1: none), as ``asset_sentiment`` gives it."""
    if social is None:
        values = pd.Series(np.full(len(at), np.nan))
    else:
        column = social[name]
        data = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
        values = pd.Series(pd.api.extensions.take(data, at, allow_fill=True))
    return values.astype("Int64").array if name in _COUNTS else values.to_numpy()


def sentiment_panel(
    days: pd.DatetimeIndex, assets: Sequence[AssetSources], social: pd.DataFrame | None
) -> pd.DataFrame:
    """``asset_sentiment`` of every asset of ``assets`` on ``days``, one after the other: the same rows, values
    and dtypes as concatenating the assets' frames, but each shared source looked up once and the rows put
    together column by column, so the cost follows days x assets, not a fixed cost per asset.

    ``social``: the feed of every asset (each asset's own rows are its ``asset_symbol``'s).
    """
    if not assets:
        raise ValueError("sentiment_panel: no assets")
    days = pd.DatetimeIndex(days)
    n = len(days)
    clocks: dict[Clock, int] = {}
    source_days: list[pd.DatetimeIndex] = []  # per bar end: the UTC day complete at each day's decision
    complete_at: list[np.ndarray] = []  # ... and the instant that day's aggregates are final (ns)
    sources = {"news": lambda a: a.tone, "trends": lambda a: a.trends_scores, "fng": lambda a: a.fear_greed}
    group = {kind: np.zeros(len(assets), dtype="int64") for kind in sources}
    first: dict[str, list[AssetSources]] = {kind: [] for kind in sources}  # an asset of each group, in order
    seen: dict[tuple[str, int, Clock], int] = {}
    for i, spec in enumerate(assets):
        if spec.bar_end not in clocks:
            clocks[spec.bar_end] = len(clocks)
            source_days.append(complete_utc_day(spec.bar_end.on(days)))
            complete_at.append(utc_index(source_days[-1] + pd.Timedelta(days=1)).as_unit("ns").asi8)
        for kind, source_of in sources.items():  # the objects are alive: their ids are theirs alone
            key = (kind, id(source_of(spec)), spec.bar_end)
            if key not in seen:
                seen[key] = len(first[kind])
                first[kind].append(spec)
            group[kind][i] = seen[key]
    parts: dict[str, list[object]] = {name: [] for name in SENTIMENT_FIELDS}
    fetched: list[np.ndarray] = []
    for spec in first["news"]:
        on = source_days[clocks[spec.bar_end]]
        parts["news_sentiment_score"].append((_on_days(on, spec.tone, "value") / 100.0).to_numpy())
        parts["news_volume"].append(_on_days(on, spec.volume, "value").round().astype("Int64").array)
    for spec in first["trends"]:
        values, at = spec.trends_scores
        parts["google_trends_score"].append(values.to_numpy())
        fetched.append(utc_index(at).as_unit("ns").asi8)
    for spec in first["fng"]:
        on = source_days[clocks[spec.bar_end]]
        fng = spec.fear_greed
        parts["fear_greed_index"].append(
            _on_days(on, fng, "value").to_numpy() if fng is not None else np.full(n, np.nan)
        )
    # Row r is asset asset[r] on day days[day[r]]; a group's value on that day is at group * n + day[r].
    day = np.tile(np.arange(n), len(assets))
    asset = np.repeat(np.arange(len(assets)), n)
    bar = np.array([clocks[spec.bar_end] for spec in assets], dtype="int64")
    final_at = np.concatenate(complete_at)[bar[asset] * n + day]
    social_at = _social_rows(social, [a.symbol for a in assets], [source_days[b] for b in bar])
    has_fng = np.array([spec.fear_greed is not None for spec in assets], dtype=bool)[asset]
    kind_of = {"news_sentiment_score": "news", "news_volume": "news", "google_trends_score": "trends"}
    frame: dict[str, object] = {
        "timestamp": days.take(day),
        "asset_symbol": np.array([spec.symbol for spec in assets], dtype=object)[asset],
    }
    for name in SENTIMENT_FIELDS:
        if name.startswith("social_"):
            values = _social_values(social, name, social_at)
        else:
            values = _stack(parts[name], group[kind_of.get(name, "fng")][asset] * n + day)
        if name == "google_trends_score":
            available = np.concatenate(fetched)[group["trends"][asset] * n + day]
        else:  # a daily aggregate: final at the end of its UTC day; not applicable: never
            known = ~pd.isna(values) & (has_fng if name == "fear_greed_index" else True)
            available = np.where(known, final_at, np.iinfo("int64").min)
        frame[name] = values
        frame[available_column(name)] = pd.DatetimeIndex(available.view("M8[ns]")).tz_localize("UTC")
    return pd.DataFrame(frame)
