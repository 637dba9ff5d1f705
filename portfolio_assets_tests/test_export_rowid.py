"""``row_id`` and ``is_synthetic`` in every exported row (issue 15), the manifest's real / synthetic counts, and the
walk-forward folds hook (``folds.json``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from portfolio_assets.export import FORMATS, export_training_set, exporter, read_export, sample_sources
from portfolio_assets.export.exporter import LIGHT_COLUMNS, plan_stream
from portfolio_assets.export.rowid import price_series_key, row_ids, synthetic_symbols
from portfolio_assets.universe import load_universe
from portfolio_assets_tests.test_export import PROVENANCE, SPLIT, SYNTHETIC, load_manifest, make_rows, tree_bytes


def test_row_ids_name_the_symbol_and_the_utc_day() -> None:
    stamps = pd.Series(pd.to_datetime(["2012-07-11T00:00:00Z", "2012-07-11T23:00:00-05:00"], utc=True))
    assert row_ids(pd.Series(["BTC", "GOOG"]), stamps).tolist() == ["BTC:2012-07-11", "GOOG:2012-07-12"]
    with pytest.raises(ValueError, match="lack an asset_symbol or timestamp"):
        row_ids(pd.Series(["BTC", None]), stamps)
    with pytest.raises(TypeError, match="timezone-aware"):
        row_ids(pd.Series(["BTC"]), pd.Series(pd.to_datetime(["2012-07-11"])))


def test_synthetic_symbols_follow_each_assets_own_price_series() -> None:
    universe = load_universe()
    assert price_series_key(universe.asset("GOOG")) == "alphavantage/function=TIME_SERIES_DAILY,symbol=GOOG"
    marked = synthetic_symbols(sample_sources(), universe)
    # the bundled sample: GOOG and IXIC prices are real (their synthetic split / dividend feeds do not count)
    assert marked == {"BTC-USD", "ETH-USD", "EURUSD", "USDJPY", "XAUUSD", "USO", "TLT"}
    assert synthetic_symbols({"landing_zone": "/data", "note": "live"}, universe) == frozenset()  # live: real
    key = price_series_key(universe.asset("TLT"))
    with pytest.raises(ValueError, match=r"sources\['alphavantage/function=TIME_SERIES_DAILY,symbol=TLT'\].*TLT"):
        synthetic_symbols({key: {"kind": "maybe"}}, universe)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("rowid") / "export"
    rows = make_rows()
    export_training_set(rows, out, split=SPLIT, shard_by="year", provenance=PROVENANCE, synthetic=SYNTHETIC)
    return rows, out


def test_every_format_carries_row_id_and_is_synthetic_after_the_canonical_columns(exported) -> None:
    _, out = exported
    manifest = load_manifest(out)
    names = [c["name"] for c in manifest["schema"]]
    assert names[names.index("not_applicable") + 1 : names.index("not_applicable") + 3] == ["row_id", "is_synthetic"]
    assert {c["name"]: c["dtype"] for c in manifest["schema"]}["is_synthetic"] == "boolean"
    for fmt in FORMATS:
        frame = read_export(out, fmt)
        expected = frame["asset_symbol"] + ":" + frame["timestamp"].dt.strftime("%Y-%m-%d")
        assert frame["row_id"].tolist() == expected.tolist(), fmt
        assert frame["row_id"].is_unique
        assert frame["is_synthetic"].tolist() == (frame["asset_symbol"] == "BTC-USD").tolist(), fmt
    line = json.loads(next((out / "jsonl").rglob("*.jsonl")).read_text(encoding="utf-8").splitlines()[0])
    assert isinstance(line["is_synthetic"], bool) and isinstance(line["row_id"], str)


def test_the_manifest_counts_real_and_synthetic_rows(exported) -> None:
    _, out = exported
    manifest = load_manifest(out)
    frame = read_export(out, "parquet")
    rows = manifest["rows"]
    assert rows["by_synthetic"] == {
        "synthetic": int(frame["is_synthetic"].sum()),
        "real": int((~frame["is_synthetic"]).sum()),
    }
    for split, part in frame.groupby("split"):
        assert rows["by_split_synthetic"][split]["synthetic"] == int(part["is_synthetic"].sum())
    assert rows["synthetic_assets"] == ["BTC-USD"]


def test_rows_may_carry_the_columns_only_with_the_exporters_values(exported, tmp_path) -> None:
    rows, out = exported
    ids = row_ids(rows["asset_symbol"], rows["timestamp"])
    carried = rows.assign(row_id=ids, is_synthetic=rows["asset_symbol"].eq("BTC-USD"))
    export_training_set(carried, tmp_path / "same", split=SPLIT, shard_by="year", provenance=PROVENANCE,
                        synthetic=SYNTHETIC)  # fmt: skip
    assert tree_bytes(tmp_path / "same") == tree_bytes(out)
    wrong = carried.assign(is_synthetic=True)
    with pytest.raises(ValueError, match=r"is_synthetic of row \d+ is .*but the export computes"):
        export_training_set(wrong, tmp_path / "x", split=SPLIT, provenance=PROVENANCE, synthetic=SYNTHETIC)
    wrong = carried.assign(row_id=ids.str.replace(":", "/"))
    with pytest.raises(ValueError, match=r"row_id of row \d+ is '.*/.*', but the export computes"):
        export_training_set(wrong, tmp_path / "x", split=SPLIT, provenance=PROVENANCE, synthetic=SYNTHETIC)
    with pytest.raises(TypeError, match="synthetic must be a collection of asset symbols"):
        export_training_set(rows, tmp_path / "x", split=SPLIT, provenance=PROVENANCE, synthetic="BTC-USD")


def test_one_asset_twice_on_a_utc_day_is_refused(exported, tmp_path) -> None:
    rows, _ = exported
    twice = rows.iloc[:1].assign(timestamp=rows["timestamp"].iloc[0] + pd.Timedelta(hours=5))
    both = pd.concat([rows, twice], ignore_index=True)
    with pytest.raises(ValueError, match="rows share a row_id"):
        export_training_set(both, tmp_path / "x", split=SPLIT, provenance=PROVENANCE, synthetic=SYNTHETIC)
    with pytest.raises(ValueError, match="rows share a row_id"):
        plan_stream(both[list(LIGHT_COLUMNS)], split=SPLIT, synthetic=SYNTHETIC)
    assert plan_stream(rows[list(LIGHT_COLUMNS)], split=SPLIT, synthetic=SYNTHETIC).synthetic == SYNTHETIC


def fake_walk_forward(light: pd.DataFrame, config: object, *, embargo_days: int) -> dict:
    """A stand-in for ``export.folds.walk_forward``: two halves, recording what it was given."""
    half = len(light) // 2
    parts = [light.iloc[:half], light.iloc[half:]]
    calls.append((light.copy(), config, embargo_days))
    return {
        "format": "portfolio_assets.walk_forward_folds",
        "format_version": 1,
        "scheme": "expanding",
        "n_folds": 1,
        "embargo_days": embargo_days,
        "folds": [
            {
                "fold": 0,
                **{
                    name: {
                        "first": f"{p['timestamp'].min():%Y-%m-%d}",
                        "last": f"{p['timestamp'].max():%Y-%m-%d}",
                        "rows": len(p),
                        "row_ids": p["row_id"].tolist(),
                    }
                    for name, p in zip(("train", "test"), parts, strict=True)
                },
                "purged": 0,
                "embargoed": 0,
            }
        ],
    }


calls: list[tuple[pd.DataFrame, object, int]] = []


def test_folds_are_written_beside_the_manifest_over_the_exported_rows(exported, tmp_path, monkeypatch) -> None:
    rows, out = exported
    monkeypatch.setattr(exporter, "walk_forward", fake_walk_forward)
    calls.clear()
    config = object()
    target = tmp_path / "folds"
    export_training_set(rows, target, split=SPLIT, shard_by="year", provenance=PROVENANCE, synthetic=SYNTHETIC,
                        folds=config)  # fmt: skip
    ((light, given, embargo),) = calls
    assert given is config and embargo == SPLIT.embargo_days
    assert list(light.columns) == [*LIGHT_COLUMNS, "row_id"]
    exported_rows = read_export(out, "parquet").sort_values(["timestamp", "asset_symbol"])
    assert light["row_id"].tolist() == exported_rows["row_id"].tolist()  # every split, in export order
    document = json.loads((target / "folds.json").read_text(encoding="utf-8"))
    assert document["folds"][0]["test"]["row_ids"] == light["row_id"].iloc[len(light) // 2 :].tolist()
    manifest = load_manifest(target)
    entry = manifest["folds"]
    assert entry["path"] == "folds.json" and "row_ids" not in json.dumps(entry)
    assert entry["folds"][0]["test"]["rows"] == len(light) - len(light) // 2
    assert "## Walk-forward folds" in (target / "README.md").read_text(encoding="utf-8")
    again = tmp_path / "again"
    export_training_set(rows, again, split=SPLIT, shard_by="year", provenance=PROVENANCE, synthetic=SYNTHETIC,
                        folds=config)  # fmt: skip
    assert tree_bytes(again) == tree_bytes(target)  # deterministic
    assert "folds" not in load_manifest(out) and not (out / "folds.json").exists()  # only when asked for


def test_the_real_walk_forward_folds_are_written(exported, tmp_path) -> None:
    from portfolio_assets.export.folds import FoldConfig

    rows, _ = exported
    target = tmp_path / "real"
    export_training_set(rows, target, split=SPLIT, shard_by="year", provenance=PROVENANCE, synthetic=SYNTHETIC,
                        folds=FoldConfig(n_folds=2))  # fmt: skip
    document = json.loads((target / "folds.json").read_text(encoding="utf-8"))
    ids = set(read_export(target, "parquet")["row_id"])
    for fold in document["folds"]:
        assert set(fold["train"]["row_ids"]) <= ids and set(fold["test"]["row_ids"]) <= ids
    assert load_manifest(target)["folds"]["n_folds"] == 2


def test_streamed_folds_equal_the_whole_exports_and_a_bad_fold_config_writes_nothing(exported, tmp_path, monkeypatch):
    from portfolio_assets.export.exporter import export_stream

    rows, _ = exported
    monkeypatch.setattr(exporter, "walk_forward", fake_walk_forward)
    options = {"split": SPLIT, "shard_by": "year", "synthetic": SYNTHETIC, "folds": "config"}
    export_training_set(rows, tmp_path / "whole", provenance=PROVENANCE, **options)
    ordered = rows.sort_values(["timestamp", "asset_symbol"]).reset_index(drop=True)
    chunks = [ordered.iloc[i : i + 400] for i in range(0, len(ordered), 400)]
    light = rows[list(LIGHT_COLUMNS)].sample(frac=1.0, random_state=2)  # in any order
    export_stream(light, chunks, tmp_path / "stream", provenance=lambda: PROVENANCE, **options)
    assert tree_bytes(tmp_path / "stream") == tree_bytes(tmp_path / "whole")

    def refuse(light: pd.DataFrame, config: object, *, embargo_days: int) -> dict:
        raise ValueError("walk_forward: fold 3's train part is empty after purge")

    monkeypatch.setattr(exporter, "walk_forward", refuse)
    with pytest.raises(ValueError, match="fold 3's train part is empty"):
        export_training_set(rows, tmp_path / "bad", provenance=PROVENANCE, **options)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ValueError, match="fold 3's train part is empty"):
        export_stream(light, chunks, tmp_path / "bad", provenance=lambda: PROVENANCE, **options)
    assert not (tmp_path / "bad").exists()
