"""When things happen: the one home of bar ends, release times and decision times.

Every stored value carries the instant it became available (``available_at``,
UTC), and every row its ``decision_time``: the instant its prompt is written.
A row may use a value only when ``available_at <= decision_time``.

* **A clock** is a local time of day in a time zone, written ``"HH:MM Area/City"``
  (``"16:00 America/New_York"``, ``"24:00 UTC"``: the end of the day). The instant of
  a clock on a day is that local time on that date, daylight saving included.
* **Bar end** of a daily price bar, by the Alpha Vantage function that serves it
  (``BAR_ENDS``; an asset may declare its own, ``bar_end`` in ``universe.yaml``):
  crypto's UTC day ends at 24:00 UTC; US equities and ETFs close at 16:00 New
  York; FX (and metals quoted as FX, XAU) bars end at the time the data states,
  16:00 UTC (the series' "Last Refreshed" time of its last day, time zone UTC).
  ``check_stated`` holds every stored response to that: a series whose stated
  time zone differs from its bar end's, or that was refreshed after its bar end
  on its last day (so the day's close may include later quotes), is refused,
  naming the file.
* **Decision time** of an asset's day-D row is the bar end of its own price
  series on D: the moment its day-D close is known, and nothing later.
* **Release time** of a macro series (``universe.yaml`` ``release_time``): the
  clock on its release day at which the value is published (for example 08:30
  New York for BLS and BEA releases, 16:00 New York for the S&P 500 close).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from portfolio_assets.timeutil import utc_index

_CLOCK = re.compile(r"(\d{2}):(\d{2}) (\S+)")


class ClockError(ValueError):
    """A clock is not ``HH:MM Area/City`` with a known time zone."""


@dataclass(frozen=True)
class Clock:
    """A local time of day in a time zone (``24:00`` is the end of the day)."""

    hour: int
    minute: int
    zone: str

    @classmethod
    def parse(cls, text: str) -> Clock:
        """Parse ``"HH:MM Area/City"`` (``"24:00 UTC"`` allowed); raise ``ClockError`` naming the cause."""
        match = _CLOCK.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ClockError(f"expected a clock 'HH:MM Area/City' (e.g. '16:00 America/New_York'), got {text!r}")
        hour, minute, zone = int(match[1]), int(match[2]), match[3]
        if not (0 <= hour <= 23 and 0 <= minute <= 59) and (hour, minute) != (24, 0):
            raise ClockError(f"{text!r}: {match[1]}:{match[2]} is not a time of day (00:00..23:59, or 24:00)")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ClockError(
                f"{text!r}: {zone!r} is not a known time zone (IANA name such as America/New_York)"
            ) from None
        return cls(hour, minute, zone)

    def __str__(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d} {self.zone}"

    def on(self, days: pd.Series | pd.DatetimeIndex | np.ndarray) -> pd.DatetimeIndex:
        """The UTC instant of this clock on each calendar day of ``days`` (UTC midnights, or naive dates).

        A local time that does not exist or is ambiguous on a day (a daylight-saving change) raises
        ``ClockError`` naming the clock and the day.
        """
        dates = utc_index(days).tz_localize(None).normalize()
        local = dates + pd.Timedelta(hours=self.hour, minutes=self.minute)
        if self.zone == "UTC":
            return local.tz_localize("UTC")
        try:
            return local.tz_localize(self.zone, ambiguous="raise", nonexistent="raise").tz_convert("UTC")
        except Exception as exc:  # pytz's NonExistentTimeError / AmbiguousTimeError (not ValueErrors)
            raise ClockError(
                f"clock {self}: {exc} is not a single instant in {self.zone} (a daylight-saving change); "
                "choose a time of day outside 01:00..03:00"
            ) from None


END_OF_UTC_DAY = Clock(24, 0, "UTC")
NEW_YORK_CLOSE = Clock(16, 0, "America/New_York")
FX_BAR_END = Clock(16, 0, "UTC")

BAR_ENDS: dict[str, Clock] = {
    "DIGITAL_CURRENCY_DAILY": END_OF_UTC_DAY,
    "TIME_SERIES_DAILY": NEW_YORK_CLOSE,
    "FX_DAILY": FX_BAR_END,
}
"""Bar end of each Alpha Vantage daily series, by its ``function`` (see the module docstring)."""


def bar_end(function: str) -> Clock:
    """The bar end of a daily price series served by Alpha Vantage ``function``."""
    try:
        return BAR_ENDS[function]
    except KeyError:
        raise ValueError(
            f"no bar end is known for Alpha Vantage function {function!r} (known: {sorted(BAR_ENDS)})"
        ) from None


ZONE_ALIASES = {"US/Eastern": "America/New_York", "GMT": "UTC", "Etc/UTC": "UTC"}
"""Time-zone names data may state, and the IANA name they mean."""


def check_stated(frame_attrs: dict[str, str], bar: Clock, last_day: pd.Timestamp | None, where: str) -> None:
    """Refuse a price response whose stated clock contradicts the bar end its rows are decided at.

    ``frame_attrs``: ``time_zone`` / ``last_refreshed`` as the response states them (absent: nothing
    to check). ``last_day``: the date of its newest bar. Raises ``ClockError`` naming ``where``.
    """
    stated = frame_attrs.get("time_zone")
    if stated is not None and ZONE_ALIASES.get(stated, stated) != bar.zone:
        raise ClockError(
            f"{where}: the series states time zone {stated!r}, but its bars are taken to end at {bar}: "
            "its decision times would be wrong; declare the asset's bar_end in universe.yaml"
        )
    refreshed = frame_attrs.get("last_refreshed", "")
    if last_day is None or len(refreshed) <= 10:  # a date alone says nothing about the time of day
        return
    try:
        at = pd.Timestamp(refreshed)
    except ValueError:
        raise ClockError(f"{where}: Last Refreshed {refreshed!r} is not a date and time") from None
    if at.normalize() == last_day.tz_localize(None).normalize() and (at.hour, at.minute) > (bar.hour, bar.minute):
        raise ClockError(
            f"{where}: the series was last refreshed at {refreshed} ({stated or bar.zone}), after its bar end {bar}: "
            "the day's close may hold later quotes; declare the asset's bar_end in universe.yaml (e.g. '24:00 UTC')"
        )


def utc_days(instants: pd.Series | pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The UTC calendar day (midnight) of each instant."""
    return utc_index(instants).floor("D")


def complete_utc_day(decision: pd.Series | pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The newest whole UTC day complete at each decision instant (its aggregates are final then).

    A decision at 24:00 UTC of D (= 00:00 of D+1) has day D complete; one at 16:00 UTC of D has D−1.
    """
    return utc_days(decision) - pd.Timedelta(days=1)
