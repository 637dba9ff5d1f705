"""The dataset card states the survivorship policy and names assets a failed source left out."""

from __future__ import annotations

import json

from portfolio_assets.export import export_training_set
from portfolio_assets_tests.test_export import PROVENANCE, SPLIT, SYNTHETIC, make_rows


def test_the_card_states_survivorship_and_names_excluded_assets(tmp_path):
    rows = make_rows()
    why = "alphavantage [function=TIME_SERIES_DAILY,symbol=TLT]: Invalid API call (failed at 2026-12-01T00:00:00Z)"
    provenance = {**PROVENANCE, "excluded_assets": {"TLT": why}}
    report = export_training_set(rows, tmp_path / "out", split=SPLIT, provenance=provenance, synthetic=SYNTHETIC)
    card = (report.out_dir / "README.md").read_text()
    assert "**Survivorship.** An asset that stopped trading stays in the dataset" in card
    assert "**Assets left out.** 1 universe asset(s)" in card and f"`TLT`: {why}" in card

    clean = export_training_set(rows, tmp_path / "clean", split=SPLIT, provenance=PROVENANCE, synthetic=SYNTHETIC)
    assert "Assets left out" not in (clean.out_dir / "README.md").read_text()


def test_the_sink_refuses_paths_that_leave_the_export(tmp_path):
    import pytest

    from portfolio_assets.export.sink import LocalSink

    sink = LocalSink(tmp_path / "out", marker="manifest.json")
    for bad in ("/etc/passwd", "../escape.csv", "csv/../../escape.csv", "", "."):
        with pytest.raises(ValueError, match="not a relative path inside the export directory"):
            sink.write(bad, b"x")
    sink.write("csv/train/train-2010.csv", b"ok")
    sink.commit()
    assert (tmp_path / "out" / "csv" / "train" / "train-2010.csv").read_bytes() == b"ok"
    assert not (tmp_path / "escape.csv").exists()


def test_the_card_lists_the_checks_the_manifest_records(tmp_path):
    """The training_set asset records ``provenance.checks`` (name -> blocking, status); the card said "The
    provenance lists no upstream checks" for it (it only read ``checks_passed``)."""
    checks = {
        name: {"blocking": True, "run_id": "r1", "status": "SUCCEEDED"}
        for name in ("completeness", "point_in_time", "schema", "target_coverage", "temporal_gaps")
    }
    provenance = {k: v for k, v in PROVENANCE.items() if k != "checks_passed"} | {"checks": checks}
    report = export_training_set(make_rows(), tmp_path / "out", split=SPLIT, provenance=provenance, synthetic=SYNTHETIC)
    card = (report.out_dir / "README.md").read_text()
    assert "lists no upstream checks" not in card
    assert "records 5 upstream check(s) before export" in card
    assert "`point_in_time` (blocking): SUCCEEDED" in card

    bare = {k: v for k, v in PROVENANCE.items() if k != "checks_passed"}
    none = export_training_set(make_rows(), tmp_path / "none", split=SPLIT, provenance=bare, synthetic=SYNTHETIC)
    assert "The provenance lists no upstream checks." in (none.out_dir / "README.md").read_text()


def test_the_card_documents_row_identity_columns_and_the_output_format(tmp_path):
    from portfolio_assets.features.sft import OUTPUT_RATIONALE, OutputFormat

    output = OutputFormat(("predicted_return_90d", "predicted_price_90d"), 3)
    described = {"fields": list(output.fields), "return_decimals": 3, "described": output.describe(False)}
    provenance = {**PROVENANCE, "output": described}
    report = export_training_set(make_rows(), tmp_path / "out", split=SPLIT, provenance=provenance, synthetic=SYNTHETIC)
    card = (report.out_dir / "README.md").read_text()
    manifest = json.loads((report.out_dir / "manifest.json").read_text())
    counts = manifest["rows"]["by_synthetic"]
    assert "## Row identity" in card and "`row_id`: `<asset_symbol>:<UTC day of timestamp>`" in card
    assert f"{counts['synthetic']} synthetic and {counts['real']} real rows (synthetic assets: `BTC-USD`)" in card
    assert f"`columns.json` (sha256 `{manifest['columns']['sha256']}`)" in card
    section = card.split("### Output format\n\n", 1)[1]
    first, second = section.split("\n")[2:4]
    assert first.startswith("1. `predicted_return_90d`: ") and "3 decimal places" in first
    assert second.startswith("2. `predicted_price_90d`: ")
    assert OUTPUT_RATIONALE in section
    assert "a JSON array in JSONL, a `list<struct<role: string, content: string>>` in Parquet" in card
