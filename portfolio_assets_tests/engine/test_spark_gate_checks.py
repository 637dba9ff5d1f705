"""The gate store to store on Spark judges bad data as the in-process gate does: the same check evaluations
(pass or fail, summary, metadata, failure cases), the same quarantine files, and sft_rows written or refused
alike. The cases are ``test_quality_gate``'s, several at once so that cases come from more than one asset."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.definitions import gate_and_rows
from portfolio_assets.engine import EngineResource
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets_tests.sample_frames import group_frames, store_frames
from portfolio_assets_tests.test_quality_gate import (
    FIRST,
    LAST,
    PRICES,
    days,
    mutate,
    one,
    run_gate,
    spike_prices_and_targets,
)

pytestmark = pytest.mark.slow


def _rsi(frame: pd.DataFrame) -> pd.DataFrame:
    bad = one(frame, "GOOG", "2010-03-10") | one(frame, "BTC-USD", "2010-03-04") | one(frame, "BTC-USD", "2010-03-22")
    return frame.assign(rsi_14=frame["rsi_14"].where(~bad, 130.0))


def _no_target(frame: pd.DataFrame) -> pd.DataFrame:
    for symbol, day in (("BTC-USD", "2010-03-05"), ("TLT", "2010-03-09")):
        mask = one(frame, symbol, day)
        frame.loc[mask, ["target_price_90d", "target_return_90d", "target_return_pct_90d"]] = np.nan
        frame.loc[mask, "target_timestamp"] = pd.NaT
    return frame


def _hole(frame: pd.DataFrame) -> pd.DataFrame:
    hole = pd.date_range("2010-03-08", "2010-03-19", tz="UTC")
    return frame[~((frame["asset_symbol"].isin(["IXIC", "GOOG"])) & frame["timestamp"].isin(hole))]


CASES = {
    "rsi of 130 in two assets, and a duplicated row": [
        ("indicators", _rsi),
        ("sentiment", lambda f: pd.concat([f, f[one(f, "ETH-USD", "2010-03-20")]], ignore_index=True)),
    ],
    "missing targets and a price of zero": [
        ("targets", _no_target),
        ("prices", lambda f: f.assign(price_close=f["price_close"].where(~one(f, "TLT", "2010-03-15"), 0.0))),
    ],
    "a ten-day hole in two assets": [("prices", _hole)],
    "a bad tick": [],
}


@pytest.fixture(scope="module")
def upstream() -> dict[str, pd.DataFrame]:
    return group_frames(FIRST, LAST, prices_from=PRICES[0], prices_to=PRICES[1])


def _gate(data_dir, instance, engine: EngineResource):
    """``test_quality_gate.run_gate`` of the gate alone, each evaluation as (passed, metadata values)."""
    result, evaluations, _, _ = run_gate(data_dir, instance, selection=(gate_and_rows,), engine=engine)
    checks = {
        name: (e.passed, {k: getattr(v, "value", v) for k, v in e.metadata.items()}) for name, e in evaluations.items()
    }
    return result, checks


@pytest.mark.parametrize("case", CASES)
def test_the_gate_on_spark_judges_bad_data_as_in_process(case, tmp_path, upstream, instance, spark):
    base = tmp_path / "base"
    store_frames(base, upstream, FIRST, LAST, prices=PRICES)
    for asset, change in CASES[case]:
        mutate(base, asset, change)
    if case == "a bad tick":
        spike_prices_and_targets(base, "GOOG", "2010-03-10", 10.0)
    verdicts = {}
    for name, engine in (("in-process", EngineResource()), ("spark", EngineResource(master_url="local[2]"))):
        shutil.copytree(base, tmp_path / name)
        verdicts[name] = (*_gate(tmp_path / name, instance, engine), PartitionStore(tmp_path / name))
    (here, here_checks, here_store), (there, there_checks, there_store) = verdicts["in-process"], verdicts["spark"]
    assert there_checks == here_checks
    assert {meta["partition_range"] for _, meta in here_checks.values()} == {f"{FIRST}..{LAST}"}  # the days checked
    assert there.success == here.success and (case == "a bad tick") == here.success
    assert not all(passed for passed, _ in here_checks.values())  # each case fails a check
    keys = days(FIRST, LAST)
    mine, theirs = there_store.files(["quarantine"], keys), here_store.files(["quarantine"], keys)
    assert [mine[k].read_bytes() for k in keys] == [theirs[k].read_bytes() for k in keys]
    assert there_store.keys(["sft_rows"]) == here_store.keys(["sft_rows"])
    folder = there_store.folder(["sft_rows"])  # a refused sft_rows leaves nothing staged or in flight
    assert not list((folder / "_inflight").glob("*")) if folder.exists() else True
    if not here.success:
        assert not list(folder.glob("*.parquet")) if folder.exists() else True
