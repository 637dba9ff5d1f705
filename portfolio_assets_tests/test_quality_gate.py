"""Blocking checks on crafted bad data: the quarantine holds the rows, sft_rows and the export do not run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portfolio_assets.definitions import gate_and_rows, training_set
from portfolio_assets.io_managers import PartitionStore
from portfolio_assets.runner import materialize_range
from portfolio_assets.spans import CONTEXT_LOOKBACK_DAYS
from portfolio_assets_tests.resources import make_resources
from portfolio_assets_tests.sample_frames import group_frames, store_frames

pytestmark = pytest.mark.slow

FIRST, LAST = "2010-03-01", "2010-03-31"


def days(first: str, last: str) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last)]


@pytest.fixture(scope="module")
def upstream() -> dict[str, pd.DataFrame]:
    """The frames the gate reads for FIRST..LAST (prices from the context window's start), built directly."""
    prices_from = (pd.Timestamp(FIRST) - pd.Timedelta(days=CONTEXT_LOOKBACK_DAYS)).strftime("%Y-%m-%d")
    return group_frames(FIRST, LAST, prices_from=prices_from)


@pytest.fixture
def store(tmp_path, upstream):
    """A fresh store holding just the upstream partitions the gate reads for FIRST..LAST."""
    store_frames(tmp_path, upstream, FIRST, LAST)
    return tmp_path


def mutate(data_dir, asset: str, change) -> None:
    """Rewrite every stored partition of ``asset`` in FIRST..LAST through ``change(frame)``."""
    part = PartitionStore(data_dir)
    keys = sorted(p.stem for p in (data_dir / asset).glob("*.parquet"))
    frame = part.read([asset], keys)
    part.write([asset], change(frame), keys)


def run_gate(data_dir, instance, selection=(gate_and_rows, training_set)):
    result = materialize_range(
        list(selection),
        FIRST,
        LAST,
        resources=make_resources(data_dir),
        instance=instance,
        raise_on_error=False,
        log_level="CRITICAL",
    )
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    done = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    held = (
        PartitionStore(data_dir).read(["quarantine"], days(FIRST, LAST)) if (data_dir / "quarantine").exists() else None
    )
    return result, checks, done, held


def one(frame: pd.DataFrame, symbol: str, day: str) -> pd.Series:
    return (frame["asset_symbol"] == symbol) & (frame["timestamp"] == pd.Timestamp(day, tz="UTC"))


def assert_blocked(result, done, data_dir):
    assert not result.success
    assert "quarantine" in done
    assert "sft_rows" not in done and "training_set" not in done
    assert not (data_dir / "sft_rows").exists()
    assert not list((data_dir / "exports").glob("*.csv")) if (data_dir / "exports").exists() else True


def test_the_sample_passes_the_gate(store, instance):
    # A month is too short to export (every training label would reach validation), so stop at sft_rows.
    result, checks, done, held = run_gate(store, instance, selection=(gate_and_rows,))
    assert result.success
    assert {"quarantine", "sft_rows"} <= done
    assert len(held) == 0
    assert all(c.passed for c in checks.values())


def test_an_rsi_of_130_is_quarantined_and_blocks(store, instance):
    mutate(store, "indicators", lambda f: f.assign(rsi_14=f["rsi_14"].where(~one(f, "GOOG", "2010-03-10"), 130.0)))
    result, checks, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert not checks["rsi_bounds"].passed and not checks["schema"].passed
    assert "GOOG" in checks["rsi_bounds"].metadata["summary"].value
    row = held[one(held, "GOOG", "2010-03-10")].iloc[0]
    assert row["validation_status"] == "invalid" and "rsi_14=130.0 outside 0..100" in row["validation_error"]
    assert len(held) == 1


def test_a_missing_target_is_quarantined_and_blocks(store, instance):
    cols = ["target_price_90d", "target_return_90d", "target_return_pct_90d"]

    def drop_target(frame):
        mask = one(frame, "BTC-USD", "2010-03-05")
        frame.loc[mask, cols] = np.nan
        frame.loc[mask, "target_timestamp"] = pd.NaT
        return frame

    mutate(store, "targets", drop_target)
    result, checks, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert not checks["target_coverage"].passed
    assert list(held["asset_symbol"]) == ["BTC-USD"]
    assert "target_price_90d is null" in held["validation_error"].iloc[0]


def test_a_price_of_zero_is_quarantined_and_blocks(store, instance):
    mutate(store, "prices", lambda f: f.assign(price_close=f["price_close"].where(~one(f, "TLT", "2010-03-15"), 0.0)))
    result, _, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert held[one(held, "TLT", "2010-03-15")]["validation_error"].str.contains("price_close=0.0 not > 0").all()


def test_a_duplicated_row_is_quarantined_and_blocks(store, instance):
    mutate(store, "sentiment", lambda f: pd.concat([f, f[one(f, "ETH-USD", "2010-03-20")]], ignore_index=True))
    result, _, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    dup = held[one(held, "ETH-USD", "2010-03-20")]
    assert len(dup) == 2 and dup["validation_error"].str.contains("duplicated").all()


def test_a_ten_day_hole_blocks(store, instance):
    hole = pd.date_range("2010-03-08", "2010-03-19", tz="UTC")  # two trading weeks
    mutate(store, "prices", lambda f: f[~((f["asset_symbol"] == "IXIC") & f["timestamp"].isin(hole))])
    result, checks, done, _ = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert not checks["temporal_gaps"].passed
    assert "IXIC" in checks["temporal_gaps"].metadata["summary"].value


def test_an_asset_60_percent_complete_blocks(store, instance):
    def blank(frame):
        rows = frame.index[frame["asset_symbol"] == "EURUSD"]
        frame.loc[rows[: int(len(rows) * 0.4)], "macd"] = np.nan
        return frame

    mutate(store, "indicators", blank)
    result, checks, done, held = run_gate(store, instance)
    assert_blocked(result, done, store)
    assert not checks["completeness"].passed
    assert "EURUSD" in checks["completeness"].metadata["summary"].value
    assert len(held) == 0  # missing values are allowed by the schema; completeness judges them
