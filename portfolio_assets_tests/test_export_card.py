"""The dataset card states the survivorship policy and names assets a failed source left out."""

from __future__ import annotations

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
