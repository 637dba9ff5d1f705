"""Code versions: every asset has one, and it changes with the code that computes it, not with the code that
moves its values (so the UI shows stale exactly what a change reaches)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import portfolio_assets
from portfolio_assets import codeversion
from portfolio_assets.definitions import defs


def test_every_asset_has_a_code_version():
    graph = defs.resolve_asset_graph()
    versions = {key.to_user_string(): graph.get(key).code_version for key in graph.get_all_asset_keys()}
    assert all(v and len(v) == 16 for v in versions.values()), versions
    assert versions["quarantine"] == versions["sft_rows"]  # one step, one version


def test_a_version_covers_the_computation_and_not_the_engine():
    reached = codeversion.closure("portfolio_assets.assets.targets")
    assert {"portfolio_assets.features.targets", "portfolio_assets.checks.targets"} <= set(reached)
    assert not {"portfolio_assets.engine", "portfolio_assets.direct", "portfolio_assets.io_managers"} & set(reached)


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """The versions computed from a copy of the package, which the test edits."""
    copy = tmp_path / "portfolio_assets"
    shutil.copytree(
        Path(portfolio_assets.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__", "*.csv*")
    )
    monkeypatch.setattr(codeversion, "ROOT", copy)
    codeversion._source.cache_clear()
    codeversion._imports.cache_clear()
    yield copy
    codeversion._source.cache_clear()
    codeversion._imports.cache_clear()


def _versions() -> dict[str, str]:
    codeversion._source.cache_clear()
    codeversion._imports.cache_clear()
    return {m: codeversion.version_of(f"portfolio_assets.assets.{m}") for m in ("targets", "prices", "training_set")}


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# changed\n")


def test_a_change_marks_stale_the_assets_it_reaches(package_copy):
    before = _versions()
    _edit(package_copy / "export" / "encoders.py")  # how the export writes its lines
    after = _versions()
    assert after["training_set"] != before["training_set"]
    assert {m: after[m] for m in ("targets", "prices")} == {m: before[m] for m in ("targets", "prices")}
    _edit(package_copy / "sources" / "alphavantage.py")  # how a response is parsed
    parsed = _versions()
    assert parsed["prices"] != after["prices"] and parsed["targets"] == after["targets"]
    _edit(package_copy / "engine.py")  # where the work runs changes no value
    _edit(package_copy / "io_managers.py")
    assert _versions() == parsed
