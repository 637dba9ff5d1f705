"""Errors that name their source and cause, and never carry a secret."""

from __future__ import annotations


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
