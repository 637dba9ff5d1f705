"""Row identity and provenance flags of the exported rows: ``row_id`` and ``is_synthetic`` (issue 15 contract).

* ``row_id`` (str): ``f"{asset_symbol}:{timestamp:%Y-%m-%d}"``, the UTC day of the row's timestamp, e.g.
  ``BTC-USD:2012-07-11``. The date suffix has a fixed width, so an id names one (symbol, day) pair.
* ``is_synthetic`` (bool): whether the row's own price series is a synthetic stand-in (the provenance's
  ``sources[<price series key>].kind == "synthetic"``), from ``synthetic_symbols``.

The exporter adds both columns (right after ``columns.SFT_COLUMNS``); rows that already carry them must
hold exactly these values.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from portfolio_assets.landing import series_key
from portfolio_assets.universe import AssetSpec, Universe

__all__ = ["ROW_ID_COLUMNS", "is_synthetic", "price_series_key", "row_ids", "synthetic_symbols"]

ROW_ID_COLUMNS = ("row_id", "is_synthetic")
"""The columns the exporter adds after ``SFT_COLUMNS``, in this order."""


def row_ids(symbols: pd.Series, timestamps: pd.Series) -> pd.Series:
    """``"<symbol>:<UTC day of timestamp>"`` per row (object dtype, same index as ``symbols``); ValueError where a
    symbol or timestamp is missing."""
    if len(symbols) != len(timestamps):
        raise ValueError(f"row_ids: {len(symbols)} symbols but {len(timestamps)} timestamps")
    if not isinstance(timestamps.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"row_ids: timestamps must be timezone-aware datetimes, got dtype {timestamps.dtype}")
    missing = symbols.isna().to_numpy() | timestamps.isna().to_numpy()
    if missing.any():
        at = int(np.flatnonzero(missing)[0])
        raise ValueError(f"row_ids: {int(missing.sum())} row(s) lack an asset_symbol or timestamp (e.g. row {at})")
    codes, uniques = pd.factorize(timestamps.reset_index(drop=True), sort=False)
    days = pd.Series(uniques).dt.tz_convert("UTC").dt.strftime(":%Y-%m-%d").to_numpy(dtype=object)
    ids = symbols.astype(str).to_numpy(dtype=object) + days[codes]
    return pd.Series(ids, index=symbols.index, name="row_id", dtype=object)


def is_synthetic(symbols: pd.Series, synthetic: Collection[str]) -> pd.Series:
    """Per row, whether its symbol is one of ``synthetic`` (boolean dtype)."""
    flags = symbols.isin(frozenset(synthetic)).to_numpy(dtype=bool)
    return pd.Series(flags, index=symbols.index, name="is_synthetic", dtype="boolean")


def price_series_key(spec: AssetSpec) -> str:
    """The provenance key of ``spec``'s own price series, ``"<source>/<series key>"`` as the landing zone names it
    (e.g. ``alphavantage/function=TIME_SERIES_DAILY,symbol=GOOG``)."""
    if spec.source != "alphavantage":
        raise ValueError(f"asset {spec.symbol}: price source {spec.source!r} has no known landing-zone series key")
    from portfolio_assets.sources import alphavantage

    return f"{alphavantage.SOURCE}/{series_key(alphavantage.series_params(spec.params))}"


def synthetic_symbols(sources: Mapping[str, object] | object, universe: Universe) -> frozenset[str]:
    """The universe's symbols whose own price series the provenance ``sources`` marks ``synthetic``.

    ``sources``: ``provenance["sources"]`` (``"<source>/<series key>" -> {"kind": "real" | "synthetic", ...}``,
    e.g. ``export.sample_sources()``). A price series it does not list is live data (real); a listed one without
    a ``kind`` of ``real`` / ``synthetic`` is an error naming the key."""
    if not isinstance(sources, Mapping):
        return frozenset()  # no per-series record (e.g. None): nothing is known to be synthetic
    found = set()
    for spec in universe.assets:
        key = price_series_key(spec)
        if key not in sources:
            continue
        entry = sources[key]
        kind = entry.get("kind") if isinstance(entry, Mapping) else None
        if kind not in ("real", "synthetic"):
            raise ValueError(
                f"provenance sources[{key!r}] (the price series of {spec.symbol}): expected a record with kind "
                f"'real' or 'synthetic', got {entry!r:.80}"
            )
        if kind == "synthetic":
            found.add(spec.symbol)
    return frozenset(found)
