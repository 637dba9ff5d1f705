"""Class-aware row rules: a feature that does not apply to the asset is null, and ``not_applicable`` lists them.

Which features apply depends on the asset's class and on whether its price
source reports volume (``columns.not_applicable(asset_class, has_volume)``).
``has_volume`` is the frame's boolean ``has_volume`` column when it has one;
``validate_rows(..., has_volume=...)`` adds that column from a symbol map.
Where neither says, the class decides: every class but fx has volume.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from portfolio_assets.asset_classes import ASSET_CLASSES, VOLUME_CLASSES
from portfolio_assets.columns import VOLUME_FEATURES, applies, not_applicable
from portfolio_assets.schemas.display import fmt
from portfolio_assets.schemas.row_rule import Problem, RowRule, all_true
from portfolio_assets.schemas.text import parsed

# Features whose applicability depends on the asset's class or price source.
CLASS_DEPENDENT = [*VOLUME_FEATURES, "fear_greed_index"]


def has_volume_of(df: pd.DataFrame) -> pd.Series:
    """Whether each row's price source reports volume: the ``has_volume`` column, else the class."""
    by_class = df["asset_class"].isin(VOLUME_CLASSES)
    if "has_volume" not in df.columns:
        return by_class.astype(bool)
    given = df["has_volume"]
    return given.where(given.notna(), by_class).astype(bool)


def has_volume_column(df: pd.DataFrame, has_volume: Mapping[str, bool]) -> pd.Series:
    """A boolean ``has_volume`` column for ``df`` from ``{asset_symbol: has_volume}``.

    A symbol missing from the map falls back to its class, so the column is never null.
    ``df`` needs ``asset_symbol`` and ``asset_class``.
    """
    lookup = dict(has_volume)

    def given(symbol: object) -> bool | None:
        try:
            return lookup.get(symbol)  # type: ignore[arg-type]
        except TypeError:  # an unhashable cell: the asset_symbol dtype check reports it
            return None

    symbols = df["asset_symbol"]
    try:  # each distinct symbol looked up once
        if symbols.isna().any():  # None and NaN would share a code
            raise TypeError
        codes, uniques = pd.factorize(symbols)
    except TypeError:  # an unhashable or null cell: symbol by symbol
        return has_volume_of(df.assign(has_volume=symbols.map(given)))
    found = np.array([given(symbol) for symbol in uniques], dtype=object)
    return has_volume_of(df.assign(has_volume=pd.Series(found[codes], index=df.index, dtype=object)))


def _expected_groups(df: pd.DataFrame) -> tuple[np.ndarray, list[list[str] | None]]:
    """(a code per row, per code ``not_applicable(asset_class, has_volume)``, None for an unknown class): one
    list per distinct (asset_class, has_volume), each from its first row (equal classes give equal lists)."""
    classes, has_volume = df["asset_class"], has_volume_of(df).to_numpy(dtype=bool)
    try:
        class_codes = pd.factorize(classes, use_na_sentinel=False)[0]
    except TypeError:  # an unhashable cell: row by row
        class_codes = np.arange(len(df))
    _, first, codes = np.unique(class_codes.astype(np.int64) * 2 + has_volume, return_index=True, return_inverse=True)
    expected = [
        not_applicable(cls, bool(hv)) if cls in ASSET_CLASSES else None
        for cls, hv in zip(classes.iloc[first], has_volume[first], strict=True)
    ]
    return codes.reshape(-1), expected


def _expected_not_applicable(df: pd.DataFrame) -> list[list[str] | None]:
    """``not_applicable(asset_class, has_volume)`` of every row (None for an unknown class)."""
    codes, expected = _expected_groups(df)
    return [expected[c] for c in codes.tolist()]


# --------------------------------------------------------------------------- null where not applicable


def _class_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in CLASS_DEPENDENT if c in df.columns]


def _na_ok(df: pd.DataFrame) -> pd.Series:
    columns = _class_columns(df)
    if not columns or not {"asset_class", "asset_symbol"} <= set(df.columns):
        return all_true(df)
    codes, expected = _expected_groups(df)
    ok = np.ones(len(df), dtype=bool)
    for col in columns:
        not_app = np.array([e is not None and col in e for e in expected], dtype=bool)[codes]
        ok &= ~(not_app & df[col].notna().to_numpy(dtype=bool))
    return pd.Series(ok, index=df.index)


def _na_explain(rows: pd.DataFrame) -> list[Problem]:
    expected = _expected_not_applicable(rows)
    has_volume = has_volume_of(rows).to_numpy()
    classes, symbols = rows["asset_class"].to_numpy(), rows["asset_symbol"].to_numpy()
    out = []
    for col in _class_columns(rows):
        values, present = rows[col].to_numpy(dtype=object), rows[col].notna().to_numpy()
        for i in np.flatnonzero(present):
            if expected[i] is None or col not in expected[i]:
                continue
            no_source = col in VOLUME_FEATURES and not has_volume[i] and applies(col, classes[i])
            why = " (its price source has no volume)" if no_source else ""
            message = f"{col}={fmt(values[i])} present but not applicable to {classes[i]} {symbols[i]}{why}"
            out.append((int(i), col, values[i], message))
    return out


NOT_APPLICABLE_IS_NULL = RowRule(
    tuple(CLASS_DEPENDENT),
    "null where not applicable: columns.not_applicable(asset_class, has_volume)",
    _na_ok,
    _na_explain,
)


# --------------------------------------------------------------------------- the not_applicable list


def _listed_ok(df: pd.DataFrame) -> pd.Series:
    if not {"asset_class", "asset_symbol", "not_applicable"} <= set(df.columns):
        return all_true(df)
    listed = parsed(df["not_applicable"])
    expected = _expected_not_applicable(df)
    ok = [not isinstance(got, list) or want is None or got == want for got, want in zip(listed, expected, strict=True)]
    return pd.Series(ok, index=df.index)


def _listed_explain(rows: pd.DataFrame) -> list[Problem]:
    listed, expected = parsed(rows["not_applicable"]), _expected_not_applicable(rows)
    texts, classes, symbols = rows["not_applicable"].to_numpy(), rows["asset_class"], rows["asset_symbol"]
    return [
        (i, "not_applicable", texts[i], f"not_applicable={got} but {cls} {sym} has {want}")
        for i, (got, want, cls, sym) in enumerate(zip(listed, expected, classes, symbols, strict=True))
    ]


NOT_APPLICABLE_LISTED = RowRule(
    ("not_applicable",),
    "not_applicable == columns.not_applicable(asset_class, has_volume)",
    _listed_ok,
    _listed_explain,
)
