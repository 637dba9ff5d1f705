"""A training_set materialisation with issue 15's text settings: the manifest records them, the rows follow them."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from portfolio_assets.definitions import gate_and_rows, training_set
from portfolio_assets.features.sft_output import MASKED_DAY, MASKED_SYMBOL
from portfolio_assets.runner import materialize_range
from portfolio_assets_tests.resources import make_resources
from portfolio_assets_tests.test_export_runs import (  # noqa: F401 (fixtures)
    SPAN,
    SPLIT_DAYS,
    export_path,
    frames,
    fresh_instance,
    span_store,
)

pytestmark = pytest.mark.slow


def test_an_export_with_masking_and_another_output_records_and_follows_them(span_store, fresh_instance):  # noqa: F811
    settings = {"output_fields": "predicted_return_90d,predicted_return_pct_90d", "return_decimals": 5}
    resources = make_resources(span_store, mask_identity=True, folds=0, **settings, **SPLIT_DAYS)
    result = materialize_range([gate_and_rows, training_set], *SPAN, resources=resources, instance=fresh_instance)
    assert result.success
    path = export_path(result)
    provenance = json.loads((path / "manifest.json").read_text())["provenance"]
    assert provenance["output"]["fields"] == ["predicted_return_90d", "predicted_return_pct_90d"]
    assert provenance["output"]["return_decimals"] == 5 and provenance["mask_identity"] is True
    assert provenance["folds"]["folds"] == 0
    settings_meta = result.asset_materializations_for_node("training_set")[-1].metadata["settings"].value
    assert settings_meta["mask_identity"] is True and settings_meta["return_decimals"] == 5
    rows = [r for p in sorted(path.rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert rows
    for row in rows:
        assert list(json.loads(row["output"])) == ["predicted_return_90d", "predicted_return_pct_90d"]
        assert len(row["output"].split('"predicted_return_90d": ')[1].split(",")[0].split(".")[1]) == 5
        assert row["asset_symbol"] not in row["prompt"] and f"{row['timestamp']:%Y-%m-%d}" not in row["prompt"]
        assert MASKED_SYMBOL in row["prompt"] and MASKED_DAY in row["prompt"]
        assert row["completion"] == row["output"]
