"""The pandera schemas: real sample frames pass, crafted bad rows are isolated with readable errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from dagster import MetadataValue, TableSchema
from pandera.config import config_context

from portfolio_assets.asset_classes import ASSET_CLASSES
from portfolio_assets.assets.prices import PRICE_COLUMNS, canonical_prices
from portfolio_assets.assets.sft_rows import build_sft_rows, join_features
from portfolio_assets.assets.training_set import csv_ready
from portfolio_assets.assets.windows import in_window
from portfolio_assets.columns import (
    CROSS_ASSET_AVAILABILITY,
    INDICATOR_COLUMNS,
    MACRO_AVAILABILITY,
    MACRO_COLUMNS,
    SENTIMENT_AVAILABILITY,
    SFT_COLUMNS,
    TARGET_COLUMNS,
)
from portfolio_assets.features.registry import SENTIMENT_FIELDS
from portfolio_assets.features.sft import context_windows, with_pairs
from portfolio_assets.landing import SAMPLE_LANDING_ROOT
from portfolio_assets.resources import LandingZoneResource
from portfolio_assets.schemas import (
    SCHEMAS,
    IndicatorsSchema,
    MacroSchema,
    PricesSchema,
    SentimentSchema,
    SftRowsSchema,
    TargetsSchema,
    TrainingSetSchema,
    ValidationResult,
    table_schema,
    validate_rows,
)
from portfolio_assets.spans import HORIZON_DAYS
from portfolio_assets.universe import load_universe
from portfolio_assets_tests.sample_frames import group_frames

FIRST = pd.Timestamp("2010-04-01", tz="UTC")
LAST = pd.Timestamp("2010-06-30", tz="UTC")
KEYS = ["timestamp", "asset_symbol"]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """One real frame per group over a quarter of the bundled sample, built by the assets' pure functions."""
    landing = LandingZoneResource(root=str(SAMPLE_LANDING_ROOT))
    groups = group_frames(f"{FIRST:%Y-%m-%d}", f"{LAST:%Y-%m-%d}")
    history = canonical_prices(landing)
    day_prices = in_window(history.assign(context_window=context_windows(history, 30)), FIRST, LAST)
    joined = join_features(
        day_prices.drop(columns="context_window"),
        groups["indicators"],
        groups["macro"],
        groups["sentiment"],
        groups["targets"],
    )
    labelled = joined["target_price_90d"].notna().to_numpy()
    sft_rows = build_sft_rows(
        joined[labelled].reset_index(drop=True),
        day_prices["context_window"][labelled].reset_index(drop=True),
        landing.universe(),
    )
    # the export adds prompt / completion to the stored rows (features prompt)
    return {**groups, "sft_rows": sft_rows, "training_set": csv_ready(with_pairs(sft_rows, "features"))}


@pytest.fixture(scope="module")
def has_volume() -> dict[str, bool]:
    """The sample universe's symbol -> has_volume (XAUUSD, EURUSD and USDJPY have none)."""
    return {a.symbol: a.has_volume for a in load_universe().assets}


def _row(frame: pd.DataFrame, symbol: str, day: str = "2010-05-03") -> int:
    """Position of ``symbol``'s row on ``day`` (timestamps as datetimes or ISO strings)."""
    ts = frame["timestamp"]
    when = pd.Timestamp(day, tz="UTC")
    hit = (ts == when) if isinstance(ts.dtype, pd.DatetimeTZDtype) else (ts == when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    positions = np.flatnonzero(hit.to_numpy() & (frame["asset_symbol"] == symbol).to_numpy())
    assert len(positions) == 1, (symbol, day)
    return int(positions[0])


def _set(frame: pd.DataFrame, position: int, column: str, value: object) -> pd.DataFrame:
    out = frame.copy()
    out.iloc[position, out.columns.get_loc(column)] = value
    return out


def _assert_isolated(result: ValidationResult, frame: pd.DataFrame, positions: list[int]) -> None:
    """Exactly the rows at ``positions`` are invalid, unchanged and labelled; the rest are valid."""
    assert len(result.valid) + len(result.invalid) == len(frame)
    assert not result.frame_errors
    assert sorted(result.failures["row"].unique()) == sorted(positions)
    expected = frame.iloc[sorted(positions)]
    pd.testing.assert_frame_equal(result.invalid[frame.columns], expected)
    assert (result.invalid["validation_status"] == "invalid").all()
    assert result.invalid["validation_error"].str.len().gt(0).all()
    pd.testing.assert_frame_equal(result.valid, frame.drop(index=expected.index))


# --------------------------------------------------------------------------- real frames pass


@pytest.mark.parametrize("group", list(SCHEMAS))
def test_every_schema_passes_on_a_real_sample_frame(frames, has_volume, group):
    frame = frames[group]
    assert len(frame) > 0
    result = validate_rows(frame, SCHEMAS[group], has_volume=has_volume)
    assert result.frame_errors == []
    assert result.invalid.empty, result.invalid["validation_error"].head().tolist()
    assert result.ok and len(result.valid) == len(frame)
    if "asset_class" in frame.columns:
        assert set(frame["asset_class"]) == set(ASSET_CLASSES)


def test_schemas_hold_exactly_the_canonical_columns(frames):
    expected = {
        "prices": PRICE_COLUMNS,
        "macro": ["timestamp", "decision_time", *MACRO_COLUMNS, *MACRO_AVAILABILITY],
        "benchmarks": ["timestamp", "benchmark", "value", "available_at"],
        "sentiment": [*KEYS, "asset_class", *SENTIMENT_FIELDS, *SENTIMENT_AVAILABILITY],
        "indicators": [*KEYS, "asset_class", *INDICATOR_COLUMNS, "available_at", *CROSS_ASSET_AVAILABILITY],
        "targets": [*KEYS, *TARGET_COLUMNS],
        "sft_rows": SFT_COLUMNS,
        "training_set": [*SFT_COLUMNS, "prompt", "completion"],
    }
    for group, schema in SCHEMAS.items():
        columns = schema.to_schema().columns
        required = {name for name, col in columns.items() if col.required}
        assert required == set(expected[group]) == set(frames[group].columns), group
        assert set(columns) - required <= {"has_volume"}


def test_the_training_set_csv_round_trips(frames, has_volume, tmp_path):
    path = tmp_path / "training_set.csv"
    frames["training_set"].to_csv(path, index=False, lineterminator="\n", float_format="%.17g")
    read = pd.read_csv(path, dtype={"news_volume": "Int64", "social_mention_count": "Int64"})
    assert validate_rows(read, TrainingSetSchema, has_volume=has_volume).ok


@pytest.mark.parametrize("prompt_format", ["features", "timeseries", "chat"])
def test_the_training_set_is_validated_in_the_format_it_is_written(frames, has_volume, prompt_format):
    from portfolio_assets.columns import FEATURE_COLUMNS
    from portfolio_assets.features.sft import format_rows
    from portfolio_assets.schemas import TRAINING_SET_SCHEMAS

    schema = TRAINING_SET_SCHEMAS[prompt_format]
    rows = csv_ready(format_rows(frames["sft_rows"], FEATURE_COLUMNS, HORIZON_DAYS, prompt_format=prompt_format))
    assert validate_rows(rows, schema, has_volume=has_volume).ok
    # The features-format schema refuses the time-series text, and the other way round.
    other = "features" if prompt_format == "timeseries" else "timeseries"
    if prompt_format != "chat":
        assert not validate_rows(rows, TRAINING_SET_SCHEMAS[other], has_volume=has_volume).ok
    # A number of the written text that disagrees with its column is caught in every format.
    pos = _row(rows, "GOOG")
    bad = rows.copy()
    output = json.loads(bad.loc[pos, "output"])
    first_key = next(iter(output))
    output[first_key] *= 2
    bad.loc[pos, "output"] = json.dumps(output)
    result = validate_rows(bad, schema, has_volume=has_volume)
    assert list(result.invalid["asset_symbol"]) == ["GOOG"]
    assert "output disagrees with" in result.invalid["validation_error"].iloc[0]
    if prompt_format == "timeseries":
        # the context window inside the input must be the row's own
        bad = rows.copy()
        text = json.loads(bad.loc[pos, "input"])
        text["context_window"][-1] *= 1.01
        bad.loc[pos, "input"] = json.dumps(text)
        result = validate_rows(bad, schema, has_volume=has_volume)
        assert list(result.invalid["asset_symbol"]) == ["GOOG"]
        assert "input's context_window differs" in result.invalid["validation_error"].iloc[0]
    if prompt_format == "chat":
        # messages must carry exactly the instruction, input and output written beside them
        bad = rows.copy()
        bad.loc[pos, "messages"] = bad.loc[pos, "messages"].replace("Predict", "Guess", 1)
        result = validate_rows(bad, schema, has_volume=has_volume)
        assert list(result.invalid["asset_symbol"]) == ["GOOG"]
        assert "messages are not the system prompt" in result.invalid["validation_error"].iloc[0]


# --------------------------------------------------------------------------- bad rows


def test_rsi_out_of_range(frames):
    frame = frames["indicators"]
    pos = _row(frame, "GOOG")
    bad = _set(frame, pos, "rsi_14", 130.0)
    result = validate_rows(bad, IndicatorsSchema)
    _assert_isolated(result, bad, [pos])
    assert result.invalid["validation_error"].iloc[0] == "rsi_14=130.0 outside 0..100"
    failure = result.failures.iloc[0]
    assert (failure["column"], failure["failure_case"], failure["asset_symbol"]) == ("rsi_14", 130.0, "GOOG")
    assert failure["timestamp"] == pd.Timestamp("2010-05-03", tz="UTC")


def test_zero_price_and_several_errors_in_one_row(frames):
    frame = frames["prices"]
    pos = _row(frame, "TLT")
    bad = _set(frame, pos, "price_close", 0.0)
    result = validate_rows(bad, PricesSchema)
    _assert_isolated(result, bad, [pos])
    low = float(frame["price_low"].iloc[pos])
    assert result.invalid["validation_error"].iloc[0] == (
        f"price_low={low!r} > min(price_open, price_close)=0.0; price_close=0.0 not > 0"
    )
    assert set(result.failures["column"]) == {"price_low", "price_close"}


def test_high_below_close(frames):
    frame = frames["prices"]
    pos = _row(frame, "BTC-USD")
    close = float(frame["price_close"].iloc[pos])
    bad = _set(frame, pos, "price_high", close - 1.0)
    result = validate_rows(bad, PricesSchema)
    _assert_isolated(result, bad, [pos])
    failure = result.failures.iloc[0]
    assert (failure["column"], failure["check"]) == ("price_high", "ohlc_consistent")
    assert failure["error"].startswith(f"price_high={close - 1.0!r} < max(price_open, price_close)=")


def test_every_copy_of_a_duplicated_row_is_invalid(frames):
    frame = frames["prices"]
    pos = _row(frame, "EURUSD")
    bad = pd.concat([frame, frame.iloc[[pos]]])  # the copy keeps its index label: rows are returned unchanged
    result = validate_rows(bad, PricesSchema)
    _assert_isolated(result, bad, [pos, len(frame)])
    assert (result.invalid["validation_error"] == "duplicated (timestamp, asset_symbol)").all()
    assert len(result.failures) == 2
    assert result.failures["column"].eq("timestamp, asset_symbol").all()


def test_duplicated_macro_day(frames):
    frame = frames["macro"]
    bad = pd.concat([frame, frame.iloc[[3]]], ignore_index=True)
    result = validate_rows(bad, MacroSchema)
    _assert_isolated(result, bad, [3, len(frame)])
    assert (result.invalid["validation_error"] == "duplicated (timestamp, decision_time)").all()


def test_fear_greed_on_an_equity_is_not_applicable(frames):
    frame = frames["sentiment"]
    pos = _row(frame, "IXIC")
    bad = _set(frame, pos, "fear_greed_index", 55.0)
    result = validate_rows(bad, SentimentSchema)
    _assert_isolated(result, bad, [pos])
    assert result.invalid["validation_error"].iloc[0] == (
        "fear_greed_index=55.0 present but not applicable to equity IXIC"
    )
    assert result.failures["column"].tolist() == ["fear_greed_index"]


def test_volume_on_an_fx_row_is_not_applicable(frames):
    frame = frames["prices"]
    pos = _row(frame, "USDJPY")
    bad = _set(frame, pos, "volume", 1000.0)
    result = validate_rows(bad, PricesSchema)
    _assert_isolated(result, bad, [pos])
    assert result.invalid["validation_error"].iloc[0] == "volume=1000.0 present but not applicable to fx USDJPY"


def test_has_volume_comes_from_the_column_else_the_map_else_the_class(frames, has_volume):
    frame = frames["indicators"]
    pos = _row(frame, "XAUUSD")  # a commodity quoted through the FX endpoint: no volume
    bad = _set(frame, pos, "mfi_14", 50.0)
    result = validate_rows(bad, IndicatorsSchema, has_volume=has_volume)
    _assert_isolated(result, bad, [pos])
    assert result.invalid["validation_error"].iloc[0] == (
        "mfi_14=50.0 present but not applicable to commodity XAUUSD (its price source has no volume)"
    )
    # The column the map implies is validated, never returned.
    assert list(result.invalid.columns) == [*bad.columns, "validation_status", "validation_error"]
    # A has_volume column overrides the map (and is the only extra column allowed).
    assert validate_rows(bad.assign(has_volume=True), IndicatorsSchema, has_volume=has_volume).ok
    assert not validate_rows(bad.assign(has_volume=True, other=1), IndicatorsSchema, has_volume=has_volume).ok
    # Without the map, or for a symbol it lacks, the class decides: a commodity has volume.
    assert validate_rows(bad, IndicatorsSchema).ok
    assert validate_rows(bad, IndicatorsSchema, has_volume={"GOOG": True}).ok


def test_sentiment_score_out_of_range(frames):
    frame = frames["sentiment"]
    pos = _row(frame, "ETH-USD")
    bad = _set(frame, pos, "news_sentiment_score", 1.5)
    result = validate_rows(bad, SentimentSchema)
    _assert_isolated(result, bad, [pos])
    assert result.invalid["validation_error"].iloc[0] == "news_sentiment_score=1.5 outside -1..1"


def test_infinity_is_reported_once(frames):
    frame = frames["indicators"]
    pos = _row(frame, "GOOG")
    bad = _set(frame, pos, "corr_dxy_60d", np.inf)
    result = validate_rows(bad, IndicatorsSchema)
    _assert_isolated(result, bad, [pos])
    assert result.invalid["validation_error"].iloc[0] == "corr_dxy_60d=inf not finite"


def test_nan_target_in_sft_rows(frames, has_volume):
    frame = frames["sft_rows"]
    pos = _row(frame, "GOOG")
    bad = _set(frame, pos, "target_price_90d", np.nan)
    result = validate_rows(bad, SftRowsSchema, has_volume=has_volume)
    _assert_isolated(result, bad, [pos])
    error = result.invalid["validation_error"].iloc[0]
    # The null target is the direct error; the JSON output no longer matching it comes after.
    assert error.startswith("target_price_90d is null; ")
    assert "output disagrees with target_price_90d" in error
    assert result.failures["column"].iloc[0] == "target_price_90d"


def test_nan_token_in_input(frames, has_volume):
    frame = frames["sft_rows"]
    pos = _row(frame, "USO")
    text = frame["input"].iloc[pos]
    bad = _set(
        frame, pos, "input", text.replace(": null", ": NaN", 1) if ": null" in text else text[:-1] + ', "x": NaN}'
    )
    result = validate_rows(bad, SftRowsSchema, has_volume=has_volume)
    _assert_isolated(result, bad, [pos])
    assert result.invalid["validation_error"].iloc[0] == "input is not strict JSON (non-standard constant NaN)"
    assert result.failures["column"].tolist() == ["input"]


def test_input_must_match_the_columns(frames, has_volume):
    frame = frames["sft_rows"]
    pos = _row(frame, "GOOG")
    record = json.loads(frame["input"].iloc[pos])
    record["rsi_14"] = 99.0
    bad = _set(frame, pos, "input", json.dumps(record))
    result = validate_rows(bad, SftRowsSchema, has_volume=has_volume)
    _assert_isolated(result, bad, [pos])
    assert result.invalid["validation_error"].iloc[0].startswith("input disagrees with rsi_14 (input 99.0, column ")


def test_not_applicable_list_must_match_the_class(frames, has_volume):
    frame = frames["sft_rows"]
    pos = _row(frame, "EURUSD")
    bad = _set(frame, pos, "not_applicable", "[]")
    result = validate_rows(bad, SftRowsSchema, has_volume=has_volume)
    _assert_isolated(result, bad, [pos])
    assert result.failures["column"].tolist() == ["not_applicable"]


def test_empty_instruction_and_bad_iso_timestamp_in_the_csv_rows(frames, has_volume):
    frame = frames["training_set"]
    first, second = _row(frame, "GOOG"), _row(frame, "BTC-USD")
    bad = _set(_set(frame, first, "instruction", "  "), second, "target_timestamp", "2010-08-01 00:00")
    result = validate_rows(bad, TrainingSetSchema, has_volume=has_volume)
    _assert_isolated(result, bad, [first, second])
    direct = result.failures[result.failures["check"] != "prompt_matches"]  # the prompt holds the old instruction
    errors = dict(zip(direct["row"], direct["error"], strict=True))
    assert errors[first] == "instruction is empty"
    assert set(result.failures.loc[result.failures["check"] == "prompt_matches", "row"]) == {first}
    assert errors[second] == (
        "target_timestamp='2010-08-01 00:00' is not an ISO 8601 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)"
    )


def test_target_beyond_the_horizon(frames):
    frame = frames["targets"]
    pos = _row(frame, "GOOG")
    bad = _set(frame, pos, "target_timestamp", frame["timestamp"].iloc[pos] + pd.Timedelta(days=HORIZON_DAYS + 1))
    result = validate_rows(bad, TargetsSchema)
    _assert_isolated(result, bad, [pos])
    assert result.failures["check"].tolist() == ["target_within_horizon"]


def test_a_missing_column_is_a_frame_error(frames):
    frame = frames["indicators"].drop(columns="rsi_14")
    result = validate_rows(frame, IndicatorsSchema)
    assert result.frame_errors == ["missing column 'rsi_14'"]
    assert not result.ok
    assert result.invalid.empty and len(result.valid) == len(frame)


def test_wrong_dtypes_are_frame_errors(frames):
    frame = frames["sentiment"]
    bad = frame.assign(
        news_volume=frame["news_volume"].astype("float64"), timestamp=frame["timestamp"].dt.tz_localize(None)
    )
    result = validate_rows(bad, SentimentSchema)
    assert sorted(result.frame_errors) == [
        "column 'news_volume' has dtype float64, expected Int64",
        "column 'timestamp' has dtype datetime64[ns], expected datetime64[ns, UTC]",
    ]
    assert not result.ok and result.failures.empty


def test_validation_cannot_be_switched_off(frames):
    frame = frames["indicators"]
    bad = _set(frame, 0, "rsi_14", -5.0)
    with config_context(validation_enabled=False, validation_depth="SCHEMA_ONLY"):
        result = validate_rows(bad, IndicatorsSchema)
    assert len(result.invalid) == 1


def test_index_labels_are_kept(frames):
    frame = frames["macro"].copy()
    frame.index = ["d"] * len(frame)  # non-unique, non-positional
    bad = _set(frame, 2, "vix", -1.0)
    result = validate_rows(bad, MacroSchema)
    assert result.invalid["validation_error"].tolist() == ["vix=-1.0 not > 0"]
    assert list(result.invalid.index) == ["d"] and len(result.valid) == len(frame) - 1


def test_an_empty_frame_is_valid(frames):
    result = validate_rows(frames["prices"].iloc[:0], PricesSchema)
    assert result.ok and result.valid.empty and result.invalid.empty


# --------------------------------------------------------------------------- table schema


@pytest.mark.parametrize("group", list(SCHEMAS))
def test_table_schema_lists_every_column_with_type_and_constraints(group):
    schema = SCHEMAS[group]
    table = table_schema(schema)
    assert isinstance(table, TableSchema)
    MetadataValue.table_schema(table)  # usable as dagster/column_schema
    model = schema.to_schema()
    assert {c.name for c in table.columns} == set(model.columns)
    for column in table.columns:
        assert column.type and column.type != "string", column.name
        assert column.description, column.name
        assert column.constraints.nullable == model.columns[column.name].nullable
    assert any(o.startswith("strict") for o in table.constraints.other)


def test_table_schema_constraints():
    # Columns in canonical order.
    assert [c.name for c in table_schema(SftRowsSchema).columns if c.name != "has_volume"] == SFT_COLUMNS
    assert [c.name for c in table_schema(PricesSchema).columns if c.name != "has_volume"] == PRICE_COLUMNS
    columns = {c.name: c for c in table_schema(SftRowsSchema).columns}
    assert "0 <= x <= 100" in columns["rsi_14"].constraints.other
    assert "-100 <= x <= 0" in columns["williams_r_14"].constraints.other
    assert columns["price_close"].constraints.nullable is False
    assert "x > 0" in columns["price_close"].constraints.other
    assert columns["target_price_90d"].constraints.nullable is False
    assert columns["timestamp"].type == "datetime64[ns, UTC]"
    assert columns["news_volume"].type == "Int64"
    assert columns["input"].type == "str"
    assert any("null where not applicable" in o for o in columns["fear_greed_index"].constraints.other)
    assert "optional column" in columns["has_volume"].constraints.other
    assert "unique (timestamp, asset_symbol)" in table_schema(SftRowsSchema).constraints.other
    assert "unique (timestamp, decision_time)" in table_schema(MacroSchema).constraints.other
    assert {c.name: c for c in table_schema(TargetsSchema).columns}["target_price_90d"].constraints.nullable is True
    assert {c.name: c for c in table_schema(TrainingSetSchema).columns}["timestamp"].type == "str"


def test_check_names_survive_schema_inheritance():
    """pandera 0.35 renames a shared check after its function once a second model builds it."""
    for schema in SCHEMAS.values():
        model = schema.to_schema()
        names = {check.name for col in model.columns.values() for check in col.checks} | {c.name for c in model.checks}
        assert not any(name.startswith("_") for name in names), (schema.__name__, names)
