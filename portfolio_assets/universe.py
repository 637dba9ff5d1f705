"""The asset universe and macro series, read from a YAML file.

The landing resource names the file (``PORTFOLIO_UNIVERSE_FILE``); the default
is the packaged ``universe.yaml`` (all five asset classes).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.features.registry import MACRO_FIELDS

FREQUENCIES = ("daily", "monthly", "quarterly")
TRANSFORMS = ("level", "yoy_pct", "qoq_pct")
DEFAULT_UNIVERSE = Path(__file__).with_name("universe.yaml")


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


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise UniverseError(f"{where}: missing '{key}'")
    return entry[key]


def parse_universe(data: Any, path: Path) -> Universe:
    """Validate the YAML document of a universe file."""
    if not isinstance(data, dict):
        raise UniverseError(f"{path}: expected a mapping with 'assets' and 'macro', got {_show(data)}")
    if not isinstance(data.get("assets"), list):
        raise UniverseError(f"{path}: expected a mapping with an 'assets' list")
    assets = []
    for i, entry in enumerate(data["assets"]):
        where = f"{path}: assets[{i}]"
        if not isinstance(entry, dict):
            raise UniverseError(f"{where}: expected a mapping")
        asset_class = _require(entry, "asset_class", where)
        if asset_class not in ASSET_CLASSES:
            raise UniverseError(f"{where}: asset_class {asset_class!r} is not one of {ASSET_CLASSES}")
        params = _require(entry, "params", where)
        if not isinstance(params, dict):
            raise UniverseError(f"{where}: params must be a mapping")
        assets.append(
            AssetSpec(
                symbol=str(_require(entry, "symbol", where)),
                asset_class=asset_class,
                source=str(_require(entry, "source", where)),
                params={str(k): str(v) for k, v in params.items()},
                news_query=str(_require(entry, "news_query", where)),
                trends_query=str(_require(entry, "trends_query", where)),
                coingecko_id=entry.get("coingecko_id"),
                fear_greed=bool(entry.get("fear_greed", False)),
            )
        )
    symbols = [a.symbol for a in assets]
    duplicates = sorted({s for s in symbols if symbols.count(s) > 1})
    if duplicates:
        raise UniverseError(f"{path}: duplicated symbols {duplicates}")
    macro_data = data.get("macro") or {}
    if set(macro_data) != set(MACRO_FIELDS):
        missing = sorted(set(MACRO_FIELDS) - set(macro_data))
        unknown = sorted(set(macro_data) - set(MACRO_FIELDS))
        raise UniverseError(
            f"{path}: macro must define exactly {list(MACRO_FIELDS)}; missing {missing}, unknown {unknown}"
        )
    macro = []
    for name in MACRO_FIELDS:
        entry = macro_data[name]
        where = f"{path}: macro.{name}"
        source = _require(entry, "source", where)
        frequency = _require(entry, "frequency", where)
        transform = _require(entry, "transform", where)
        if frequency not in FREQUENCIES:
            raise UniverseError(f"{where}: frequency {frequency!r} is not one of {FREQUENCIES}")
        if transform not in TRANSFORMS:
            raise UniverseError(f"{where}: transform {transform!r} is not one of {TRANSFORMS}")
        spec = MacroSpec(
            name=name,
            source=source,
            frequency=frequency,
            release_lag_days=int(_require(entry, "release_lag_days", where)),
            transform=transform,
            series_id=entry.get("series_id"),
            symbol=entry.get("symbol"),
        )
        if source == "fred" and not spec.series_id:
            raise UniverseError(f"{where}: a fred series needs series_id")
        if source == "asset" and spec.symbol not in symbols:
            raise UniverseError(f"{where}: symbol {spec.symbol!r} is not a universe asset")
        if source not in ("fred", "asset"):
            raise UniverseError(f"{where}: source {source!r} is not fred or asset")
        macro.append(spec)
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


def load_universe(path: str | Path = DEFAULT_UNIVERSE) -> Universe:
    """Load and validate the universe file at ``path`` (default: the packaged one).

    The file must be UTF-8 and may not repeat a key within a mapping.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise UniverseError(f"{file}: cannot read the universe file: {exc.strerror}") from exc
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
