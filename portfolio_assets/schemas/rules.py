"""Every row rule by check name, and the pandera dataframe check that applies one.

=============================  =============================  ==========================================
check                          module                         rule
=============================  =============================  ==========================================
ohlc_consistent                consistency                    high >= max(open, close) >= min >= low
not_applicable_is_null         applicability                  class-aware nullability
not_applicable_listed          applicability                  ``not_applicable`` is the expected list
input_matches_columns          agreement                      ``input`` JSON equals the feature columns
output_matches_targets         agreement                      ``output`` JSON equals the targets
context_window_ends_at_close   agreement                      last close of the window is price_close
target_returns_consistent      consistency                    returns agree with the target price
target_within_horizon          consistency                    target within timestamp + 83..90 days
targets_all_or_none            consistency                    four targets all present or all null
timeseries_input_matches_...   agreement                      time-series ``input`` equals its columns
timeseries_output_matches_...  agreement                      time-series ``output`` equals the targets
messages_match_prompt          agreement                      chat ``messages`` are instruction/input/output
prompt_matches                 agreement                      ``prompt`` / ``completion`` of the features
chat_pair_matches              agreement                      chat ``prompt`` / ``completion`` are messages
=============================  =============================  ==========================================
"""

from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa

from portfolio_assets.schemas.agreement import (
    CHAT_PAIR_MATCHES,
    CONTEXT_WINDOW_ENDS_AT_CLOSE,
    INPUT_MATCHES_COLUMNS,
    MESSAGES_MATCH_PROMPT,
    OUTPUT_MATCHES_TARGETS,
    PROMPT_MATCHES,
    TIMESERIES_INPUT_MATCHES_COLUMNS,
    TIMESERIES_OUTPUT_MATCHES_TARGETS,
)
from portfolio_assets.schemas.applicability import NOT_APPLICABLE_IS_NULL, NOT_APPLICABLE_LISTED
from portfolio_assets.schemas.consistency import (
    OHLC_CONSISTENT,
    TARGET_RETURNS_CONSISTENT,
    TARGET_WITHIN_HORIZON,
    TARGETS_ALL_OR_NONE,
)
from portfolio_assets.schemas.row_rule import RowRule
from portfolio_assets.schemas.shortcut import known

RULES: dict[str, RowRule] = {
    "ohlc_consistent": OHLC_CONSISTENT,
    "not_applicable_is_null": NOT_APPLICABLE_IS_NULL,
    "not_applicable_listed": NOT_APPLICABLE_LISTED,
    "input_matches_columns": INPUT_MATCHES_COLUMNS,
    "output_matches_targets": OUTPUT_MATCHES_TARGETS,
    "context_window_ends_at_close": CONTEXT_WINDOW_ENDS_AT_CLOSE,
    "target_returns_consistent": TARGET_RETURNS_CONSISTENT,
    "target_within_horizon": TARGET_WITHIN_HORIZON,
    "targets_all_or_none": TARGETS_ALL_OR_NONE,
    "timeseries_input_matches_columns": TIMESERIES_INPUT_MATCHES_COLUMNS,
    "timeseries_output_matches_targets": TIMESERIES_OUTPUT_MATCHES_TARGETS,
    "messages_match_prompt": MESSAGES_MATCH_PROMPT,
    "prompt_matches": PROMPT_MATCHES,
    "chat_pair_matches": CHAT_PAIR_MATCHES,
}


def rule(name: str) -> Callable[..., pd.Series]:
    """The body of a dataframe check that applies ``RULES[name]`` (assign it in a ``DataFrameModel``)."""

    def check(cls: type, df: pd.DataFrame) -> pd.Series:
        skip = known(name, None, df.index)
        if skip is None:
            return RULES[name].ok(df)
        out = np.ones(len(df), dtype=bool)  # the rule judges the rows not known to pass (rules are row-wise)
        rest = np.flatnonzero(~skip)
        out[rest] = RULES[name].ok(df.iloc[rest]).to_numpy(dtype=bool)
        return pd.Series(out, index=df.index)

    # pandera 0.35 pops ``name`` from the check's kwargs when the first model builds its schema;
    # every later model (a subclass, a sibling sharing the mixin) names the check after the
    # function instead. Naming the function like the check keeps the name stable.
    check.__name__ = check.__qualname__ = name
    return pa.dataframe_check(name=name, ignore_na=False, description=RULES[name].constraint)(check)
