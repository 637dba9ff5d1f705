"""The export's text options on stored sft_rows: stored texts are exported as they are (and trusted) only when they
are the export's own; another output or masking rewrites them, and every export carries prompt / completion."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from portfolio_assets.features.sft_output import MASKED_DAY, MASKED_SYMBOL, OutputFormat, TextOptions
from portfolio_assets_tests.test_export_attested import export, gate_store, rows, spy  # noqa: F401 (fixtures)


def exported(out) -> list[dict[str, object]]:
    """Every row of the export's Parquet files."""
    frames = [pq.read_table(p).to_pylist() for p in sorted(out.rglob("*.parquet"))]
    return [row for frame in frames for row in frame]


def test_the_stored_texts_are_trusted_and_get_their_prompt_and_completion(rows, tmp_path, spy):  # noqa: F811
    export(gate_store(tmp_path / "store", rows), tmp_path / "out")
    assert spy == []  # attested: not validated again
    written = exported(tmp_path / "out")
    assert written and all(r["prompt"] == f"{r['instruction']}\n\n{r['input']}\n" for r in written)
    assert all(r["completion"] == r["output"] for r in written)


@pytest.mark.parametrize(
    "options",
    [
        TextOptions(output=OutputFormat(("predicted_return_90d", "predicted_price_90d"), return_decimals=6)),
        TextOptions(mask_identity=True),
        TextOptions(prompt_format="chat", mask_identity=True),
    ],
)
def test_other_text_options_rewrite_and_validate_the_stored_texts(rows, tmp_path, spy, options):  # noqa: F811
    export(gate_store(tmp_path / "store", rows), tmp_path / "out", prompt_format=options)
    assert sum(spy) == len(rows)  # not the stored texts: every row validated as written
    written = exported(tmp_path / "out")
    assert len(written) > 0
    keys = list(options.output.keys())
    for row in written:
        assert list(json.loads(row["output"])) == keys
        if options.mask_identity:
            assert row["asset_symbol"] not in row["instruction"] and MASKED_SYMBOL in row["instruction"]
            assert f"{row['timestamp']:%Y-%m-%d}" not in str(row["prompt"]) and MASKED_DAY in row["instruction"]
    if options.output.return_decimals == 6:
        number = written[0]["output"].split('"predicted_return_90d": ')[1].split(",")[0]
        assert len(number.split(".")[1]) == 6


# --------------------------------------------------------------------------- walk-forward fold settings


def test_fold_config_builds_the_folds_config_from_the_resource(tmp_path) -> None:
    from portfolio_assets.assets.export_meta import fold_config
    from portfolio_assets.export.folds import FoldConfig
    from portfolio_assets.resources import ExportResource, StorageResource

    storage = StorageResource(data_dir=str(tmp_path))
    export_resource = ExportResource(
        storage=storage, folds=4, fold_scheme="rolling", fold_train_days=500, fold_test_days=60, embargo_days=2
    )
    assert fold_config(export_resource) == FoldConfig(n_folds=4, scheme="rolling", test_days=60, train_days=500)
    assert fold_config(ExportResource(storage=storage, folds=0)) is None


def test_export_partitions_writes_the_folds_it_is_given(rows, tmp_path) -> None:  # noqa: F811
    from portfolio_assets.export import read_export
    from portfolio_assets.export.folds import FOLDS_NAME, FoldConfig, read_folds

    files = gate_store(tmp_path / "store", rows)
    export(files, tmp_path / "a")
    assert not (tmp_path / "a" / FOLDS_NAME).exists()
    export(files, tmp_path / "b", folds=FoldConfig(n_folds=2, test_days=30))
    folds = read_folds(tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["folds"]["n_folds"] == 2 and "row_ids" not in json.dumps(manifest["folds"])
    exported = set(read_export(tmp_path / "b", "parquet")["row_id"])
    for fold in folds["folds"]:
        assert fold["test"]["rows"] > 0 and set(fold["train"]["row_ids"] + fold["test"]["row_ids"]) <= exported
