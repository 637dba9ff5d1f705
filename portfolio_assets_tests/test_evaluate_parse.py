"""Parsing model generations and predictions files (portfolio_assets.evaluate.parse)."""

import json
import math
import re

import pytest

from portfolio_assets.evaluate.parse import (
    INCONSISTENT,
    OK,
    UNPARSEABLE,
    PredictionsFileError,
    parse_generation,
    read_predictions,
)

CLOSE = 200.0


def test_strict_json_object():
    p = parse_generation('{"predicted_return_90d": 0.0123, "predicted_return_pct_90d": 1.24}', CLOSE)
    assert (p.status, p.method, p.value) == (OK, "strict", 0.0123)


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"predicted_return_90d": 0.0123}\n```',
        'Sure! Here is my forecast: {"predicted_return_90d": 0.0123} Hope it helps.',
        "{'predicted_return_90d': 0.0123}",
        '{"predicted_return_90d": 0.0123,}',
        "{predicted_return_90d: 0.0123}",
        "predicted_return_90d: 0.0123",
        "The answer is predicted_return_90d = 0.0123 for the quarter.",
        '{"predicted_return_90d": "0.0123"}',
    ],
)
def test_lenient_forms_give_the_log_return(text):
    p = parse_generation(text, CLOSE)
    assert p.status == OK, p.reason
    assert p.method == "lenient"
    assert p.value == pytest.approx(0.0123, abs=0)


def test_percent_and_price_are_converted_to_a_log_return():
    pct = parse_generation('{"predicted_return_pct_90d": 10.0}', CLOSE)
    assert pct.value == pytest.approx(math.log(1.1), rel=1e-15)
    price = parse_generation('{"predicted_price_90d": 220.0}', CLOSE)
    assert price.value == pytest.approx(math.log(220.0 / CLOSE), rel=1e-15)
    pct_sign = parse_generation("predicted_return_pct_90d: -5%", CLOSE)
    assert pct_sign.status == OK and pct_sign.value == pytest.approx(math.log(0.95))


def test_fields_that_agree_within_their_rounding_are_consistent():
    # log 0.0123 -> pct 1.2376 (written 1.24) -> price 202.476 (6 significant digits)
    text = '{"predicted_return_90d": 0.0123, "predicted_return_pct_90d": 1.24, "predicted_price_90d": 202.476}'
    p = parse_generation(text, CLOSE)
    assert p.status == OK, p.reason
    assert p.value == 0.0123


@pytest.mark.parametrize(
    "text",
    [
        '{"predicted_return_90d": 0.0123, "predicted_return_pct_90d": 5.00}',
        '{"predicted_return_90d": 0.0123, "predicted_price_90d": 150.0}',
        '{"predicted_return_90d": 0.0123, "predicted_return_pct_90d": 1.26}',  # 1.2376 vs 1.26: beyond ±0.005
    ],
)
def test_fields_that_disagree_are_inconsistent(text):
    p = parse_generation(text, CLOSE)
    assert p.status == INCONSISTENT
    assert math.isnan(p.value)
    assert "predicted_return_90d" in p.reason


@pytest.mark.parametrize(
    "text",
    [
        "I cannot predict the future.",
        '{"predicted_return_90d": 0.01',  # truncated
        '{"predicted_return_90d": 0.0123, "predicted_return_pct',  # truncated after a full number
        '{"predicted_return_90d": NaN}',
        '{"predicted_return_90d": Infinity}',
        '{"predicted_return_90d": null}',
        '{"predicted_return_pct_90d": -100}',
        '{"predicted_price_90d": -3}',
        '{"something_else": 1.0}',
        "",
    ],
)
def test_garbage_truncated_and_non_finite_outputs_are_unparseable(text):
    p = parse_generation(text, CLOSE)
    assert p.status == UNPARSEABLE
    assert math.isnan(p.value)
    assert p.reason


def test_a_percent_sign_is_read_only_on_the_percent_field():
    assert parse_generation('{"predicted_return_pct_90d": "2.5%"}', CLOSE).value == pytest.approx(math.log(1.025))
    assert parse_generation('{"predicted_return_90d": "2.5%"}', CLOSE).status == UNPARSEABLE
    assert parse_generation("predicted_return_90d: 2.5%", CLOSE).status == UNPARSEABLE


def test_non_text_generation_is_unparseable():
    assert parse_generation(None, CLOSE).status == UNPARSEABLE


def test_read_predictions_keeps_lines_and_folds(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"row_id": "A:2012-01-01", "generation": "x"}\n\n{"row_id": "A:2012-01-02", "predicted_return_90d": 0.1,'
        ' "fold": 2}\n',
        encoding="utf-8",
    )
    lines = read_predictions(path)
    assert [(x.line, x.row_id, x.fold) for x in lines] == [(1, "A:2012-01-01", None), (3, "A:2012-01-02", 2)]
    assert lines[1].numbers == {"predicted_return_90d": 0.1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"row_id": "A:1", "generation": "x"}\nnot json\n', "p.jsonl:2: not a JSON object"),
        ("[1, 2]\n", "p.jsonl:1: expected a JSON object"),
        ('{"generation": "x"}\n', "p.jsonl:1: missing a string 'row_id'"),
        ('{"row_id": "A:1"}\n', "p.jsonl:1: row 'A:1' has neither"),
        ('{"row_id": "A:1", "generation": "x", "fold": "one"}\n', "p.jsonl:1: 'fold' must be an integer"),
        ('{"row_id": "A:1", "generation": 3}\n', "p.jsonl:1: 'generation' must be text"),
        ('{"row_id": "A:1", "generation": "x", "predicted_return_90d": 0.1}\n', "p.jsonl:1: row 'A:1' has both"),
        ("\n\n", "p.jsonl: no prediction lines"),
    ],
)
def test_a_broken_predictions_file_names_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "p.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PredictionsFileError, match=re.escape(message)):
        read_predictions(path)


def test_a_generation_holding_a_raw_line_separator_is_one_line(tmp_path):
    """Found: str.splitlines() cut a line at a raw U+2028 / U+0085 inside a JSON string (ensure_ascii=False)."""
    path = tmp_path / "p.jsonl"
    records = [
        {"row_id": "A:2012-01-01", "generation": '{"predicted_return_90d": 0.01}\u2028tail'},
        {"row_id": "A:2012-01-02", "generation": "x\x85y\u2029"},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in records), encoding="utf-8")
    lines = read_predictions(path)
    assert [(x.line, x.row_id, x.generation) for x in lines] == [
        (n, r["row_id"], r["generation"]) for n, r in enumerate(records, 1)
    ]


def test_a_missing_predictions_file_is_named(tmp_path):
    with pytest.raises(PredictionsFileError, match=re.escape("nope.jsonl: cannot read")):
        read_predictions(tmp_path / "nope.jsonl")


@pytest.mark.parametrize(
    ("text", "half"),
    [
        ("0.0123", 5e-5),
        ("101", 0.5),
        ("101.0", 0.05),
        ("123457.0", 0.5),  # Python's repr of a 6-significant-digit float: the ".0" is no written digit
        ("1234570.0", 5.0),
        ("1e+16", 5e15),
        ("1.23457e+16", 5e10),
        ("1.5e-05", 5e-7),
    ],
)
def test_rounding_half_step_of_written_numbers(text, half):
    from portfolio_assets.evaluate.parse import _half_step, _Num

    assert _half_step(_Num(text)) == pytest.approx(half, rel=1e-12)
    if "." not in text and "e" not in text:
        assert _half_step(int(text)) == pytest.approx(half, rel=1e-12)  # a JSON integer


@pytest.mark.parametrize("close", [100_000.0, 1_000_000.0, 2_000_000_000.0])
def test_the_exporters_own_answer_is_consistent_at_large_prices(close):
    import pandas as pd

    from portfolio_assets.features.sft import output_texts
    from portfolio_assets.features.sft_output import DEFAULT_OUTPUT

    r = 0.0123499  # written 0.0123: the log field is off by almost its whole half-step
    rows = pd.DataFrame(
        {
            "target_return_90d": [r],
            "target_return_pct_90d": [100 * math.expm1(r)],
            "target_price_90d": [close * math.exp(r)],
        }
    )
    (text,) = output_texts(rows, DEFAULT_OUTPUT).to_pylist()
    assert '"predicted_return_90d": 0.0123,' in text
    p = parse_generation(text, close)
    assert p.status == OK, (text, p.reason)
    assert p.value == 0.0123


def test_an_integer_price_is_read_to_the_unit():
    # 101243 / 100000: ln = 0.0123534, 5.3e-5 from 0.0123: consistent only with the price's +-0.5
    p = parse_generation('{"predicted_return_90d": 0.0123, "predicted_price_90d": 101243}', 100_000.0)
    assert p.status == OK, p.reason
    bad = parse_generation('{"predicted_return_90d": 0.0123, "predicted_price_90d": 101300}', 100_000.0)
    assert bad.status == INCONSISTENT


def test_a_null_generation_is_unparseable_not_a_broken_file(tmp_path):
    from portfolio_assets.evaluate.parse import parse_line

    path = tmp_path / "p.jsonl"
    path.write_text('{"row_id": "A:1", "generation": null}\n', encoding="utf-8")
    (line,) = read_predictions(path)
    parsed = parse_line(line, CLOSE)
    assert (parsed.status, parsed.reason) == (UNPARSEABLE, "generation is null")
