"""Raw source assets: one per source, filling the landing zone that prices, macro, benchmarks and sentiment read.

Each raw asset plans the requests its partitions need from the universe
(:func:`plan_requests`), logs how many calls each will make, and fetches them
through the ``sources`` resource: the live clients (``PORTFOLIO_SOURCE_MODE=live``)
or the stored responses (``sample``, the default, which sends nothing).

Failures are isolated per series:

* a series whose **owners** are universe assets (a price series, a news query,
  a search term, the Fear & Greed index of the crypto assets) leaves those
  assets out: its failure goes to the fetch-status ledger
  (``clients.status``), the ``fetch`` check fails naming them, ``prices`` and
  ``sentiment`` build every other asset's rows, and ``training_set`` names them
  as excluded in a failed blocking check and in its manifest;
* a **universe-wide** series (a FRED macro series, the social feed) fails the
  step: without it no row is right;
* a **transient** failure (no answer, 429, 5xx, a rate-limit body) fails the
  step so Dagster's ``RetryPolicy`` runs it again (stored responses are reused,
  so a retry only re-asks what failed); on the last attempt it counts as above;
* a spent **daily budget** stops the step cleanly, saying how many calls are
  left; the next run resumes where it stopped.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Backoff,
    Failure,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from portfolio_assets import replay, settings
from portfolio_assets.assets.quality import check_result, check_specs, days_of, per_partition
from portfolio_assets.assets.windows import run_window
from portfolio_assets.checks.outcome import FAILURE_COLUMNS, CheckOutcome
from portfolio_assets.clients import (
    AlphaVantageClient,
    BudgetExhausted,
    CoinGeckoClient,
    FearGreedClient,
    FredClient,
    GdeltClient,
    LocalFilesClient,
)
from portfolio_assets.clients.errors import HttpStatusError, RateLimitedError, TransportError
from portfolio_assets.clients.gdelt import MODES
from portfolio_assets.clients.model import FetchRequest
from portfolio_assets.clients.redaction import scrub
from portfolio_assets.clients.status import SeriesStatus, record_status
from portfolio_assets.clients.store import ResponseStore
from portfolio_assets.codeversion import version_of
from portfolio_assets.errors import SourceError
from portfolio_assets.partitions import OBSERVATION_PARTITIONS
from portfolio_assets.resources import RAW_ASSET_SOURCES, LandingZoneResource, SourcesResource, StorageResource
from portfolio_assets.schedules import DAILY_FRESHNESS
from portfolio_assets.universe import Universe

SOURCE_RETRIES = 2
SOURCE_RETRY_POLICY = RetryPolicy(
    max_retries=SOURCE_RETRIES,
    delay=settings.SOURCE_RETRY_DELAY,
    backoff=Backoff.EXPONENTIAL,
    jitter=Jitter.PLUS_MINUS,
)

"""Transient failures: the step runs again after the delay (doubled each time, with jitter), twice at most."""

PRICE_SOURCES = ("alphavantage",)
"""The sources whose failures leave an asset out of ``prices`` (CoinGecko is a reference only)."""
SENTIMENT_SOURCES = ("gdelt", "google_trends", "alternative_me", "social")
"""The sources whose failures leave an asset out of ``sentiment``."""
COINGECKO_FREE_DAYS = 365
VINTAGE_FREQUENCIES = ("monthly", "quarterly")
"""FRED series of these cadences are revised after release: they are fetched as first releases (ALFRED)."""


@dataclass(frozen=True)
class Planned:
    """A request, the universe assets whose rows need it (none: every row), and whether failing excludes them."""

    request: FetchRequest
    owners: tuple[str, ...] = ()
    excludes: bool = True


def provider_daily_limit(error: SourceError) -> bool:
    """Whether a rate-limit answer says the key's calls for the day are spent (Alpha Vantage's 25 a day)."""
    text = str(error).lower()
    return "per day" in text and "per minute" not in text


@dataclass(frozen=True)
class Failed:
    planned: Planned
    error: SourceError

    @property
    def transient(self) -> bool:
        err = self.error
        if isinstance(err, (TransportError, RateLimitedError)):
            return True
        return isinstance(err, HttpStatusError) and err.status is not None and (err.status == 429 or err.status >= 500)


def trends_path(template: str, query: str) -> str:
    """The Google Trends export of ``query``: ``{query}`` in the setting replaced, or ``<directory>/<query>.csv``."""
    if "{query}" in template:
        return template.replace("{query}", query)
    if Path(template).is_dir():
        return str(Path(template) / f"{query}.csv")
    raise settings.SettingError(
        f"{settings.TRENDS_CSV_PATH_ENV}={template!r} must be a directory holding <search term>.csv exports, or a"
        " path with {query} in it (one multiTimeline.csv per search term)"
    )


def _owners(universe: Universe, key: Callable[[Any], str | None], value: str) -> tuple[str, ...]:
    return tuple(spec.symbol for spec in universe.assets if key(spec) == value)


def plan_requests(
    source: str, universe: Universe, first: date, last: date, sources: SourcesResource, today: date
) -> tuple[list[Planned], list[str]]:
    """The requests ``source`` needs for partitions ``first..last``, and notes on what is left out and why."""
    live = sources.mode == "live"
    notes: list[str] = []
    planned: list[Planned] = []
    if source == "alphavantage":
        macro_symbols = {m.symbol for m in universe.macro if m.source == "asset"}
        for spec in universe.assets:
            # a series a macro field reads (gold) is needed by every row, not only by its own asset's
            owners = () if spec.symbol in macro_symbols else (spec.symbol,)
            planned.append(Planned(AlphaVantageClient.daily(spec.params, since=first, through=last), owners))
            # equities and ETFs: their splits and dividends adjust their prices, so a failure excludes the asset
            if spec.params.get("function") in replay.ACTION_FUNCTIONS:
                planned.append(Planned(AlphaVantageClient.splits(spec.params["symbol"], through=last), (spec.symbol,)))
                planned.append(
                    Planned(AlphaVantageClient.dividends(spec.params["symbol"], through=last), (spec.symbol,))
                )
    elif source == "fred":
        for macro in universe.macro:
            if macro.source == "fred" and macro.series_id:
                vintage = macro.frequency in VINTAGE_FREQUENCIES
                planned.append(Planned(FredClient.observations(macro.series_id, vintage=vintage, through=last)))
    elif source == "gdelt":
        for query in dict.fromkeys(spec.news_query for spec in universe.assets):
            owners = _owners(universe, lambda s: s.news_query, query)
            for mode in MODES:
                planned.append(Planned(GdeltClient.timeline(query, mode, first - timedelta(days=1), last), owners))
    elif source == "coingecko":
        free_start = today - timedelta(days=COINGECKO_FREE_DAYS - 1)
        for spec in universe.assets:
            if not spec.coingecko_id:
                continue
            if live and last < free_start:
                notes.append(
                    f"{spec.symbol}: {first}..{last} is older than CoinGecko's free {COINGECKO_FREE_DAYS} days"
                )
                continue
            since = max(first, free_start) if live else first
            request = CoinGeckoClient.market_chart(spec.coingecko_id, since=since, through=last)
            planned.append(Planned(request, (spec.symbol,), excludes=False))
    elif source == "alternative_me":
        owners = tuple(spec.symbol for spec in universe.assets if spec.fear_greed)
        if owners:
            planned.append(Planned(FearGreedClient.index(through=last), owners))
    elif source == "social":
        planned.append(Planned(LocalFilesClient.social(sources.social_csv_path)))
    elif source == "google_trends":
        for query in dict.fromkeys(spec.trends_query for spec in universe.assets):
            path = trends_path(sources.google_trends_csv_path, query) if live else ""
            planned.append(
                Planned(LocalFilesClient.trends(query, path), _owners(universe, lambda s: s.trends_query, query))
            )
    else:
        raise ValueError(f"unknown source {source!r}")
    unique = {(p.request.source, p.request.series, p.request.since, p.request.through): p for p in planned}
    return list(unique.values()), notes


def _status(planned: Planned, first: date, last: date, error: SourceError | None = None) -> SeriesStatus:
    return SeriesStatus(
        series=planned.request.series,
        ok=error is None,
        first=first,
        last=last,
        owners=planned.owners,
        excludes=planned.excludes,
        error="" if error is None else scrub(str(error)),
    )


def _fetch_outcome(source: str, failed: list[Failed], made: int, reused: int) -> CheckOutcome:
    excluded = sorted({o for f in failed if f.planned.excludes for o in f.planned.owners})
    rows = [
        {
            "asset_symbol": ", ".join(f.planned.owners) or "(every asset)",
            "timestamp": None,
            "column": f.planned.request.series,
            "value": type(f.error).__name__,
            "reason": scrub(str(f.error)),
        }
        for f in failed
    ]
    if failed:
        summary = f"{source}: {len(failed)} series failed" + (
            f"; excluded from this build: {', '.join(excluded)}" if excluded else " (reference series only)"
        )
    else:
        summary = f"{source}: every series fetched or fresh ({made} calls made, {reused} reused)"
    return CheckOutcome(
        name="fetch",
        passed=not failed,
        severity="ERROR" if excluded else "WARN",
        summary=summary,
        metadata={"excluded_assets": excluded, "failed_series": [f.planned.request.series for f in failed]},
        failures=pd.DataFrame(rows, columns=FAILURE_COLUMNS),
    )


def fetch_source(
    context: AssetExecutionContext,
    source: str,
    sources: SourcesResource,
    landing: LandingZoneResource,
    storage: StorageResource,
) -> MaterializeResult:
    """Fetch what ``source`` needs for the run's partitions; see the module doc for what a failure does."""
    first, last = (stamp.date() for stamp in run_window(context))
    if sources.mode == "live" and landing.is_bundled_sample():
        raise settings.SettingError(
            f"{settings.SOURCE_MODE_ENV}=live would write into the bundled sample ({landing.root}): set"
            f" {settings.LANDING_DIR_ENV} to a directory of your own"
        )
    if sources.mode == "live":
        for body in ResponseStore(landing.location()).recover_pending():
            context.log.warning(f"{source}: a fetch that died left {body.name}; kept under _failed for diagnosis")
    planned, notes = plan_requests(source, landing.universe(), first, last, sources, datetime.now(UTC).date())
    client = sources.client(source, landing.location())
    try:
        calls = client.plan([p.request for p in planned])[source]
        budget = getattr(client, "budget", None)
        left = budget.remaining() if budget is not None else None
        context.log.info(
            f"{source} ({sources.mode}): {len(planned)} requests for {first}..{last}, {calls} need a call"
            + ("" if left is None else f" (daily budget: {left} calls left)")
        )
        for note in notes:
            context.log.info(f"{source}: {note}")
        made, reused, failed, ok = 0, 0, [], []
        stop: str | None = None
        left_to_make = 0
        for index, item in enumerate(planned):
            try:
                result = client.fetch(item.request)
            except BudgetExhausted as exc:
                left_to_make = client.plan([p.request for p in planned[index:]])[source]
                stop = str(
                    BudgetExhausted(
                        source,
                        day=exc.day,
                        budget=exc.budget,
                        made_today=exc.made_today,
                        made_in_run=made,
                        left=left_to_make,
                    )
                )
                break
            except RateLimitedError as exc:
                if not provider_daily_limit(exc):
                    failed.append(Failed(item, exc))
                    context.log.warning(scrub(str(exc)))
                    continue
                left_to_make = client.plan([p.request for p in planned[index:]])[source]
                stop = (
                    f"{scrub(str(exc))}. The provider's daily limit is reached: {made} calls made in this run,"
                    f" {left_to_make} planned calls left. Run again after 00:00 UTC (or lower"
                    f" {settings.ALPHAVANTAGE_DAILY_BUDGET_ENV} to the key's real limit); stored responses are reused"
                )
                break
            except SourceError as exc:
                failed.append(Failed(item, exc))
                context.log.warning(scrub(str(exc)))
                continue
            ok.append(item)
            made += not result.reused
            reused += result.reused
    finally:
        client.close()

    store_root = storage.store_root()
    series = {p.request.series for p in planned}
    transient = [f for f in failed if f.transient]
    if transient and context.retry_number < SOURCE_RETRIES and stop is None:
        record_status(store_root, source, [_status(p, first, last) for p in ok], series)
        raise Failure(
            description=(
                f"{source}: {len(transient)} request(s) met a transient failure"
                f" (first: {scrub(str(transient[0].error))});"
                f" Dagster retries this step (attempt {context.retry_number + 1} of {SOURCE_RETRIES + 1}), reusing the"
                " responses already stored"
            ),
            allow_retries=True,
        )
    outcomes = [*(_status(p, first, last) for p in ok), *(_status(f.planned, first, last, f.error) for f in failed)]
    record_status(store_root, source, outcomes, series)
    if stop is not None:
        raise Failure(description=stop, metadata={"calls_made": made, "calls_left": left_to_make}, allow_retries=False)
    everywhere = [f for f in failed if not f.planned.owners]
    if everywhere:
        raise Failure(
            description=f"{source}: {len(everywhere)} series every row needs failed, so nothing downstream can be"
            " built; " + " | ".join(scrub(str(f.error)) for f in everywhere),
            allow_retries=False,
        )
    outcome = _fetch_outcome(source, failed, made, reused)
    return MaterializeResult(
        metadata={
            "mode": sources.mode,
            "landing_zone": MetadataValue.path(str(landing.root)),
            "requests": len(planned),
            "calls_made": made,
            "reused": reused,
            "failed": len(failed),
            "excluded_assets": MetadataValue.json(outcome.metadata["excluded_assets"]),
            "notes": MetadataValue.json(notes),
            "date_range": f"{first}..{last}",
        },
        check_results=list(per_partition(context, [check_result(outcome, days=days_of(first, last))])),
    )


DESCRIPTIONS = {
    "alphavantage": "Alpha Vantage daily prices of every universe asset (DIGITAL_CURRENCY_DAILY, TIME_SERIES_DAILY, "
    "FX_DAILY; gold as XAU) and the splits and dividends (SPLITS, DIVIDENDS) of equities and ETFs.",
    "fred": "FRED series/observations of the macro fields; monthly and quarterly series as first releases "
    "(ALFRED output_type=4, each value dated by its realtime_start).",
    "gdelt": "GDELT DOC 2.0 timelinetone and timelinevolraw of each asset's news query.",
    "coingecko": "CoinGecko market charts of the crypto assets: the second close the cross-source check uses "
    "(a reference: its failure does not exclude the asset).",
    "alternative_me": "The alternative.me crypto Fear & Greed index (whole history, one call).",
    "social": "The licensed social-sentiment daily CSV (SOCIAL_SENTIMENT_DAILY_CSV_PATH), validated on load.",
    "google_trends": "Google Trends multiTimeline.csv exports, one per search term (GOOGLE_TRENDS_CSV_PATH), "
    "validated on load.",
}


CODE_VERSION = version_of(__name__)
"""The code version of this module's assets (``codeversion``): the UI shows them stale after a change."""


def raw_asset(name: str, source: str) -> AssetsDefinition:
    """The raw asset ``name`` that fills the landing zone with ``source``'s responses."""

    @asset(
        code_version=CODE_VERSION,
        freshness_policy=DAILY_FRESHNESS,
        name=name,
        group_name="sources",
        partitions_def=OBSERVATION_PARTITIONS,
        backfill_policy=BackfillPolicy.single_run(),
        retry_policy=SOURCE_RETRY_POLICY,
        check_specs=check_specs(name, ["fetch"], OBSERVATION_PARTITIONS),
        kinds={"csv" if source in ("social", "google_trends") else "json"},
        description=(
            f"{DESCRIPTIONS[source]} Stored verbatim in the landing zone (<landing>/{source}/<series>/<fetched at>), "
            "reused while fresh. Sample mode replays the bundled responses and sends nothing."
        ),
    )
    def _raw(
        context: AssetExecutionContext, sources: SourcesResource, landing: LandingZoneResource, storage: StorageResource
    ) -> MaterializeResult:
        try:
            return fetch_source(context, source, sources, landing, storage)
        except Failure:
            raise
        except Exception as exc:  # a setting, a damaged ledger, a parser defect: retrying would not help
            raise Failure(description=f"{name}: {type(exc).__name__}: {scrub(str(exc))}", allow_retries=False) from None

    return _raw


RAW_ASSETS: list[AssetsDefinition] = [raw_asset(name, source) for name, source in RAW_ASSET_SOURCES.items()]
RAW_BY_SOURCE: dict[str, AssetsDefinition] = {
    source: next(a for a in RAW_ASSETS if a.key.path[-1] == name) for name, source in RAW_ASSET_SOURCES.items()
}
