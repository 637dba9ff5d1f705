"""``validate_rows``' fast path (rows whose texts are what ``format_rows`` writes) gives the slow path's result.

Random single-character and single-value corruptions of every text column and of the canonical
columns the texts are checked against, in every prompt format, validated with and without the
shortcut: the valid / invalid split, the failure records, the messages and the frame errors agree.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio_assets.assets.training_set import csv_ready
from portfolio_assets.bench_rows import synthetic_rows
from portfolio_assets.columns import FEATURE_COLUMNS
from portfolio_assets.features.sft import PROMPT_FORMATS, format_rows
from portfolio_assets.schemas import TRAINING_SET_SCHEMAS, SftRowsSchema, ValidationResult, validate_rows
from portfolio_assets.schemas.canonical import known_good
from portfolio_assets.schemas.flatjson import flat_objects
from portfolio_assets.strict_json import loads

TEXTS = ["input", "output", "context_window", "not_applicable", "instruction", "messages"]
NUMBERS = [
    "price_close",
    "rsi_14",
    "macd",
    "volume",
    "target_price_90d",
    "target_return_90d",
    "target_return_pct_90d",
    "sma_50",
]
CHARACTERS = [*'0123456789.-+eE ,:"{}[]nulNaI\\\n', "é", "\u2028"]
VALUES = [np.nan, 0.0, -0.0, 1e-320, 1.0000051, -5.0, 130.0, np.inf, 1e300]


def assert_same(frame: pd.DataFrame, schema: type, **kwargs: object) -> ValidationResult:
    fast = validate_rows(frame, schema, **kwargs)
    slow = validate_rows(frame, schema, _shortcut=False, **kwargs)
    pdt.assert_frame_equal(fast.valid, slow.valid)
    pdt.assert_frame_equal(fast.invalid, slow.invalid)
    pdt.assert_frame_equal(fast.failures, slow.failures)
    assert fast.frame_errors == slow.frame_errors
    return slow


def corrupt(frame: pd.DataFrame, rng: np.random.Generator, count: int) -> pd.DataFrame:
    """``count`` rows with one character of a text replaced, inserted or deleted, or one value changed."""
    bad = frame.copy()
    texts = [c for c in TEXTS if c in bad.columns]
    for row in rng.choice(len(bad), count, replace=False):
        if rng.random() < 0.6:
            column = texts[rng.integers(len(texts))]
            text = bad.at[row, column]
            at = int(rng.integers(len(text)))
            char = CHARACTERS[rng.integers(len(CHARACTERS))]
            kind = rng.integers(3)
            if kind == 0:
                text = text[:at] + char + text[at + 1 :]
            elif kind == 1:
                text = text[:at] + char + text[at:]
            else:
                text = text[:at] + text[at + 1 :]
            bad.at[row, column] = text
        else:
            column = NUMBERS[rng.integers(len(NUMBERS))]
            bad.at[row, column] = VALUES[rng.integers(len(VALUES))]
    return bad


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return synthetic_rows(400, assets=4, seed=3)


@pytest.mark.parametrize("prompt_format", PROMPT_FORMATS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corrupted_training_rows_validate_as_without_the_shortcut(base, prompt_format: str, seed: int) -> None:
    ready = csv_ready(format_rows(base, FEATURE_COLUMNS, 90, prompt_format=prompt_format))
    bad = corrupt(ready, np.random.default_rng(seed), 120)
    assert len(assert_same(bad, TRAINING_SET_SCHEMAS[prompt_format]).invalid) > 40


def test_clean_rows_take_the_shortcut_and_validate(base) -> None:
    for prompt_format in PROMPT_FORMATS:
        ready = csv_ready(format_rows(base, FEATURE_COLUMNS, 90, prompt_format=prompt_format))
        schema = TRAINING_SET_SCHEMAS[prompt_format]
        assert validate_rows(ready, schema).ok
        assert_same(ready, schema)
        masks = known_good(ready, schema.to_schema())
        text_rules = {"context_window_ends_at_close", "not_applicable_listed"}
        text_rules |= {
            "features": {"input_matches_columns", "output_matches_targets"},
            "timeseries": {"timeseries_input_matches_columns", "timeseries_output_matches_targets"},
            "chat": {"input_matches_columns", "output_matches_targets", "messages_match_prompt"},
        }[prompt_format]
        assert text_rules <= {check for check, column in masks if column is None}
        assert all(mask.all() for mask in masks.values()), prompt_format


def test_sft_rows_with_has_volume_map_and_odd_columns(base) -> None:
    rows = format_rows(base, FEATURE_COLUMNS, 90)
    bad = corrupt(rows, np.random.default_rng(7), 80)
    assert_same(bad, SftRowsSchema, has_volume={"SYM000": False, "SYM001": True})
    odd = bad.copy()
    odd["rsi_14"] = odd["rsi_14"].astype(object)
    odd.loc[:3, "rsi_14"] = ["x", None, True, 5]
    odd.loc[4:6, "input"] = [None, 3, '{"a": 1}']
    odd.loc[7, "context_window"] = "[1e999]"
    assert_same(odd, SftRowsSchema)
    assert_same(odd.drop(columns=["macd"]), SftRowsSchema)


def test_flat_objects_reads_what_json_reads() -> None:
    keys = ["a", "b", "c"]
    texts = [
        '{"a": 1.5, "b": null, "c": -2}',
        '{"a": 1e999, "b": 0.1, "c": 123456789012345}',
        '{"a": 1.50, "b": 2E-3, "c": 0}',
        '{"a": 1, "b": 1234567890123456, "c": 0}',  # 16-digit int: not read here
        '{"a": 1,"b": 2, "c": 3}',
        '{"a": 01, "b": 2, "c": 3}',
        '{"a": NaN, "b": 2, "c": 3}',
        '{"b": 1, "a": 2, "c": 3}',
        None,
    ]
    matched, values = flat_objects(pa.array(texts, pa.string()), keys)
    assert matched.tolist() == [True, True, True, False, False, False, False, False, False]
    for text, row in zip(texts[:3], values[:3], strict=True):
        parsed = loads(text)  # type: ignore[arg-type]
        assert list(parsed) == keys
        expected = [np.nan if parsed[k] is None else float(parsed[k]) for k in keys]
        np.testing.assert_array_equal(row, expected)


_VALUE = r"(?:null|-?(?:0|[1-9][0-9]{0,14})|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+))"
TOKENS = ["null", "0", "-0", "1.5", "-2e-07", "1E5", "123456789012345", "1234567890123456", "1e999", "01", "1.", ".5"]
TOKENS += ["NaN", "true", '"1"', "1, 2", "-", "1e", "", " 1", "2}", "{3", "é", "1.0e+16", "-0.000001"]
MUTATIONS = [*'0123456789.-+eE ,:"{}[]nul\\', ", ", "é", "\u2028"]


def regex_matched(texts: list[str | None], keys: list[str]) -> list[bool]:
    """The layout match ``flat_objects`` made before: one anchored regex over the whole text."""
    pattern = re.compile("^\\{" + ", ".join(f'"{re.escape(k)}": {_VALUE}' for k in keys) + "\\}$")
    return [isinstance(t, str) and pattern.fullmatch(t) is not None for t in texts]


@st.composite
def flat_texts(draw: st.DrawFn) -> tuple[list[str | None], list[str]]:
    keys = draw(
        st.lists(st.sampled_from(["a", "b_1", "rsi_14", "x.y", "k k", "é"]), min_size=1, max_size=4, unique=True)
    )
    texts: list[str | None] = []
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 9)) == 0:
            texts.append(None)
            continue
        text = "{" + ", ".join(f'"{k}": {draw(st.sampled_from(TOKENS))}' for k in keys) + "}"
        for _ in range(draw(st.integers(0, 2))):
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(MUTATIONS)) + text[at + draw(st.integers(0, 1)) :]
        texts.append(text)
    return texts, keys


@settings(max_examples=400, deadline=None)
@given(flat_texts())
def test_flat_objects_match_the_regex_and_read_what_json_reads(case) -> None:
    texts, keys = case
    matched, values = flat_objects(pa.array(texts, pa.string()), keys)
    assert matched.tolist() == regex_matched(texts, keys)
    for text, ok, row in zip(texts, matched, values, strict=True):
        if not ok:
            assert np.isnan(row).all()
            continue
        parsed = json.loads(text)  # type: ignore[arg-type]
        expected = [np.nan if parsed[k] is None else float(parsed[k]) for k in keys]
        np.testing.assert_array_equal(row, expected)


def test_flat_objects_compare_each_key_in_place() -> None:
    """The generic layout admits any names: each piece's head must still be its own key, whole."""
    keys = ["a", "rsi_14", "é"]
    texts = [
        '{"a": 1, "rsi_14": 2, "é": 3}',
        '{"a": 1, "rsi_15": 2, "é": 3}',  # a later key differs
        '{"ab": 1, "rsi_14": 2, "é": 3}',  # a key's head is a prefix of the name
        '{"a": 1, "rsi_1": 2, "é": 3}',  # the name is a prefix of the key
        '{"a": 1, "rsi_14": 2}',  # an item short
        '{"a": 1, "rsi_14": 2, "é": 3, "b": 4}',  # an item over
        '{"a": 1, "é": 3, "rsi_14": 2}',  # out of order
        '{"e": 1, "rsi_14": 2, "é": 3}',
    ]
    matched, values = flat_objects(pa.array(texts, pa.string()), keys)
    assert matched.tolist() == [True] + [False] * 7
    assert matched.tolist() == regex_matched(texts, keys)
    np.testing.assert_array_equal(values[0], [1.0, 2.0, 3.0])
    assert np.isnan(values[1:]).all()
