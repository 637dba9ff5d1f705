"""The landing resource parses a universe file once per process and content: a new resource (Dagster builds one
for every run) gets the parsed universe, and a file whose bytes changed is parsed again."""

from __future__ import annotations

from pathlib import Path

import pytest

from portfolio_assets import universe as module
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.universe import DEFAULT_UNIVERSE, UniverseError


def test_a_new_resource_reuses_the_parse_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "universe.yaml"
    text = DEFAULT_UNIVERSE.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    calls = []
    real = module._parse_file
    monkeypatch.setattr(module, "_parse_file", lambda file, raw: calls.append(file) or real(file, raw))
    first = LandingZoneResource(universe_file=str(path)).universe()
    again = LandingZoneResource(universe_file=str(path)).universe()
    assert again == first and again is not first and len(calls) == 1
    path.write_text(text.replace(first.assets[0].symbol, first.assets[0].symbol + "X", 1), encoding="utf-8")
    changed = LandingZoneResource(universe_file=str(path)).universe()
    assert len(calls) == 2 and changed.assets[0].symbol == first.assets[0].symbol + "X"
    path.write_text("assets: [", encoding="utf-8")
    with pytest.raises(UniverseError):
        LandingZoneResource(universe_file=str(path)).universe()
    with pytest.raises(UniverseError):
        LandingZoneResource(universe_file=str(tmp_path / "missing.yaml")).universe()
