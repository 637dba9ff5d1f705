"""``validate_rows`` with rows proven column-wise (``schemas.proven``) gives pandera's whole-frame result.

Every group's frame (the bundled sample, as ``test_schemas`` builds them) and the synthetic training
rows, clean and corrupted in ways that fail each kind of check (ranges, nulls, ±inf, duplicated keys,
wrong types in a text column, a mistyped, missing or unexpected column, row rules, texts): the
valid / invalid split, the failure records, the messages and the frame errors equal those of
``_shortcut=False``, which validates every row with pandera.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandera.typing import Series

from portfolio_assets.assets.training_set import csv_ready
from portfolio_assets.bench_rows import synthetic_rows
from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.features.sft import format_rows
from portfolio_assets.schemas import SCHEMAS, SftRowsSchema, TrainingSetSchema, validate_rows
from portfolio_assets.schemas.canonical import known_good
from portfolio_assets.schemas.proven import proven_rows
from portfolio_assets.schemas.shortcut import known_passing
from portfolio_assets_tests.test_schemas import frames, has_volume  # noqa: F401 - module fixtures
from portfolio_assets_tests.test_validation_shortcut import assert_same, corrupt

BAD_NUMBERS = [np.nan, np.inf, -np.inf, -1.0, 0.0, 1e300, 130.0, -0.0]


def damage(frame: pd.DataFrame, rng: np.random.Generator, count: int) -> pd.DataFrame:
    """``count`` rows with one value replaced by a bad number (float columns) or a null / non-string (others),
    and a duplicated row."""
    bad = frame.copy()
    columns = list(bad.columns)
    for row in rng.choice(len(bad), min(count, len(bad)), replace=False):
        column = columns[rng.integers(len(columns))]
        kind = bad[column].dtype.kind
        if kind == "f":
            bad.loc[row, column] = BAD_NUMBERS[rng.integers(len(BAD_NUMBERS))]
        elif kind == "O":
            bad.loc[row, column] = [None, np.nan, 5, "", "x"][rng.integers(5)]
        elif isinstance(bad[column].dtype, pd.Int64Dtype):
            bad.loc[row, column] = [pd.NA, -3][rng.integers(2)]
        elif isinstance(bad[column].dtype, pd.DatetimeTZDtype):
            bad.loc[row, column] = pd.NaT
    if len(bad):
        bad = pd.concat([bad, bad.iloc[[int(rng.integers(len(bad)))]]], ignore_index=True)
    return bad


@pytest.mark.parametrize("group", sorted(SCHEMAS))
def test_every_group_clean_and_damaged_validates_as_pandera_alone(frames, has_volume, group: str) -> None:  # noqa: F811
    frame = frames[group]
    assert_same(frame, SCHEMAS[group], has_volume=has_volume)
    for seed in range(3):
        bad = damage(frame, np.random.default_rng(seed), 12)
        result = assert_same(bad, SCHEMAS[group], has_volume=has_volume)
        assert len(result.invalid) >= 2  # the duplicated key at least


def test_whole_frame_problems_leave_every_row_to_pandera(frames, has_volume) -> None:  # noqa: F811
    rows = frames["sft_rows"]
    mistyped = rows.assign(rsi_14=rows["rsi_14"].astype(object))
    cases = [
        rows.drop(columns=["macd"]),
        rows.assign(extra=1),
        rows.assign(news_volume=rows["news_volume"].astype("float64")),
        mistyped,
        rows.assign(input=rows["input"].astype("string")),
        rows.iloc[:0],
    ]
    for case in cases:
        assert_same(case, SftRowsSchema, has_volume=has_volume)
    work = rows.reset_index(drop=True)
    model = SftRowsSchema.to_schema()
    with known_passing(known_good(work, model)):
        assert proven_rows(work.drop(columns=["macd"]), model) is None
        assert proven_rows(work.assign(extra=1), model) is None
        assert proven_rows(mistyped.reset_index(drop=True), model) is None
        assert proven_rows(work.set_axis(work.index + 1), model) is None
        proven = proven_rows(work, model)
    assert proven is not None  # here exactly the valid rows (every check's failures are row-wise)
    invalid = validate_rows(work, SftRowsSchema).invalid.index
    assert np.flatnonzero(~proven).tolist() == invalid.tolist()


def test_unhashable_class_cells_validate_as_pandera_alone(frames) -> None:  # noqa: F811
    rows = frames["sft_rows"].copy()
    rows["asset_class"] = rows["asset_class"].astype(object)
    rows.at[rows.index[0], "asset_class"] = ["equity"]  # unhashable class cells
    rows.at[rows.index[1], "asset_class"] = {"a": 1}
    assert_same(rows, SftRowsSchema)


def test_duplicated_keys_are_judged_with_every_copy() -> None:
    ready = csv_ready(format_rows(synthetic_rows(300, assets=3, seed=4), FEATURE_COLUMNS, 90))
    doubled = pd.concat([ready, ready.iloc[[5, 5, 77]], ready.iloc[[200]].assign(rsi_14=150.0)], ignore_index=True)
    result = assert_same(doubled, TrainingSetSchema)
    assert len(result.invalid) == 7
    assert result.invalid["validation_error"].str.contains("duplicated").all()


@pytest.fixture(scope="module")
def ready() -> pd.DataFrame:
    return csv_ready(format_rows(synthetic_rows(120, assets=2, seed=9), FEATURE_COLUMNS, 90))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 40), damaged=st.integers(0, 20))
def test_random_corruptions_validate_as_pandera_alone(ready, seed: int, count: int, damaged: int) -> None:
    rng = np.random.default_rng(seed)
    bad = damage(corrupt(ready, rng, count), rng, damaged)
    assert_same(bad, TrainingSetSchema)


def test_a_frame_error_among_the_unproven_rows_sends_the_whole_frame_to_pandera(ready, monkeypatch) -> None:
    import portfolio_assets.schemas.validation as validation

    mistyped = ready.assign(rsi_14=ready["rsi_14"].astype(object))  # a column-level dtype failure
    mistyped.loc[3, "rsi_14"] = "x"
    monkeypatch.setattr(validation, "proven_rows", lambda work, model: np.arange(len(work)) % 2 == 0)
    result = assert_same(mistyped, TrainingSetSchema)
    assert result.frame_errors


class _Ordered(pa.DataFrameModel):
    a: Series[float] = pa.Field(gt=0)
    b: Series[float]

    class Config:
        strict = True
        ordered = True


def test_options_the_proof_does_not_model_leave_every_row_to_pandera() -> None:
    frame = pd.DataFrame({"b": [1.0, 2.0], "a": [2.0, -1.0]})
    result = assert_same(frame, _Ordered)
    assert result.frame_errors and len(result.invalid) == 1
    assert assert_same(frame.assign(a=[2.0, 3.0]), _Ordered).frame_errors  # every row valid: still reported
    assert proven_rows(frame, _Ordered.to_schema()) is None
