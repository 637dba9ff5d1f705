"""Small synthetic exports for the evaluation harness's tests: a manifest, Parquet files and optional folds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio_assets.columns import FEATURE_COLUMNS

ASSETS = {"BTC-USD": "crypto", "ETH-USD": "crypto", "GOOG": "equity", "IXIC": "equity"}
SOURCES = {
    "alphavantage/function=DIGITAL_CURRENCY_DAILY,market=USD,symbol=BTC": {"kind": "synthetic", "origin": "t"},
    "alphavantage/function=DIGITAL_CURRENCY_DAILY,market=USD,symbol=ETH": {"kind": "synthetic", "origin": "t"},
    "alphavantage/function=TIME_SERIES_DAILY,symbol=GOOG": {"kind": "real", "origin": "t"},
    "alphavantage/function=TIME_SERIES_DAILY,symbol=IXIC": {"kind": "real", "origin": "t"},
    "alphavantage/function=DIVIDENDS,symbol=GOOG": {"kind": "synthetic", "origin": "t"},
}
FIRST = pd.Timestamp("2010-01-01", tz="UTC")
DAYS = 700
HORIZON = 90
TEST_START = FIRST + pd.Timedelta(days=560)


def panel(seed: int = 7, n_days: int = DAYS) -> pd.DataFrame:
    """Every asset's daily rows with targets (rows whose horizon passes the last day are left out). The default
    test split (from TEST_START) spans 50 days: one 90-day outcome; ``n_days=1000`` gives it 350 (four)."""
    rng = np.random.default_rng(seed)
    frames = []
    days = pd.date_range(FIRST, periods=n_days, freq="D")
    for symbol, cls in ASSETS.items():
        steps = rng.normal(0.0003, 0.02, n_days)
        log_close = np.log(100.0) + np.cumsum(steps)
        close = np.exp(log_close)
        frame = pd.DataFrame({"timestamp": days, "asset_symbol": symbol, "asset_class": cls, "price_close": close})
        frame["return_1d"] = np.concatenate([[np.nan], np.diff(log_close)])
        frame["return_20d"] = pd.Series(log_close).diff(20).to_numpy()
        frame["volatility_30d"] = pd.Series(frame["return_1d"]).rolling(30).std().to_numpy()
        frame["target_timestamp"] = days + pd.Timedelta(days=HORIZON)
        ahead = np.concatenate([log_close[HORIZON:], np.full(HORIZON, np.nan)])
        frame["target_return_90d"] = ahead - log_close
        frame["target_price_90d"] = np.exp(ahead)
        frames.append(frame.iloc[: n_days - HORIZON])
    rows = pd.concat(frames, ignore_index=True).sort_values(["timestamp", "asset_symbol"], ignore_index=True)
    for column in FEATURE_COLUMNS:
        if column not in rows:
            rows[column] = np.nan
    rows["price_close"] = rows["price_close"].astype(float)
    return rows


def _dtype(series: pd.Series) -> str:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return "datetime64[ns, UTC]"
    if series.dtype == object:
        return "str"
    return str(series.dtype)


def write_export(out_dir: Path, rows: pd.DataFrame | None = None, folds: list[dict] | None = None) -> Path:
    """An export directory: train (purged before TEST_START) and test splits as Parquet, a manifest whose
    provenance names the price sources, and ``folds.json`` when ``folds`` is given."""
    rows = panel() if rows is None else rows
    rows = rows.copy()
    train = rows[rows["target_timestamp"] < TEST_START]
    test = rows[rows["timestamp"] >= TEST_START]
    schema = [{"name": c, "dtype": _dtype(rows[c])} for c in rows.columns]
    files = []
    for split, part in (("train", train), ("test", test)):
        path = out_dir / "parquet" / split / f"{split}-all.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        part.reset_index(drop=True).to_parquet(path)
        files.append({"path": str(path.relative_to(out_dir)), "format": "parquet", "split": split, "shard": "all"})
    manifest = {
        "formats": ["parquet"],
        "files": files,
        "schema": schema,
        "provenance": {"horizon_days": HORIZON, "sources": SOURCES},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if folds is not None:
        (out_dir / "folds.json").write_text(json.dumps(folds_document(folds)), encoding="utf-8")
    return out_dir


def folds_document(folds: list[dict]) -> dict:
    """A whole ``folds.json`` document (``export.folds`` format) around ``folds`` (each with ``fold`` and its
    parts' ``row_ids``): every part's first / last day and count filled in from its row ids."""

    def part(body: dict) -> dict:
        days = sorted(rid.rsplit(":", 1)[1] for rid in body["row_ids"]) or ["2000-01-01"]
        return {**body, "first": days[0], "last": days[-1], "rows": len(body["row_ids"])}

    whole = [
        {"purged": 0, "embargoed": 0, **fold, "train": part(fold["train"]), "test": part(fold["test"])}
        for fold in folds
    ]
    return {
        "format": "portfolio_assets.walk_forward_folds",
        "format_version": 1,
        "scheme": "expanding",
        "n_folds": len(whole),
        "test_days": None,
        "train_days": None,
        "embargo_days": 0,
        "folds": whole,
    }


def row_id(symbol: str, timestamp: pd.Timestamp) -> str:
    return f"{symbol}:{timestamp:%Y-%m-%d}"


def expanding_folds(rows: pd.DataFrame, starts: list[pd.Timestamp], test_days: int) -> list[dict]:
    """Walk-forward folds over the exported rows (train + test splits): expanding train, purged on the label."""
    exported = rows[(rows["target_timestamp"] < TEST_START) | (rows["timestamp"] >= TEST_START)]
    ids = [row_id(s, t) for s, t in zip(exported["asset_symbol"], exported["timestamp"], strict=True)]
    exported = exported.assign(row_id=ids)
    folds = []
    for i, start in enumerate(starts):
        end = start + pd.Timedelta(days=test_days)
        train = exported[exported["target_timestamp"] < start]
        test = exported[(exported["timestamp"] >= start) & (exported["timestamp"] < end)]
        folds.append(
            {
                "fold": i,
                "train": {"rows": len(train), "row_ids": list(train["row_id"])},
                "test": {"rows": len(test), "row_ids": list(test["row_id"])},
                "purged": 0,
                "embargoed": 0,
            }
        )
    return folds
