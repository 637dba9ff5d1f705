"""Errors that name their source and cause, and never carry a secret.

:data:`SECRET_PARAMS` is the one list of credential names: the landing zone
refuses them in series keys, Alpha Vantage drops them from series params, and
``sources._wire.redact`` hides their values in every error message.
"""

from __future__ import annotations

# Request parameters and headers whose value is a credential, lower case (compare ``name.lower()``).
_SECRET_NAMES = (
    "apikey",
    "api_key",
    "apitoken",
    "api_token",
    "access_token",
    "client_secret",
    "x_cg_demo_api_key",
    "x_cg_pro_api_key",
    "token",
    "key",
    "authorization",
)
SECRET_PARAMS: frozenset[str] = frozenset(
    spelling for name in _SECRET_NAMES for spelling in (name, name.replace("_", "-"))
)


class SourceError(ValueError):
    """A response or file from an external source could not be used.

    The message always starts with the source name (``alphavantage``,
    ``fred``, ...) and the request it belongs to, then the cause.
    """

    def __init__(self, source: str, cause: str, *, where: str | None = None) -> None:
        self.source = source
        self.cause = cause
        self.where = where
        location = f" [{where}]" if where else ""
        super().__init__(f"{source}{location}: {cause}")


class PartitionWindowError(RuntimeError):
    """Dagster handed an asset a different partition window than it needs."""
