"""The gate's per-row checks merged from per-asset partials say what they say of all the rows at once, also when
a row fails several columns (more failure cases than rows) and failing rows come from several assets."""

from __future__ import annotations

import math

import pandas as pd

from portfolio_assets.assets.gate_checks import coverage_outcome, coverage_part, timing_outcome, timing_part
from portfolio_assets.checks import point_in_time, target_coverage
from portfolio_assets.columns import available_column
from portfolio_assets.spans import HORIZON_DAYS

LATE = pd.Timedelta(days=1)
CROSS = ["beta_sp500_60d", "corr_sp500_60d", "corr_dxy_60d"]


def _per_asset(frame: pd.DataFrame) -> list[pd.DataFrame]:
    return [g.reset_index(drop=True) for _, g in frame.groupby("asset_symbol", sort=True)]


def _same(merged, whole) -> None:
    assert (merged.passed, merged.summary, merged.metadata) == (whole.passed, whole.summary, whole.metadata)
    columns = ["asset_symbol", "timestamp", "column", "value", "reason"]
    pd.testing.assert_frame_equal(merged.failures[columns], whole.failures[columns])


def _joined() -> pd.DataFrame:
    rows = []
    for symbol, n in (("A", 10), ("B", 100)):
        for d in range(n):
            ts = pd.Timestamp("2021-01-01", tz="UTC") + pd.Timedelta(days=d)
            row = {"asset_symbol": symbol, "timestamp": ts, "decision_time": ts}
            for f in CROSS:
                row[f], row[available_column(f)] = 1.0, ts
            rows.append(row)
    joined = pd.DataFrame(rows)
    a = (joined["asset_symbol"] == "A").to_numpy()
    first_nine = a & (joined.index < 9)
    for f in CROSS[:2]:  # nine rows of A late on two columns each; A's tenth late on the third only
        joined.loc[first_nine, available_column(f)] += LATE
    joined.loc[a & (joined.index == 9), available_column(CROSS[2])] += LATE
    joined.loc[~a & (joined.index % 40 == 0), available_column(CROSS[1])] += LATE  # and a few of B
    return joined.sort_values(["timestamp", "asset_symbol"], ignore_index=True)


def test_point_in_time_merged_from_assets_is_the_whole_frames(monkeypatch):
    import portfolio_assets.assets.gate_checks as gate_checks

    monkeypatch.setattr(gate_checks, "FEATURE_COLUMNS", CROSS)
    joined = _joined()
    whole = point_in_time(joined, features=CROSS)
    assert not whole.passed and whole.metadata["violations"][CROSS[2]] == 1
    _same(timing_outcome([timing_part(part) for part in _per_asset(joined)]), whole)
    _same(timing_outcome([timing_part(joined)]), whole)


def test_target_coverage_merged_from_assets_is_the_whole_frames():
    days = pd.date_range("2021-01-01", periods=30, tz="UTC")
    rows = pd.DataFrame(
        {
            "asset_symbol": ["A"] * 30 + ["B"] * 30,
            "timestamp": list(days) * 2,
            "price_close": 10.0,
            "target_price_90d": 11.0,
            "target_return_90d": math.log(11.0 / 10.0),
            "target_return_pct_90d": 10.0,
            "target_timestamp": list(days + pd.Timedelta(days=HORIZON_DAYS)) * 2,
        }
    )
    rows.loc[3, ["target_price_90d", "target_return_90d"]] = float("nan")  # A: one row, two columns missing
    rows.loc[40, "target_return_pct_90d"] = 12.0  # B: inconsistent
    ended = {"B": pd.Timestamp("2021-02-01", tz="UTC")}  # B's horizon passes its last day: labels must be empty
    rows = rows.sort_values(["timestamp", "asset_symbol"], ignore_index=True)
    whole = target_coverage(rows, last_trading_days=ended, horizon_days=HORIZON_DAYS)
    assert not whole.passed
    _same(coverage_outcome([coverage_part(part, ended) for part in _per_asset(rows)], ended), whole)
