"""The asset universe and macro series, read from a YAML file.

The landing resource names the file (``PORTFOLIO_UNIVERSE_FILE``); the default
is the packaged ``universe.yaml`` (all five asset classes).

Validation is strict, because a silently misread entry corrupts the dataset:
the file must be UTF-8 YAML without repeated keys; unknown keys are refused;
types are checked, never coerced (``"false"`` is not a boolean, ``"10"`` not a
number); symbols must be safe file names. Every :class:`UniverseError` names
the file and the entry, e.g. ``universe.yaml: assets[0] (BTC-USD).fear_greed:
expected true or false, got 'false'``.

Survivorship: an asset that stopped trading keeps its entry, with its
``last_trading_day``. Its rows up to that day stay in the dataset; nothing
after it is used (prices and sentiment end there), and a row whose horizon
passes it has no target (held in the quarantine with the reason).
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.features.registry import MACRO_FIELDS
from portfolio_assets.timing import BAR_ENDS, Clock, ClockError, bar_end

FREQUENCIES = ("daily", "monthly", "quarterly")
TRANSFORMS = ("level", "yoy_pct", "qoq_pct")
PRICE_SOURCES = ("alphavantage",)
MACRO_SOURCES = ("fred", "asset")
DEFAULT_UNIVERSE = Path(__file__).with_name("universe.yaml")

TOP_KEYS = ("assets", "macro")
ASSET_KEYS = (
    "accepted_moves",
    "asset_class",
    "bar_end",
    "coingecko_id",
    "fear_greed",
    "last_trading_day",
    "news_query",
    "params",
    "source",
    "symbol",
    "trends_query",
)
MACRO_KEYS = ("frequency", "release_lag_days", "release_time", "series_id", "source", "symbol", "transform")

# A release lag is how long after its period ends a value becomes public. Negative
# lags would publish a value before it was observed (look-ahead). Real lags run from
# days to a few months (quarterly GDP: ~30 days to the advance estimate); a lag over
# a year is a typo, and would hide more than a year of the series from every row.
MAX_RELEASE_LAG_DAYS = 366

# Symbols become file, folder and partition names: a conservative ASCII set, no path
# separators, whitespace or control characters, and no leading "." or "-" (hidden
# files, "."/"..", command-line options). 32 characters is ample for any ticker.
_SYMBOL = re.compile(r"[A-Za-z0-9^][A-Za-z0-9._^=-]{0,31}")
SYMBOL_RULE = (
    "symbols name files and partitions: 1 to 32 of A-Z a-z 0-9 . - _ ^ =, starting with a letter, digit or ^,"
    " and no '..'"
)


@dataclass(frozen=True)
class AssetSpec:
    symbol: str
    asset_class: str
    source: str
    params: dict[str, str]
    news_query: str
    trends_query: str
    coingecko_id: str | None = None
    fear_greed: bool = False
    accepted_moves: tuple[pd.Timestamp, ...] = ()
    """Days whose one-day move was checked and is genuine: the gate does not hold their rows as suspect."""
    last_trading_day: pd.Timestamp | None = None
    """The asset's last trading day (UTC midnight) if it stopped trading (delisted, matured, merged); else None."""
    declared_bar_end: Clock | None = None
    """``bar_end`` from the universe file, overriding the default of its price function."""

    def traded_on(self, timestamps: pd.Series) -> pd.Series:
        """Per timestamp, whether the asset still traded that day (every day when it has no last trading day)."""
        if self.last_trading_day is None:
            return pd.Series(True, index=timestamps.index)
        return timestamps.dt.tz_convert("UTC").dt.floor("D") <= self.last_trading_day

    @property
    def bar_end(self) -> Clock:
        """When the asset's daily price bar ends: the decision time of its rows (``timing``)."""
        return self.declared_bar_end or bar_end(self.params.get("function", ""))

    @property
    def has_volume(self) -> bool:
        """Whether the price source reports volume (Alpha Vantage's FX endpoint does not)."""
        return self.params.get("function") != "FX_DAILY"


@dataclass(frozen=True)
class MacroSpec:
    name: str
    source: str
    frequency: str
    release_lag_days: int
    transform: str
    series_id: str | None = None
    symbol: str | None = None
    release_time: Clock | None = None
    """The clock at which a ``fred`` series is published on its release day; None for ``asset``
    (available at the asset's bar end)."""


@dataclass(frozen=True)
class Universe:
    assets: tuple[AssetSpec, ...]
    macro: tuple[MacroSpec, ...]
    path: Path = field(default=DEFAULT_UNIVERSE)

    def asset(self, symbol: str) -> AssetSpec:
        for spec in self.assets:
            if spec.symbol == symbol:
                return spec
        raise KeyError(f"{symbol!r} is not in the universe ({self.path})")

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(a.symbol for a in self.assets)


class UniverseError(ValueError):
    """The universe file is malformed; the message names the file and the entry."""


def _show(value: object) -> str:
    """A value for an error message: containers by kind, scalars by (shortened) ``repr``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple | set):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _check_keys(entry: dict[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [key for key in entry if key not in allowed]
    if unknown:
        noun = "key" if len(unknown) == 1 else "keys"
        names = ", ".join(repr(key) for key in unknown)
        raise UniverseError(f"{where}: unknown {noun} {names} (allowed: {', '.join(sorted(allowed))})")


def _optional_string(entry: dict[Any, Any], key: str, where: str) -> str | None:
    """``entry[key]`` if it is a non-blank string, ``None`` if absent, null or blank."""
    value = entry.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise UniverseError(f"{where}.{key}: expected a string, got {_show(value)}")
    return value


def _string(entry: dict[Any, Any], key: str, where: str) -> str:
    """``entry[key]`` as a non-blank string; absent, null or blank is missing."""
    value = _optional_string(entry, key, where)
    if value is None:
        raise UniverseError(f"{where}: missing '{key}'")
    return value


def _choice(entry: dict[Any, Any], key: str, where: str, allowed: tuple[str, ...]) -> str:
    value = _string(entry, key, where)
    if value not in allowed:
        raise UniverseError(f"{where}.{key}: {_show(value)} is not one of {', '.join(allowed)}")
    return value


def _is_symbol(value: object) -> bool:
    return isinstance(value, str) and _SYMBOL.fullmatch(value) is not None and ".." not in value


def _params(entry: dict[Any, Any], where: str) -> dict[str, str]:
    """The request parameters: a non-empty mapping of string names to strings or numbers."""
    params = entry.get("params")
    if params is None or params == {}:
        raise UniverseError(f"{where}: missing 'params'")
    if not isinstance(params, dict):
        raise UniverseError(f"{where}.params: expected a mapping of request parameters, got {_show(params)}")
    for name, value in params.items():
        if not isinstance(name, str):
            raise UniverseError(f"{where}.params: parameter names must be strings, got {_show(name)}")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise UniverseError(f"{where}.params.{name}: expected a string or a number, got {_show(value)}")
    return {name: str(value) for name, value in params.items()}


def _asset(entry: object, where: str) -> AssetSpec:
    if not isinstance(entry, dict):
        raise UniverseError(f"{where}: expected a mapping of asset fields, got {_show(entry)}")
    # Name the entry by its symbol once the symbol is known to be printable and safe.
    label = f"{where} ({entry['symbol']})" if _is_symbol(entry.get("symbol")) else where
    _check_keys(entry, ASSET_KEYS, label)
    symbol = _string(entry, "symbol", where)
    if not _is_symbol(symbol):
        raise UniverseError(f"{where}.symbol: {_show(symbol)} is not a valid symbol ({SYMBOL_RULE})")
    fear_greed = entry.get("fear_greed", False)
    if not isinstance(fear_greed, bool):
        raise UniverseError(f"{label}.fear_greed: expected true or false, got {_show(fear_greed)}")
    last_day = entry.get("last_trading_day")
    params = _params(entry, label)
    declared = None
    if entry.get("bar_end") is not None:
        try:
            declared = Clock.parse(_string(entry, "bar_end", label))
        except ClockError as exc:
            raise UniverseError(f"{label}.bar_end: {exc}") from None
    if params.get("function") not in BAR_ENDS:
        raise UniverseError(
            f"{label}.params.function: {_show(params.get('function'))} has no known bar end, so its rows would "
            f"have no decision time (known: {sorted(BAR_ENDS)})"
        )
    return AssetSpec(
        symbol=symbol,
        asset_class=_choice(entry, "asset_class", label, ASSET_CLASSES),
        source=_choice(entry, "source", label, PRICE_SOURCES),
        params=params,
        news_query=_string(entry, "news_query", label),
        trends_query=_string(entry, "trends_query", label),
        coingecko_id=_optional_string(entry, "coingecko_id", label),
        fear_greed=fear_greed,
        accepted_moves=_days(entry, "accepted_moves", label),
        last_trading_day=None if last_day is None else _day(last_day, f"{label}.last_trading_day"),
        declared_bar_end=declared,
    )


def _day(value: object, where: str) -> pd.Timestamp:
    """A calendar day (a YAML date or a YYYY-MM-DD string) as a UTC midnight."""
    text = value.isoformat() if isinstance(value, date) and not isinstance(value, datetime) else value
    try:
        return pd.Timestamp(date.fromisoformat(text), tz="UTC")
    except (TypeError, ValueError):
        raise UniverseError(f"{where}: expected a day written YYYY-MM-DD, got {_show(value)}") from None


def _days(entry: dict[Any, Any], key: str, where: str) -> tuple[pd.Timestamp, ...]:
    """An optional list of calendar days (YAML dates or YYYY-MM-DD strings) as UTC midnights."""
    values = entry.get(key, [])
    if not isinstance(values, list):
        raise UniverseError(f"{where}.{key}: expected a list of days (YYYY-MM-DD), got {_show(values)}")
    return tuple(_day(value, f"{where}.{key}[{i}]") for i, value in enumerate(values))


def _release_lag(entry: dict[Any, Any], where: str) -> int:
    value = entry.get("release_lag_days")
    if value is None:
        raise UniverseError(f"{where}: missing 'release_lag_days'")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RELEASE_LAG_DAYS:
        raise UniverseError(
            f"{where}.release_lag_days: expected a whole number of days from 0 to {MAX_RELEASE_LAG_DAYS},"
            f" got {_show(value)}"
        )
    return value


def _macro(name: str, entry: object, where: str, symbols: list[str]) -> MacroSpec:
    if not isinstance(entry, dict):
        raise UniverseError(f"{where}: expected a mapping of series fields, got {_show(entry)}")
    _check_keys(entry, MACRO_KEYS, where)
    source = _choice(entry, "source", where, MACRO_SOURCES)
    frequency = _choice(entry, "frequency", where, FREQUENCIES)
    transform = _choice(entry, "transform", where, TRANSFORMS)
    release_lag_days = _release_lag(entry, where)
    series_id = symbol = release_time = None
    if source == "fred":
        series_id = _string(entry, "series_id", where)
        try:
            release_time = Clock.parse(_string(entry, "release_time", where))
        except ClockError as exc:
            raise UniverseError(f"{where}.release_time: {exc}") from None
        if entry.get("symbol") is not None:
            raise UniverseError(f"{where}.symbol: only a source 'asset' series takes a symbol")
    else:
        symbol = _string(entry, "symbol", where)
        if symbol not in symbols:
            raise UniverseError(f"{where}.symbol: {_show(symbol)} is not a universe asset")
        if entry.get("series_id") is not None:
            raise UniverseError(f"{where}.series_id: only a source 'fred' series takes a series_id")
        if entry.get("release_time") is not None:
            raise UniverseError(
                f"{where}.release_time: a source 'asset' series is available at its asset's bar end; remove it"
            )
    return MacroSpec(
        name, source, frequency, release_lag_days, transform, series_id=series_id, symbol=symbol,
        release_time=release_time,
    )  # fmt: skip


def parse_universe(data: Any, path: Path) -> Universe:
    """Validate the YAML document of a universe file.

    Types are checked, never coerced: a quoted ``"false"`` is not a boolean and
    ``"10"`` is not a number. Every error names the file and the entry.
    """
    if not isinstance(data, dict):
        raise UniverseError(f"{path}: expected a mapping with 'assets' and 'macro', got {_show(data)}")
    _check_keys(data, TOP_KEYS, str(path))
    if "assets" not in data:
        raise UniverseError(f"{path}: missing 'assets'")
    if not isinstance(data["assets"], list):
        raise UniverseError(f"{path}: assets: expected a list of assets, got {_show(data['assets'])}")
    if not data["assets"]:
        raise UniverseError(f"{path}: assets: the universe has no assets")
    assets = [_asset(entry, f"{path}: assets[{i}]") for i, entry in enumerate(data["assets"])]
    symbols = [a.symbol for a in assets]
    folded = [s.lower() for s in symbols]
    duplicates = sorted({s for s in symbols if folded.count(s.lower()) > 1})
    if duplicates:
        raise UniverseError(f"{path}: duplicated symbols (ignoring case, as symbols name files): {duplicates}")
    macro_data = data.get("macro")
    if macro_data is None:
        macro_data = {}
    if not isinstance(macro_data, dict):
        raise UniverseError(f"{path}: macro: expected a mapping of the macro fields, got {_show(macro_data)}")
    if set(macro_data) != set(MACRO_FIELDS):
        missing = sorted(set(MACRO_FIELDS) - set(macro_data))
        unknown = sorted(set(macro_data) - set(MACRO_FIELDS), key=str)
        raise UniverseError(
            f"{path}: macro must define exactly {list(MACRO_FIELDS)}; missing {missing}, unknown {unknown}"
        )
    macro = [_macro(name, macro_data[name], f"{path}: macro.{name}", symbols) for name in MACRO_FIELDS]
    ended = {a.symbol: a.last_trading_day for a in assets if a.last_trading_day is not None}
    for spec in macro:
        if spec.symbol in ended:
            raise UniverseError(
                f"{path}: macro.{spec.name}.symbol: {spec.symbol} stopped trading on {ended[spec.symbol]:%Y-%m-%d}"
                " (last_trading_day); a macro field needs a series that runs through the whole window"
            )
    return Universe(tuple(assets), tuple(macro), path)


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(f"line {line}: duplicate key {key!r} (YAML would silently keep the last one)")


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a key repeated in one mapping (PyYAML keeps the last one).

    Keys brought in by a ``<<`` merge may still be overridden, as YAML intends.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable):
                if key in seen:
                    raise _DuplicateKey(key, key_node.start_mark.line + 1)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_LOADED: dict[tuple[str, bytes], bytes] = {}
"""Universes parsed in this process (pickled), keyed by the file's path and bytes: a run loads the universe
once per step, and parsing 500 assets' YAML costs ~0.5 CPU-s."""
_LOADED_MAX = 8


def load_universe(path: str | Path = DEFAULT_UNIVERSE) -> Universe:
    """Load and validate the universe file at ``path`` (default: the packaged one).

    The file must be UTF-8 and may not repeat a key within a mapping. The file is read every time; the same
    bytes at the same path are parsed once per process (each call returns its own copy).
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise UniverseError(f"{file}: cannot read the universe file: {exc.strerror}") from exc
    key = (str(file), raw)
    if key not in _LOADED:
        universe = _parse_file(file, raw)
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = pickle.dumps(universe)
        return universe
    return pickle.loads(_LOADED[key])


def _parse_file(file: Path, raw: bytes) -> Universe:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UniverseError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    loader = _StrictLoader(text)
    loader.name = str(file)
    try:
        data = loader.get_single_data()
    except _DuplicateKey as exc:
        raise UniverseError(f"{file}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise UniverseError(f"{file}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return parse_universe(data, file)
