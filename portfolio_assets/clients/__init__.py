"""Live clients that fill the raw landing zone from the real APIs (plain Python, no Dagster).

One client per source, each with request builders, ``plan(requests)``,
``fetch(request)`` and ``fetch_all(requests)``:

* :class:`AlphaVantageClient` - daily prices (crypto, equities/ETFs, FX and gold), commodities, splits, dividends
* :class:`FredClient` - FRED observations, or ALFRED first releases
* :class:`GdeltClient` - GDELT DOC 2.0 tone and volume timelines
* :class:`CoinGeckoClient` - CoinGecko market charts
* :class:`FearGreedClient` - the alternative.me Fear & Greed index
* :class:`LocalFilesClient` - the social-sentiment CSV and Google Trends exports from configured paths

Shared machinery: ``http`` (retrying sessions, rate limiter, daily budget),
``store`` (staging, ``_failed``, freshness records), ``model`` (requests and
results), ``base`` (the fetch cycle), ``redaction`` (keys out of messages,
logs and files), ``errors`` (one class per failure mode).
"""

from portfolio_assets.clients.alphavantage import AlphaVantageClient
from portfolio_assets.clients.base import HttpSourceClient
from portfolio_assets.clients.coingecko import CoinGeckoClient
from portfolio_assets.clients.errors import (
    BudgetExhausted,
    ClientError,
    HttpStatusError,
    RangeBeyondFreeTierError,
    RateLimitedError,
    RejectedResponseError,
    TransportError,
)
from portfolio_assets.clients.fear_greed import FearGreedClient
from portfolio_assets.clients.fred import FredClient
from portfolio_assets.clients.gdelt import GdeltClient
from portfolio_assets.clients.http import DailyBudget, RateLimiter, RetryPolicy
from portfolio_assets.clients.local_files import LocalFilesClient
from portfolio_assets.clients.model import FetchRequest, FetchResult

__all__ = [
    "AlphaVantageClient",
    "BudgetExhausted",
    "ClientError",
    "CoinGeckoClient",
    "DailyBudget",
    "FearGreedClient",
    "FetchRequest",
    "FetchResult",
    "FredClient",
    "GdeltClient",
    "HttpSourceClient",
    "HttpStatusError",
    "LocalFilesClient",
    "RangeBeyondFreeTierError",
    "RateLimitedError",
    "RateLimiter",
    "RejectedResponseError",
    "RetryPolicy",
    "TransportError",
]
