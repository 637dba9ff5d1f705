"""``columns.json``: every exported column's type, unit, definition and point-in-time availability (issue 15)."""

from __future__ import annotations

import hashlib
import json

import pytest

from portfolio_assets.export.columns_doc import COLUMN_DOCS, column_dictionary, feature_entry
from portfolio_assets.features.registry import ALL_FEATURES, FEATURES_BY_NAME
from portfolio_assets_tests.test_export import load_manifest
from portfolio_assets_tests.test_export_messages import chat_rows, export


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("columns") / "export"
    export(chat_rows(), out)
    return out


def test_every_exported_column_has_a_complete_entry(exported) -> None:
    manifest = load_manifest(exported)
    data = (exported / "columns.json").read_bytes()
    assert manifest["columns"] == {
        "path": "columns.json",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    document = json.loads(data)
    entries = document["columns"]
    assert [e["name"] for e in entries] == [c["name"] for c in manifest["schema"]]
    for entry, column in zip(entries, manifest["schema"], strict=True):
        assert (entry["dtype"], entry["arrow_type"]) == (column["dtype"], column["arrow_type"])
        for key in ("unit", "definition", "when", "group"):
            assert isinstance(entry[key], str) and entry[key].strip(), (entry["name"], key)
    by_name = {e["name"]: e for e in entries}
    assert "target_timestamp" in by_name["target_return_90d"]["when"]  # a label: known only in the future
    assert "decision time" in by_name["rsi_14"]["when"] or "bar end" in by_name["rsi_14"]["when"]
    assert by_name["prompt"]["arrow_type"].startswith("list<")


def test_the_feature_entries_are_the_declarations(exported) -> None:
    entries = {e["name"]: e for e in json.loads((exported / "columns.json").read_text(encoding="utf-8"))["columns"]}
    for feature in ALL_FEATURES:
        entry = entries[feature.name]
        assert {k: entry[k] for k in feature_entry(feature)} == json.loads(json.dumps(feature_entry(feature)))
        assert (entry["unit"], entry["definition"], entry["when"]) == (feature.unit, feature.formula, feature.known_at)
    assert not set(COLUMN_DOCS) & set(FEATURES_BY_NAME)  # one home per column


def test_an_undeclared_column_is_refused() -> None:
    with pytest.raises(ValueError, match="exported column 'mystery' has no declaration"):
        column_dictionary([{"name": "mystery", "dtype": "float64", "arrow_type": "double"}])


def test_text_entries_follow_the_exports_output_format_and_masking(exported) -> None:
    from portfolio_assets.features.sft_output import MASKED_DAY, MASKED_SYMBOL, OutputFormat

    schema = load_manifest(exported)["schema"]
    output = OutputFormat(("predicted_return_90d", "predicted_price_90d"), 3)
    provenance = {"output": {"described": output.describe(False)}, "mask_identity": True}
    entries = {e["name"]: e for e in column_dictionary(schema, provenance)["columns"]}
    plain = {e["name"]: e for e in column_dictionary(schema)["columns"]}
    for name in ("output", "completion"):
        definition = entries[name]["definition"]
        assert definition.index("predicted_return_90d") < definition.index("predicted_price_90d")
        assert "3 decimal places" in definition and "predicted_return_pct_90d" not in definition
    for name in ("instruction", "prompt", "messages"):
        assert repr(MASKED_SYMBOL) in entries[name]["definition"] and repr(MASKED_DAY) in entries[name]["definition"]
        assert "masked" not in plain[name]["definition"]
