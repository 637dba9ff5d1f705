from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.features.registry import MACRO_FIELDS
from portfolio_assets.universe import DEFAULT_UNIVERSE, UniverseError, load_universe, parse_universe


def test_default_universe_covers_every_class_and_macro_field():
    universe = load_universe()
    assert {a.asset_class for a in universe.assets} == set(ASSET_CLASSES)
    assert tuple(m.name for m in universe.macro) == MACRO_FIELDS
    assert all(a.news_query and a.trends_query for a in universe.assets)
    assert {a.symbol for a in universe.assets if a.fear_greed} == {
        a.symbol for a in universe.assets if a.asset_class == "crypto"
    }


def _data():
    return yaml.safe_load(DEFAULT_UNIVERSE.read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["assets"][0].update(asset_class="stonks"), r"assets\[0\]: asset_class 'stonks'"),
        (lambda d: d["assets"][1].pop("params"), r"assets\[1\]: missing 'params'"),
        (lambda d: d["assets"].append(dict(d["assets"][0])), "duplicated symbols"),
        (lambda d: d["macro"].pop("vix"), r"missing \['vix'\]"),
        (lambda d: d["macro"]["gold_price"].update(symbol="NOPE"), "macro.gold_price: symbol 'NOPE'"),
        (lambda d: d["macro"]["cpi_yoy"].update(frequency="weekly"), "macro.cpi_yoy: frequency 'weekly'"),
    ],
)
def test_malformed_universe_names_file_and_entry(mutate, message):
    data = _data()
    mutate(data)
    with pytest.raises(UniverseError, match=message):
        parse_universe(data, Path("u.yaml"))


def test_unreadable_file(tmp_path):
    with pytest.raises(UniverseError, match="cannot read"):
        load_universe(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("assets: [")
    with pytest.raises(UniverseError, match="not valid YAML"):
        load_universe(str(bad))


# --- the file itself -------------------------------------------------------


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "u.yaml"
    path.write_bytes(DEFAULT_UNIVERSE.read_bytes().replace(b"gold price", b"gold \xe9price", 1))
    offset = path.read_bytes().index(b"\xe9")
    with pytest.raises(UniverseError) as err:
        load_universe(path)
    assert str(err.value) == f"{path}: not UTF-8 text (invalid continuation byte at byte {offset})"


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        # Top level: the second `assets` list would silently replace the first.
        (DEFAULT_UNIVERSE.read_text(encoding="utf-8") + "assets: []\n", None, "assets"),
        # Inside an asset: the second `fear_greed` would silently win.
        ("assets:\n  - symbol: BTC-USD\n    fear_greed: true\n    fear_greed: false\n", 4, "fear_greed"),
        # Inside the macro mapping.
        ("macro:\n  vix: {source: fred}\n  vix: {source: asset}\n", 3, "vix"),
    ],
    ids=["top-level", "asset-entry", "macro-entry"],
)
def test_duplicate_keys_are_refused(tmp_path, text, line, key):
    path = tmp_path / "u.yaml"
    path.write_text(text, encoding="utf-8")
    line = line or text.count("\n")
    with pytest.raises(UniverseError) as err:
        load_universe(path)
    assert str(err.value) == f"{path}: line {line}: duplicate key {key!r} (YAML would silently keep the last one)"


def test_merge_keys_may_override_without_being_duplicates(tmp_path):
    text = DEFAULT_UNIVERSE.read_text(encoding="utf-8").replace(
        "  - symbol: ETH-USD\n", "  - <<: {asset_class: equity}\n    symbol: ETH-USD\n"
    )
    path = tmp_path / "u.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_universe(path).asset("ETH-USD").asset_class == "crypto"


@pytest.mark.parametrize(
    ("text", "got"),
    [("- symbol: BTC-USD\n", "a list"), ("", "None"), ("just text\n", "'just text'")],
    ids=["list", "empty", "scalar"],
)
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path, text, got):
    path = tmp_path / "u.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UniverseError) as err:
        load_universe(path)
    assert str(err.value) == f"{path}: expected a mapping with 'assets' and 'macro', got {got}"
