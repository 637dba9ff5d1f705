"""The gate's column-wise helpers equal the row-by-row code they replaced.

``held_rows`` (keys compared as tuples), ``not_applicable_texts`` (one text per row, the same
``KeyError`` for a symbol the universe lacks) and the applicability rules' expected lists (one per
distinct class and volume flag), on random keys with duplicates, nulls and odd values.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.assets.sft_rows import KEYS, held_rows, not_applicable_texts
from portfolio_assets.columns import not_applicable
from portfolio_assets.features.sft import (
    _Day,
    _float_texts,
    _instructions,
    instruction_text,
    timeseries_instruction_text,
)
from portfolio_assets.numtext import json_number_texts
from portfolio_assets.schemas.applicability import (
    NOT_APPLICABLE_IS_NULL,
    _expected_not_applicable,
    has_volume_column,
    has_volume_of,
)


def held_rows_by_row(
    rows: pd.DataFrame, invalid: pd.DataFrame, suspect: pd.Series, no_target: pd.Series | None = None
) -> pd.DataFrame:
    """``held_rows`` as it was: a set of key tuples."""
    keys = set(zip(invalid["timestamp"], invalid["asset_symbol"], strict=True))
    row_keys = list(zip(rows["timestamp"], rows["asset_symbol"], strict=True))
    parts = [invalid]
    for status, reasons in (("no_target", no_target), ("suspect_move", suspect)):
        if reasons is None:
            continue
        extra = reasons.notna().to_numpy() & np.array([k not in keys for k in row_keys], dtype=bool)
        parts.append(rows[extra].assign(validation_status=status, validation_error=reasons[extra].to_numpy()))
        keys.update(k for k, held in zip(row_keys, extra, strict=True) if held)
    parts = [frame for frame in parts if len(frame)]
    if not parts:
        return invalid.reset_index(drop=True)
    return pd.concat(parts, ignore_index=True).sort_values(KEYS, kind="stable").reset_index(drop=True)


DAYS = pd.date_range("2010-01-01", periods=4, tz="UTC")
SYMBOLS = ["A", "B", "C"]


@st.composite
def gate_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series | None]:
    n = draw(st.integers(0, 14))
    nulls = draw(st.booleans())
    symbols = [draw(st.sampled_from([*SYMBOLS, None] if nulls else SYMBOLS)) for _ in range(n)]
    days = [draw(st.sampled_from(list(DAYS))) for _ in range(n)]
    rows = pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(days, tz="UTC") if n else pd.DatetimeIndex([], tz="UTC"),
            "asset_symbol": pd.Series(symbols, dtype=object),
            "value": np.arange(n, dtype=float),
        }
    )
    picked = [i for i in range(n) if draw(st.booleans())]
    invalid = rows.iloc[picked].assign(validation_status="invalid", validation_error="bad")
    if draw(st.booleans()) and n:  # a key of the quarantine that is not a row of rows
        extra = rows.iloc[[0]].assign(asset_symbol="Z", validation_status="invalid", validation_error="x")
        invalid = pd.concat([invalid, extra])

    def reasons(label: str) -> pd.Series:
        return pd.Series([label if draw(st.booleans()) else None for _ in range(n)], dtype=object)

    return rows, invalid, reasons("suspect"), reasons("ended") if draw(st.booleans()) else None


@settings(max_examples=200, deadline=None)
@given(gate_frames())
def test_held_rows_equals_the_tuple_set_version(frames) -> None:
    rows, invalid, suspect, no_target = frames
    pdt.assert_frame_equal(
        held_rows(rows, invalid, suspect, no_target), held_rows_by_row(rows, invalid, suspect, no_target)
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["A", "B", "FX1", "MISSING", None]), st.sampled_from([*ASSET_CLASSES, None])))
)
def test_not_applicable_texts_equal_the_per_row_dumps(pairs) -> None:
    rows = pd.DataFrame(pairs, columns=["asset_symbol", "asset_class"], dtype=object)
    has_volume = {"A": True, "B": False, "FX1": False}

    def by_row() -> list[str]:
        return [
            json.dumps(not_applicable(c, has_volume[s]))
            for s, c in zip(rows["asset_symbol"], rows["asset_class"], strict=True)
        ]

    try:
        expected = by_row()
    except Exception as exc:  # the same error, whichever it is
        with pytest.raises(type(exc)) as raised:
            not_applicable_texts(rows, has_volume)
        assert str(raised.value) == str(exc)
    else:
        assert not_applicable_texts(rows, has_volume) == expected


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([*ASSET_CLASSES, "metal", None, np.nan]),
            st.sampled_from([True, False, None]),
            st.sampled_from([np.nan, 1.0]),
        )
    )
)
def test_applicability_by_group_equals_row_by_row(cells) -> None:
    frame = pd.DataFrame(cells, columns=["asset_class", "has_volume", "volume"])
    frame["asset_class"] = frame["asset_class"].astype(object)
    frame["has_volume"] = frame["has_volume"].astype(object)
    frame["asset_symbol"] = "X"
    expected = [
        not_applicable(cls, bool(hv)) if cls in ASSET_CLASSES else None
        for cls, hv in zip(frame["asset_class"], has_volume_of(frame), strict=True)
    ]
    assert _expected_not_applicable(frame) == expected
    na_ok = [
        not (e is not None and "volume" in e and pd.notna(v)) for e, v in zip(expected, frame["volume"], strict=True)
    ]
    assert NOT_APPLICABLE_IS_NULL.ok(frame).tolist() == na_ok


def test_applicability_with_unhashable_classes_is_judged_row_by_row() -> None:
    frame = pd.DataFrame({"asset_class": ["equity", "fx", "equity"], "asset_symbol": "X", "volume": [1.0, 1.0, 1.0]})
    frame["asset_class"] = frame["asset_class"].astype(object)
    frame.at[2, "asset_class"] = ["equity"]
    assert _expected_not_applicable(frame) == [not_applicable("equity"), not_applicable("fx", False), None]
    assert NOT_APPLICABLE_IS_NULL.ok(frame).tolist() == [True, False, True]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "FX1", "MISSING", None, np.nan]), st.sampled_from([*ASSET_CLASSES, "x"]))
    )
)
def test_has_volume_column_looks_each_symbol_up_as_before(pairs) -> None:
    frame = pd.DataFrame(pairs, columns=["asset_symbol", "asset_class"], dtype=object)
    lookup = {"A": True, "B": False, "FX1": False}
    by_row = has_volume_of(frame.assign(has_volume=frame["asset_symbol"].map(lookup.get)))
    pdt.assert_series_equal(has_volume_column(frame, lookup), by_row)


TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.one_of(TEXT, st.sampled_from(["BTC", 7, None])), st.one_of(TEXT, st.just("fx"))), max_size=8),
    st.sampled_from(["UTC", "America/New_York", None]),
    st.booleans(),
)
def test_instructions_are_the_per_row_texts(pairs, tz, with_nat) -> None:
    days = pd.date_range("1999-12-30 22:00", periods=len(pairs), freq="13h", tz=tz)
    rows = pd.DataFrame(pairs, columns=["asset_symbol", "asset_class"], dtype=object)
    rows["timestamp"] = pd.Series(days).where(pd.Series(range(len(pairs))) != 1) if with_nat else days
    stamps = rows["timestamp"]
    days = list(stamps) if stamps.isna().any() else [_Day(f"{d:%Y-%m-%d}") for d in stamps]  # as before
    for text in (instruction_text, timeseries_instruction_text):
        try:
            expected = [
                text(s, c, d, 90) for s, c, d in zip(rows["asset_symbol"], rows["asset_class"], days, strict=True)
            ]
        except ValueError as exc:  # NaT has no day
            with pytest.raises(ValueError, match=str(exc)):
                _instructions(rows, 90, text)
        else:
            assert _instructions(rows, 90, text) == expected


AWKWARD = [0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1e-7, 1.234565, 999999.5, 1e16, -123456.78901234567, 2.0**53 + 2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(AWKWARD), st.floats()), min_size=1, max_size=40), st.integers(4096, 9000))
def test_float_texts_of_repeated_values_equal_the_direct_texts(values, n) -> None:
    repeated = np.resize(np.array(values, dtype="float64"), n)  # few distinct values: written once each
    assert _float_texts(repeated).equals(json_number_texts(repeated))
    spread = np.random.default_rng(n).permutation(np.concatenate([repeated, np.arange(n) / 7.0]))
    assert _float_texts(spread).equals(json_number_texts(spread))


def test_build_sft_rows_is_format_rows_sorted() -> None:
    """The frame ``format_rows`` gives, with the context and not_applicable texts, sorted and renumbered."""
    from portfolio_assets.assets.sft_rows import build_sft_rows
    from portfolio_assets.checks import has_volume_for
    from portfolio_assets.columns import FEATURE_COLUMNS, SFT_COLUMNS
    from portfolio_assets.features.sft import format_rows
    from portfolio_assets.universe import load_universe

    universe = load_universe()
    rng = np.random.default_rng(11)
    n = 120
    assets = [universe.assets[i] for i in rng.integers(0, len(universe.assets), n)]
    days = pd.Timestamp("2021-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 9, n), unit="D")
    added = {"instruction", "input", "output", "context_window", "not_applicable"}
    joined = pd.DataFrame({c: np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)) for c in SFT_COLUMNS})
    joined = joined.drop(columns=list(added)).assign(
        timestamp=days,
        asset_symbol=[a.symbol for a in assets],
        asset_class=[a.asset_class for a in assets],
        decision_time=days + pd.Timedelta(hours=21),
        target_timestamp=days + pd.Timedelta(days=90),
        news_volume=pd.array(np.where(rng.random(n) < 0.3, None, rng.integers(0, 50, n)), dtype="Int64"),
    )
    joined.index = rng.permutation(1000)[:n]
    context = pd.Series([f"[{i}.0]" for i in range(n)], index=joined.index[::-1])
    rows = format_rows(joined, FEATURE_COLUMNS, 90)
    rows["context_window"] = context.reindex(rows.index).to_numpy()
    rows["not_applicable"] = not_applicable_texts(rows, has_volume_for(universe.assets))
    expected = rows[SFT_COLUMNS].sort_values(["timestamp", "asset_symbol"]).reset_index(drop=True)
    pdt.assert_frame_equal(build_sft_rows(joined, context, universe), expected, check_exact=True)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_not_held_is_the_left_merge_on_the_keys(data) -> None:
    from portfolio_assets.assets.sft_rows import not_held

    days = [pd.Timestamp("2021-01-04", tz="UTC"), pd.Timestamp("2021-01-05", tz="UTC"), pd.NaT]
    symbols = ["A", "B", None, np.nan]
    with_nulls = data.draw(st.booleans())

    def keys(size: int) -> pd.DataFrame:
        pick = st.integers(0, (3 if with_nulls else 2) - 1)
        return pd.DataFrame(
            {
                "timestamp": pd.array([days[data.draw(pick)] for _ in range(size)], dtype="datetime64[ns, UTC]"),
                "asset_symbol": pd.array(
                    [symbols[data.draw(st.integers(0, 3 if with_nulls else 1))] for _ in range(size)], dtype=object
                ),
                "v": range(size),
            }
        )

    rows, held = keys(data.draw(st.integers(0, 8))), keys(data.draw(st.integers(0, 5)))
    merged = rows.merge(held[KEYS].drop_duplicates(), on=KEYS, how="left", indicator=True)
    assert not_held(rows, held).tolist() == merged["_merge"].eq("left_only").tolist()
