"""The only module that reads the environment.

Two things must be known when the definitions load, before any resource is
built: the partition window (``PORTFOLIO_START_DATE`` / ``PORTFOLIO_END_DATE``)
and which resource set to use (``PORTFOLIO_DEPLOYMENT``). They are read once,
here. Every other setting is a field of a Dagster resource; :func:`env_setting`
hands that field an ``EnvVar`` when the variable is set (Dagster resolves it at
run launch and never shows its value), else the field's default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from dagster import EnvVar

from portfolio_assets.spans import HORIZON_DAYS, WARMUP_DAYS

START_DATE_ENV = "PORTFOLIO_START_DATE"
END_DATE_ENV = "PORTFOLIO_END_DATE"
DEPLOYMENT_ENV = "PORTFOLIO_DEPLOYMENT"

DEFAULT_START = "2008-01-01"
DEFAULT_END = "2013-02-28"
"""The bundled sample's observation window."""
DEFAULT_DEPLOYMENT = "local"

# Resource settings, each the field of a resource (see definitions.py and the README's table).
DATA_DIR_ENV = "PORTFOLIO_DATA_DIR"
EXPORT_DIR_ENV = "PORTFOLIO_EXPORT_DIR"
LANDING_DIR_ENV = "PORTFOLIO_LANDING_DIR"
UNIVERSE_FILE_ENV = "PORTFOLIO_UNIVERSE_FILE"
CONTEXT_WINDOW_ENV = "PORTFOLIO_CONTEXT_WINDOW"
PROMPT_FORMAT_ENV = "PORTFOLIO_PROMPT_FORMAT"
SHARD_BY_ENV = "PORTFOLIO_SHARD_BY"
VALIDATION_START_ENV = "PORTFOLIO_VALIDATION_START"
TEST_START_ENV = "PORTFOLIO_TEST_START"
EMBARGO_DAYS_ENV = "PORTFOLIO_EMBARGO_DAYS"


class SettingError(ValueError):
    """A setting has an unusable value; the message names the variable."""


@dataclass(frozen=True)
class Window:
    """The configured observation window; ``end`` None means open-ended (live)."""

    start: date
    end: date | None

    @property
    def labelled_start(self) -> date:
        """First labelled day: the warm-up after the first observation day."""
        return self.start + timedelta(days=WARMUP_DAYS)

    @property
    def labelled_end(self) -> date | None:
        """Last labelled day: the horizon before the last observation day (None when open-ended)."""
        return None if self.end is None else self.end - timedelta(days=HORIZON_DAYS)


def read_window(environ: Mapping[str, str] = os.environ) -> Window:
    """``PORTFOLIO_START_DATE`` / ``PORTFOLIO_END_DATE`` (``open`` = live, no end) as a :class:`Window`."""
    start_text = environ.get(START_DATE_ENV, DEFAULT_START)
    end_text = environ.get(END_DATE_ENV, DEFAULT_END)
    try:
        start = date.fromisoformat(start_text)
        end = None if end_text.lower() in {"", "open", "none"} else date.fromisoformat(end_text)
    except ValueError as exc:
        raise SettingError(
            f"{START_DATE_ENV} / {END_DATE_ENV} must be YYYY-MM-DD (or 'open' for the end): {exc}"
        ) from exc
    if end is not None and end - start < timedelta(days=WARMUP_DAYS + HORIZON_DAYS + 1):
        raise SettingError(
            f"window {start}..{end} is too short: it needs more than {WARMUP_DAYS} warm-up days "
            f"and the {HORIZON_DAYS}-day horizon"
        )
    return Window(start, end)


def read_deployment(environ: Mapping[str, str] = os.environ) -> str:
    """``PORTFOLIO_DEPLOYMENT`` (default ``local``)."""
    return environ.get(DEPLOYMENT_ENV) or DEFAULT_DEPLOYMENT


T = TypeVar("T")


def env_setting(name: str, default: T, *, kind: type = str, environ: Mapping[str, str] = os.environ) -> EnvVar | T:
    """``EnvVar(name)`` (``EnvVar.int`` for ``kind=int``) when the variable is set and not empty, else ``default``."""
    text = environ.get(name, "")
    if not text.strip():
        return default
    if kind is int:
        try:
            int(text)
        except ValueError:
            raise SettingError(f"{name}={text!r} is not a whole number") from None
        return EnvVar.int(name)
    return EnvVar(name)


WINDOW = read_window()
"""The window the partitions definitions use, read once when the definitions load."""
DEPLOYMENT = read_deployment()
