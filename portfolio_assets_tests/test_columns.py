from __future__ import annotations

import re
from pathlib import Path

from portfolio_assets.columns import FEATURE_COLUMNS, SFT_COLUMNS, applies, not_applicable

FEATURES_MD = Path(__file__).resolve().parents[1] / "FEATURES.md"


def test_57_features_each_documented():
    features = [c for c in FEATURE_COLUMNS if c not in ("price_close", "volume")]
    assert len(features) == 57  # 37 technical, 3 cross-asset, 11 macro, 6 sentiment
    assert len(set(FEATURE_COLUMNS)) == len(FEATURE_COLUMNS)
    documented = set(re.findall(r"^\|\s*`([a-z0-9_]+)`", FEATURES_MD.read_text(), flags=re.MULTILINE))
    assert set(features) - documented == set()


def test_every_feature_is_an_exported_column():
    assert set(FEATURE_COLUMNS) <= set(SFT_COLUMNS)
    assert SFT_COLUMNS[:4] == ["instruction", "input", "output", "context_window"]


def test_applicability_by_class_and_source():
    assert not applies("fear_greed_index", "equity") and applies("fear_greed_index", "crypto")
    assert not applies("volume", "fx") and not applies("mfi_14", "fx")
    assert not_applicable("crypto") == []
    assert not_applicable("commodity", has_volume=False) == ["volume", "mfi_14", "volume_zscore_20", "fear_greed_index"]
