"""Split labels and the manifest's counts are what the string-by-string code (``export_before``) gave: rows
on and around the boundaries, inside and after the embargo, missing timestamps, splits without rows."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.export import SplitConfig
from portfolio_assets.export.frame import Column
from portfolio_assets.export.manifest import build_manifest
from portfolio_assets.export.shards import shard_key
from portfolio_assets.export.splits import Splits, _label
from portfolio_assets_tests import export_before

BOUNDARIES = {"validation_start": date(2021, 3, 1), "test_start": date(2021, 6, 15)}


def light(seed: int, n: int = 600) -> pd.DataFrame:
    rnd = random.Random(seed)
    start = pd.Timestamp("2020-11-01", tz="UTC")
    days = [start + pd.Timedelta(days=rnd.randint(0, 330), hours=rnd.choice([0, 0, 23])) for _ in range(n)]
    days += [pd.Timestamp(d, tz="UTC") + pd.Timedelta(hours=h) for d in BOUNDARIES.values() for h in (-1, 0, 1)]
    frame = pd.DataFrame({"timestamp": pd.Series(sorted(days), dtype="datetime64[ns, UTC]")})
    frame["target_timestamp"] = frame["timestamp"] + pd.to_timedelta([rnd.randint(0, 120) for _ in frame.index], "D")
    frame["asset_symbol"] = [rnd.choice(["AAA", "BBB", "CCC"]) for _ in frame.index]
    return frame


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("embargo_days", [0, 5, 40])
def test_labels_are_as_before(seed: int, embargo_days: int) -> None:
    frame = light(seed)
    if seed % 2:
        frame.loc[frame.index[::17], "timestamp"] = pd.NaT
    got = _label(frame["timestamp"], frame["target_timestamp"], BOUNDARIES, embargo_days)
    expected = export_before._label(frame["timestamp"], frame["target_timestamp"], BOUNDARIES, embargo_days)
    for new, old in zip(got, expected, strict=True):
        pd.testing.assert_series_equal(new, old)


@pytest.mark.parametrize("seed", range(6))
def test_the_manifest_is_as_before(seed: int) -> None:
    frame = light(seed)
    base, labels, _, _ = _label(frame["timestamp"], frame["target_timestamp"], BOUNDARIES, 5)
    if seed % 3 == 0:  # a label with no row at all
        labels = labels.where(labels != "embargoed", "purged")
    splits = Splits(labels=labels, boundaries=BOUNDARIES, embargo_days=5, source="config", base=base)
    config = SplitConfig(**BOUNDARIES, embargo_days=5)
    shards = shard_key(frame["timestamp"], "month")
    args = (frame, [Column("timestamp", "timestamp")], splits, config, shards, "month", ["csv"], [], {"p": 1})
    manifest = build_manifest(*args, synthetic={"AAA"})
    added = {k: manifest["rows"].pop(k) for k in ("by_synthetic", "by_split_synthetic", "synthetic_assets")}
    assert manifest == export_before.build_manifest(*args)  # issue 15 only added the real / synthetic counts
    exported = frame[labels.isin(["train", "validation", "test"])]
    assert added["by_synthetic"] == {
        "real": int((exported["asset_symbol"] != "AAA").sum()),
        "synthetic": int((exported["asset_symbol"] == "AAA").sum()),
    }
    assert sum(v["synthetic"] for v in added["by_split_synthetic"].values()) == added["by_synthetic"]["synthetic"]
    assert np.array_equal(splits.labels.to_numpy(), labels.to_numpy())  # not changed in place
