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
