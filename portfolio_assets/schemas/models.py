"""The pandera ``DataFrameModel`` of every group's frame and of the exported training rows (``SCHEMAS``).

============  ======================  ==================================================
group         schema                  one row per
============  ======================  ==================================================
prices        ``PricesSchema``        asset per trading day (OHLCV, CoinGecko reference)
macro         ``MacroSchema``         calendar day per decision time (the 11 macro fields)
sentiment     ``SentimentSchema``     asset per calendar day (the 6 sentiment fields)
indicators    ``IndicatorsSchema``    asset per trading day (37 technical + 3 cross-asset)
targets       ``TargetsSchema``       asset per trading day (90-day forward targets)
sft_rows      ``SftRowsSchema``       labelled asset-day (LLM columns + every canonical one)
training_set  ``TrainingSetSchema``   CSV row as written (timestamps ``YYYY-MM-DDTHH:MM:SSZ``)
============  ======================  ==================================================

Every schema is ``strict`` (a missing or unexpected column fails), ``coerce=False``
(a wrong dtype fails, nothing is converted) and checks value ranges, finiteness
(no ±inf in any float column), uniqueness of ``(timestamp, asset_symbol)``
(macro: ``timestamp``) and the class-dependent applicability of features (a
feature that does not apply must be null; an applicable one may be null, a
completeness check judges it). The columns are declared in ``fields``, the row
rules in ``rules``, the text checks in ``text``.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from portfolio_assets.schemas.fields import (
    DECISION_TIME_DESCRIPTION,
    TARGET_DESCRIPTIONS,
    UTC_NS,
    Adjustment,
    AssetKeys,
    BarEnd,
    Base,
    CrossAvailability,
    MacroAvailability,
    MacroFields,
    Ohlcv,
    Reference,
    SentimentAvailability,
    SentimentFields,
    Technical,
    price,
)
from portfolio_assets.schemas.rules import rule
from portfolio_assets.schemas.text import passes

KEYS = ["timestamp", "asset_symbol"]


class PricesSchema(AssetKeys, Ohlcv, Reference, BarEnd, Adjustment):
    """``prices``: daily OHLCV of every asset, one row per asset per trading day."""

    source: Series[str] = pa.Field(description="price source of the row (alphavantage)")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class MacroSchema(MacroFields, MacroAvailability):
    """``macro``: the 11 macro fields as released by each decision time of each calendar day, one row per
    (day, decision time) of the universe's bar ends."""

    timestamp: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_NS, description="the calendar day (00:00 UTC)")
    decision_time: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=UTC_NS, description="the decision time (UTC) of the rows this one serves: a bar end on the day"
    )

    @pa.dataframe_check(name="released_by_decision", description="every <field>_available_at <= decision_time")
    @classmethod
    def released_by_decision(cls, df: pd.DataFrame) -> pd.Series:
        late = pd.Series(False, index=df.index)
        for column in [c for c in df.columns if c.endswith("_available_at")]:
            late |= df[column].notna() & (df[column] > df["decision_time"])
        return ~late

    class Config:
        strict = True
        coerce = False
        unique = ("timestamp", "decision_time")


class SentimentSchema(AssetKeys, SentimentFields, SentimentAvailability):
    """``sentiment``: the 6 sentiment fields, one row per asset per calendar day."""

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class IndicatorsSchema(AssetKeys, Technical, BarEnd, CrossAvailability):
    """``indicators``: 37 technical and 3 cross-asset features, one row per asset per trading day."""

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class TargetsSchema(Base):
    """``targets``: 90-day forward targets per asset per trading day (all four null where unknown)."""

    timestamp: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_NS, description="the observation day")
    asset_symbol: Series[str] = pa.Field(description="canonical symbol of the asset (universe.yaml)")
    target_timestamp: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=UTC_NS, nullable=True, description=TARGET_DESCRIPTIONS["target_timestamp"]
    )
    target_price_90d: Series[float] = price(TARGET_DESCRIPTIONS["target_price_90d"], nullable=True)
    target_return_90d: Series[float] = pa.Field(nullable=True, description=TARGET_DESCRIPTIONS["target_return_90d"])
    target_return_pct_90d: Series[float] = pa.Field(
        nullable=True, gt=-100, description=TARGET_DESCRIPTIONS["target_return_pct_90d"]
    )
    target_total_return_90d: Series[float] = pa.Field(
        nullable=True, description=TARGET_DESCRIPTIONS["target_total_return_90d"]
    )

    _target_within_horizon = rule("target_within_horizon")
    _targets_all_or_none = rule("targets_all_or_none")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class SftRowsSchema(AssetKeys, Ohlcv, Technical, MacroFields, SentimentFields, Reference):
    """``sft_rows``: labelled instruction-tuning rows with every canonical column (targets never null)."""

    instruction: Series[str] = pa.Field(description="the task: asset, class, date and horizon")
    input: Series[str] = pa.Field(
        description="strict JSON object of every feature (6 significant digits; null when missing or not applicable)"
    )
    output: Series[str] = pa.Field(description="strict JSON object of the three 90-day targets")
    context_window: Series[str] = pa.Field(
        description="strict JSON array of the last N closes, oldest first, back-adjusted for splits and "
        "dividends as of the row's day (the last is its as-traded close)"
    )
    not_applicable: Series[str] = pa.Field(
        description="strict JSON array of the features that do not apply to the asset (class or price source)"
    )
    target_timestamp: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=UTC_NS, description=TARGET_DESCRIPTIONS["target_timestamp"]
    )
    target_price_90d: Series[float] = price(TARGET_DESCRIPTIONS["target_price_90d"])
    target_return_90d: Series[float] = pa.Field(description=TARGET_DESCRIPTIONS["target_return_90d"])
    target_return_pct_90d: Series[float] = pa.Field(gt=-100, description=TARGET_DESCRIPTIONS["target_return_pct_90d"])
    target_total_return_90d: Series[float] = pa.Field(description=TARGET_DESCRIPTIONS["target_total_return_90d"])
    decision_time: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_NS, description=DECISION_TIME_DESCRIPTION)

    @pa.check("instruction", "input", "output", "context_window", "not_applicable", name="non_empty")
    @classmethod
    def non_empty(cls, series: pd.Series) -> pd.Series:
        return passes(series, "non_empty")

    @pa.check("input", name="input_json")
    @classmethod
    def input_json(cls, series: pd.Series) -> pd.Series:
        return passes(series, "input_json")

    @pa.check("output", name="output_json")
    @classmethod
    def output_json(cls, series: pd.Series) -> pd.Series:
        return passes(series, "output_json")

    @pa.check("context_window", name="context_window_json")
    @classmethod
    def context_window_json(cls, series: pd.Series) -> pd.Series:
        return passes(series, "context_window_json")

    @pa.check("not_applicable", name="not_applicable_json")
    @classmethod
    def not_applicable_json(cls, series: pd.Series) -> pd.Series:
        return passes(series, "not_applicable_json")

    _not_applicable_listed = rule("not_applicable_listed")
    _input_matches_columns = rule("input_matches_columns")
    _output_matches_targets = rule("output_matches_targets")
    _context_window_ends_at_close = rule("context_window_ends_at_close")
    _target_returns_consistent = rule("target_returns_consistent")
    _target_within_horizon = rule("target_within_horizon")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class TrainingSetSchema(SftRowsSchema):
    """``training_set``: the CSV rows as written (``csv_ready``): timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` strings,
    then ``prompt`` / ``completion`` (TRL's prompt-completion pair, made of the instruction, input and output)."""

    timestamp: Series[str] = pa.Field(description="the observation day, ISO 8601 UTC (YYYY-MM-DDTHH:MM:SSZ)")
    target_timestamp: Series[str] = pa.Field(description=TARGET_DESCRIPTIONS["target_timestamp"] + ", ISO 8601 UTC")
    decision_time: Series[str] = pa.Field(description=DECISION_TIME_DESCRIPTION + ", ISO 8601 UTC")
    prompt: Series[str] = pa.Field(description="instruction, blank line, input, newline (what the model reads)")
    completion: Series[str] = pa.Field(description="the output (what the model is trained to write)")

    @pa.check("timestamp", "target_timestamp", "decision_time", name="iso_utc")
    @classmethod
    def iso_utc(cls, series: pd.Series) -> pd.Series:
        return passes(series, "iso_utc")

    @pa.check(
        "instruction", "input", "output", "context_window", "not_applicable", "prompt", "completion", name="non_empty"
    )
    @classmethod
    def non_empty(cls, series: pd.Series) -> pd.Series:
        return passes(series, "non_empty")

    _prompt_matches = rule("prompt_matches")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class TimeseriesTrainingSetSchema(TrainingSetSchema):
    """``training_set`` in the time-series prompt format: ``input`` is the context window and a few indicators,
    ``output`` the two return targets."""

    input: Series[str] = pa.Field(
        description="strict JSON object: the context window of closes, the current price and a few indicators"
    )
    output: Series[str] = pa.Field(description="strict JSON object of the 90-day log and percent returns")

    @pa.check("input", name="timeseries_input_json")
    @classmethod
    def input_json(cls, series: pd.Series) -> pd.Series:
        return passes(series, "timeseries_input_json")

    @pa.check("output", name="timeseries_output_json")
    @classmethod
    def output_json(cls, series: pd.Series) -> pd.Series:
        return passes(series, "timeseries_output_json")

    _input_matches_columns = rule("timeseries_input_matches_columns")
    _output_matches_targets = rule("timeseries_output_matches_targets")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class ChatTrainingSetSchema(TrainingSetSchema):
    """``training_set`` in the chat prompt format: the features format plus TRL-style ``messages``, and
    ``prompt`` / ``completion`` as conversational messages."""

    messages: Series[str] = pa.Field(
        description="strict JSON array of the system, user (instruction + input) and assistant (output) messages"
    )
    prompt: Series[str] = pa.Field(description="strict JSON array of the system and user messages")
    completion: Series[str] = pa.Field(description="strict JSON array of the assistant message")

    @pa.check("messages", name="messages_json")
    @classmethod
    def messages_json(cls, series: pd.Series) -> pd.Series:
        return passes(series, "messages_json")

    @pa.check("prompt", name="chat_prompt_json")
    @classmethod
    def chat_prompt_json(cls, series: pd.Series) -> pd.Series:
        return passes(series, "chat_prompt_json")

    @pa.check("completion", name="chat_completion_json")
    @classmethod
    def chat_completion_json(cls, series: pd.Series) -> pd.Series:
        return passes(series, "chat_completion_json")

    _messages_match_prompt = rule("messages_match_prompt")
    _prompt_matches = rule("chat_pair_matches")

    class Config:
        strict = True
        coerce = False
        unique = KEYS


class BenchmarksSchema(Base):
    """``benchmarks``: the cross-asset features' benchmark observations, each with its release instant."""

    timestamp: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs=UTC_NS, description="the observation day (UTC)")
    benchmark: Series[str] = pa.Field(isin=["sp500", "dxy"], description="sp500 (FRED SP500) or dxy (FRED DTWEXBGS)")
    value: Series[float] = pa.Field(gt=0, nullable=True, description="the observed level (null: no observation)")
    available_at: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs=UTC_NS,
        description="the instant (UTC) the observation became public: release day at the series' release time",
    )

    @pa.dataframe_check(name="released_after_observed", description="available_at >= timestamp")
    @classmethod
    def released_after_observed(cls, df: pd.DataFrame) -> pd.Series:
        return df["available_at"] >= df["timestamp"]

    class Config:
        strict = True
        coerce = False
        unique = ("timestamp", "benchmark")


TRAINING_SET_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "features": TrainingSetSchema,
    "timeseries": TimeseriesTrainingSetSchema,
    "chat": ChatTrainingSetSchema,
}
"""The schema of the rows ``training_set`` writes, by prompt format (``features.sft.PROMPT_FORMATS``)."""


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "prices": PricesSchema,
    "macro": MacroSchema,
    "benchmarks": BenchmarksSchema,
    "sentiment": SentimentSchema,
    "indicators": IndicatorsSchema,
    "targets": TargetsSchema,
    "sft_rows": SftRowsSchema,
    "training_set": TrainingSetSchema,
}
"""The schema of every asset group, by group name."""
