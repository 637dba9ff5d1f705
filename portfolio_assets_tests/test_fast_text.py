"""The fast paths of the export's text work decide exactly as the slow ones they stand in for."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio_assets import strict_json
from portfolio_assets.export import shard_key
from portfolio_assets.timeutil import ISO_UTC_FORMAT, strftime_distinct

# Texts orjson and json judge differently (lone surrogates, numbers past float range), and the usual suspects.
EDGE_TEXTS = [
    '{"a":1}',
    '{"a":NaN}',
    "[Infinity]",
    "[-Infinity]",
    "[1e400]",
    '"\\ud800"',
    '"\\udc00x"',
    '{"a":1,"a":2}',
    " {} ",
    "{}\x00",
    '"\x01"',
    "[-0.0]",
    "1.",
    "01",
    "[1,]",
    "\ufeff{}",
    '{"a":1}{"b":2}',
    "123456789012345678901234567890",
    "",
    "nul",
    '"\u2028"',
]


def _verdict(call, text: str) -> str:
    try:
        call(text)
    except ValueError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_check_accepts_and_refuses_exactly_what_loads_does(text: str) -> None:
    assert _verdict(strict_json.check, text) == _verdict(strict_json.loads, text)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_check_agrees_with_loads_on_whatever_json_writes(value: object) -> None:
    text = json.dumps(value)  # NaN and Infinity included: both must refuse those
    assert _verdict(strict_json.check, text) == _verdict(strict_json.loads, text)


def test_strftime_distinct_is_strftime() -> None:
    stamps = pd.Series(
        pd.to_datetime(
            ["2010-01-04", "2010-01-04", None, "1999-12-31 23:59:59", "2010-01-04"], utc=True, format="ISO8601"
        ),
        index=[5, 3, 9, 1, 7],
        name="timestamp",
    )
    got = strftime_distinct(stamps, ISO_UTC_FORMAT)
    want = stamps.dt.strftime(ISO_UTC_FORMAT)
    pd.testing.assert_series_equal(got, want.astype(object))
    assert got.iloc[2] is np.nan or pd.isna(got.iloc[2])
    assert strftime_distinct(stamps.iloc[:0], "%Y").empty


@pytest.mark.parametrize("shard_by", ["year", "quarter", "month"])
def test_shard_key_of_many_rows_matches_one_row_at_a_time(shard_by: str) -> None:
    stamps = pd.Series(pd.date_range("2009-11-30", periods=500, freq="D", tz="UTC").repeat(3))
    keys = shard_key(stamps, shard_by)
    one_by_one = [shard_key(stamps.iloc[[i]], shard_by).iloc[0] for i in range(0, len(stamps), 37)]
    assert keys.iloc[::37].tolist() == one_by_one
    assert keys.iloc[0] == {"year": "2009", "quarter": "2009Q4", "month": "2009-11"}[shard_by]
