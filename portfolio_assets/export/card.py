"""The Hugging Face dataset cards (``README.md``): YAML front matter, then what the rows are and how they were built.

The export's top card loads the default format (Parquet when written); each
format directory has its own card, since Hugging Face infers one builder per
dataset directory. Cards are built from the manifest alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import yaml

from portfolio_assets.columns import (
    CORE_COLUMNS,
    INDICATOR_COLUMNS,
    LLM_COLUMNS,
    MACRO_COLUMNS,
    SFT_COLUMNS,
    TARGET_COLUMNS,
)
from portfolio_assets.export.encoders import CSV_READ_OPTIONS
from portfolio_assets.export.frame import JSON_COLUMNS
from portfolio_assets.export.manifest import MANIFEST_NAME
from portfolio_assets.export.recipes import recipes
from portfolio_assets.export.splits import SPLITS
from portfolio_assets.features.registry import SENTIMENT_FIELDS
from portfolio_assets.features.sft import OUTPUT_RATIONALE, SIGNIFICANT_DIGITS
from portfolio_assets.spans import HORIZON_DAYS

__all__ = ["CARD_NAME", "PRETTY_NAME", "dataset_card", "format_card"]

CARD_NAME = "README.md"
PRETTY_NAME = "Point-in-time 90-day asset price forecasting (instruction tuning)"


def _size_category(n: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]
    for bound, label in bounds:
        if n < bound:
            return label
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


def _synthetic_sources(sources: object) -> list[str] | None:
    """Names of the sources marked synthetic, or None when ``sources`` does not say."""
    found: list[str] = []
    if isinstance(sources, Mapping):
        for name, value in sources.items():
            kind = value.get("kind") if isinstance(value, Mapping) else value
            if kind is None:
                return None
            if kind == "synthetic":
                found.append(str(name))
    elif isinstance(sources, list):
        for item in sources:
            if not isinstance(item, Mapping) or "kind" not in item:
                return None
            if item["kind"] == "synthetic":
                name = (
                    item.get("name")
                    or "/".join(str(item[k]) for k in ("source", "series_key") if k in item)
                    or item.get("path")
                )
                found.append(str(name))
    else:
        return None
    return sorted(found)


def output_section(prov: Mapping[str, object]) -> list[str]:
    """The card's "Output format" section: the fields of ``output`` in order with their precision (the export's
    provenance ``output.described``, when recorded) and why the log return comes first."""
    out = ["", "### Output format", ""]
    described = prov.get("output", {}).get("described") if isinstance(prov.get("output"), Mapping) else None
    if isinstance(described, list) and described:
        out += ["`output` (and `completion`) is a JSON object with these keys, in this order:", ""]
        out += [
            f"{i}. `{d.get('key')}`: {d.get('meaning')} (`{d.get('target_column')}`), {d.get('precision')}"
            for i, d in enumerate(described, start=1)
            if isinstance(d, Mapping)
        ]
        out.append("")
    return [*out, OUTPUT_RATIONALE]


def checks_text(prov: Mapping[str, object]) -> str:
    """What the provenance records about upstream checks: ``checks`` (name -> {blocking, status, ...}, as the
    ``training_set`` asset records them) or ``checks_passed`` (a list of names)."""
    checks = prov.get("checks")
    if isinstance(checks, Mapping) and checks:
        shown = []
        for name in sorted(checks):
            record = checks[name]
            status = record.get("status", "?") if isinstance(record, Mapping) else record
            blocking = " (blocking)" if isinstance(record, Mapping) and record.get("blocking") else ""
            shown.append(f"`{name}`{blocking}: {_inline(status)}")
        return f"The provenance records {len(checks)} upstream check(s) before export: " + "; ".join(shown) + ". "
    if "checks_passed" in prov:
        return f"Passed before export (provenance): {_inline(prov['checks_passed'])}. "
    return "The provenance lists no upstream checks. "


def _group(name: str) -> str:
    groups = [
        (LLM_COLUMNS, "LLM text"),
        (CORE_COLUMNS, "core"),
        (TARGET_COLUMNS, "target"),
        (INDICATOR_COLUMNS, "indicator"),
        (MACRO_COLUMNS, "macro"),
        (SENTIMENT_FIELDS, "sentiment"),
        (["reference_close", "market_cap"], "reference"),
        (["not_applicable"], "applicability"),
        (["row_id"], "identity"),
        (["is_synthetic"], "provenance"),
    ]
    for members, label in groups:
        if name in members:
            return label
    return "extra"


def _inline(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _cell(value: object) -> str:
    return _inline(value).replace("|", "\\|").replace("\n", " ")


def _provenance_lines(key: str, value: object) -> list[str]:
    """A provenance entry: inline, or a table when it maps names to records (e.g. ``sources``)."""
    if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
        fields = sorted({k for v in value.values() for k in v})  # type: ignore[union-attr]
        lines = [f"* **{key}**:", "", f"| name | {' | '.join(fields)} |", "|---" * (len(fields) + 1) + "|"]
        for name in sorted(value):
            record = value[name]
            lines.append(f"| `{name}` | " + " | ".join(_cell(record.get(f, "")) for f in fields) + " |")  # type: ignore[union-attr]
        return [*lines, ""]
    return [f"* **{key}**: `{_inline(value)}`"]


def _default_format(formats: Sequence[str]) -> str:
    return "parquet" if "parquet" in formats else formats[0]


def _front_matter(manifest: Mapping[str, object], fmt: str, prefix: str) -> str:
    """YAML front matter of a card whose config loads ``fmt``'s files (paths relative to the card)."""
    files: list[dict[str, object]] = manifest["files"]  # type: ignore[assignment]
    config: dict[str, object] = {"config_name": fmt, "default": True}
    config["data_files"] = [
        {
            "split": s,
            "path": [str(f["path"]).removeprefix(prefix) for f in files if f["format"] == fmt and f["split"] == s],
        }
        for s in SPLITS
    ]
    if fmt == "csv":
        config.update(CSV_READ_OPTIONS)
    front = {
        "license": "other",
        "task_categories": ["text-generation"],
        "language": ["en"],
        "pretty_name": PRETTY_NAME,
        "size_categories": [_size_category(int(manifest["rows"]["exported"]))],  # type: ignore[index]
        "tags": ["finance", "time-series", "forecasting", "instruction-tuning"],
        "configs": [config],
    }
    text = yaml.safe_dump(front, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
    return f"---\n{text}---"


def format_card(manifest: Mapping[str, object], fmt: str) -> str:
    """The card of one format directory: a config for its files, and a pointer to the export's card."""
    files = [f for f in manifest["files"] if f["format"] == fmt]  # type: ignore[union-attr,index]
    by_split = manifest["rows"]["by_split"]  # type: ignore[index]
    out = [
        _front_matter(manifest, fmt, prefix=f"{fmt}/"),
        f"# {PRETTY_NAME} — {fmt}",
        "",
        f"The {fmt} files of the export described in [`../{CARD_NAME}`](../{CARD_NAME}) (the rows, how they were "
        f"built, the split rule, known limits); `../{MANIFEST_NAME}` has every file's sha256 and the provenance. "
        "The other formats hold the same rows.",
        "",
        *(f"* {s}: {by_split[s]} rows in {sum(f['split'] == s for f in files)} file(s)" for s in SPLITS),
        "",
    ]
    lists = [f"`{c['name']}`" for c in manifest["schema"] if c["dtype"] == "object"]  # type: ignore[union-attr,index]
    if fmt == "csv":
        out += [
            "Read with `float_precision='round_trip', keep_default_na=False, na_values=['']` (the config above "
            "does): pandas' default float parser may change the last bit of a float."
            + (f" {', '.join(lists)} hold the JSON text of their message lists: `json.loads` them." if lists else ""),
            "",
        ]
    elif fmt == "jsonl":
        out += [
            "Read with pandas' `precise_float=True` (its default float parser may change the last bit of a float)."
            + (f" {', '.join(lists)} are JSON arrays of messages." if lists else ""),
            "",
        ]
    return "\n".join(out)


def _identity_lines(manifest: Mapping[str, object]) -> list[str]:
    """The sections on row identity, the column dictionary and the walk-forward folds."""
    rows: Mapping[str, object] = manifest["rows"]  # type: ignore[assignment]
    counts = rows.get("by_synthetic") or {}
    marked = rows.get("synthetic_assets") or []
    out = [
        "## Row identity",
        "",
        "* `row_id`: `<asset_symbol>:<UTC day of timestamp>` (e.g. `BTC-USD:2012-07-11`), unique in the export: "
        "folds and predictions name rows by it.",
        "* `is_synthetic`: whether the row's own price series is a synthetic stand-in (`provenance.sources`, "
        f"kind `synthetic`): {counts.get('synthetic', 0)} synthetic and {counts.get('real', 0)} real rows"  # type: ignore[union-attr]
        + (f" (synthetic assets: {', '.join(f'`{s}`' for s in marked)})" if marked else "")  # type: ignore[union-attr]
        + ". Evaluate on the real rows to judge market skill (the flag covers the row's own price series only: "
        "its macro and sentiment inputs may still be synthetic; `provenance.sources` lists each series).",
        "",
    ]
    columns = manifest.get("columns")
    if isinstance(columns, Mapping):
        out += [
            "## Column dictionary",
            "",
            f"`{columns['path']}` (sha256 `{columns['sha256']}`) gives every column's type as the files hold it, "
            "unit, definition, when it is known (point in time: at the decision time, or at `target_timestamp` "
            "for the labels) and group; the feature entries are the project's feature declarations.",
            "",
        ]
    folds = manifest.get("folds")
    if isinstance(folds, Mapping):
        out += [
            "## Walk-forward folds",
            "",
            f"`{folds['path']}` (sha256 `{folds['sha256']}`) lists {folds.get('n_folds', '?')} "
            f"{folds.get('scheme', '')} walk-forward folds over the exported rows (all splits together) by "
            "`row_id`: each fold's train and test rows, purged on their label windows and embargoed "
            f"({folds.get('embargo_days', '?')} days). {folds.get('rule', '')}",
            "",
            "To score a model fine-tuned per fold (on that fold's train rows), write one JSONL line per test row, "
            '`{"row_id": ..., "fold": <fold>, "generation": <the model\'s text>}`, and run `python -m '
            "portfolio_assets.evaluate <this directory> predictions.jsonl`: it scores the folds (every line must "
            "name its fold; else the single split's test rows) beside the naive baselines.",
            "",
        ]
        table = folds.get("folds")
        if isinstance(table, list) and table:
            out += ["| fold | train | test | purged | embargoed |", "|---|---|---|---|---|"]
            for fold in table:
                train, test = fold.get("train", {}), fold.get("test", {})
                out.append(
                    f"| {fold.get('fold')} | {train.get('first')} .. {train.get('last')} ({train.get('rows')}) | "
                    f"{test.get('first')} .. {test.get('last')} ({test.get('rows')}) | {fold.get('purged')} | "
                    f"{fold.get('embargoed')} |"
                )
            out.append("")
    return out


def dataset_card(manifest: Mapping[str, object]) -> str:
    """The export's top card: front matter loading the default format, then every section."""
    rows = manifest["rows"]
    split = manifest["split"]
    sharding = manifest["sharding"]
    ranges = manifest["date_range"]
    files: list[dict[str, object]] = manifest["files"]  # type: ignore[assignment]
    schema: list[dict[str, str]] = manifest["schema"]  # type: ignore[assignment]
    provenance = manifest["provenance"]
    formats = list(manifest["formats"])  # type: ignore[arg-type]
    boundaries = split["boundaries"]  # type: ignore[index]
    if split["boundary_source"] == "config":  # type: ignore[index]
        origin = "given in the split configuration"
    else:
        origin = f"placed by fractions {_inline(split['fractions'])} on the sorted unique dates"  # type: ignore[index]
    names = [c["name"] for c in schema]
    extras = [n for n in names if n not in SFT_COLUMNS]

    default = _default_format(formats)
    front = _front_matter(manifest, default, prefix="")
    prov = provenance if isinstance(provenance, Mapping) else {}
    synthetic = _synthetic_sources(prov.get("sources"))
    by_split = rows["by_split"]  # type: ignore[index]
    by_boundary = rows["excluded_by_boundary"]  # type: ignore[index]

    out: list[str] = [front, ""]  # front matter, blank line, body
    out += [
        f"# {PRETTY_NAME}",
        "",
        f"{rows['exported']} rows ({rows['input']} built, {rows['purged']} purged, {rows['embargoed']} embargoed), "  # type: ignore[index]
        f"{len(rows['by_asset'])} assets, {ranges['exported']['first']} .. {ranges['exported']['last']}, "  # type: ignore[index]
        f"in {', '.join(formats)}. Built by the `portfolio_assets` Dagster project.",
        "",
        "## What the rows are",
        "",
        "One row per asset per observation day (UTC). The model reads `instruction` (the task: asset, class, "
        f"date, {HORIZON_DAYS}-day horizon) and `input` (strict JSON of the features), and learns to write `output` "
        "(strict JSON of the forecast targets). `context_window` is a strict JSON array of the last closes, "
        "oldest first, ending at the day's close.",
    ]
    if "prompt_format" in prov:
        out += ["", f"Prompt format: `{_inline(prov['prompt_format'])}`."]
    lists = [c["name"] for c in schema if c["dtype"] == "object"]
    if lists:
        out += [
            "",
            ", ".join(f"`{n}`" for n in lists) + " hold lists of `{role, content}` messages (system / user / "
            "assistant, built from the same instruction, input and output): a JSON array in JSONL, a "
            "`list<struct<role: string, content: string>>` in Parquet, the JSON text in CSV. A conversational "
            "trainer (TRL's `SFTTrainer`) reads them as they are.",
        ]
    strings = [n for n in ("prompt", "completion") if n in names and n not in lists]
    if strings:
        out += ["", ", ".join(f"`{n}`" for n in strings) + " are text: the prompt and the completion to learn."]
    out += output_section(prov)
    out += [
        "",
        "Every canonical column follows the text columns, at full float64 precision: OHLCV, the targets "
        "(`target_timestamp`, `target_price_90d` in the row's share basis, `target_return_90d` = split-adjusted log "
        "return, `target_return_pct_90d`, `target_total_return_90d` = log return with the dividends whose ex-date is "
        "in the horizon), "
        f"{len(INDICATOR_COLUMNS)} technical and cross-asset indicators, {len(MACRO_COLUMNS)} macro fields, "
        f"{len(SENTIMENT_FIELDS)} sentiment fields, the reference close and market cap, and `not_applicable` "
        "(JSON array of the features that do not apply to the asset, as opposed to missing ones)"
        + (f", then {', '.join(f'`{e}`' for e in extras)}" if extras else "")
        + ".",
        "",
        "| # | column | dtype | group |",
        "|---|--------|-------|-------|",
    ]
    out += [f"| {i} | `{c['name']}` | {c['dtype']} | {_group(c['name'])} |" for i, c in enumerate(schema, 1)]
    out += [
        "",
        "## How they were built",
        "",
        "* **Decision time.** Each row has a `decision_time` (UTC): the end of its own daily price bar, 24:00 UTC "
        "for crypto, 16:00 New York for equities, ETFs and indices, 16:00 UTC for FX and metals (XAUUSD). The row "
        "uses only values available by then: before export, a blocking check compared every value's recorded "
        "availability with it.",
        "* **Availability.** Prices and technical features: the bar end. Macro: the release day (the first "
        "release where known, else period end plus the series' publication lag) at the series' release time (the "
        "S&P 500 at 16:00 New York, the VIX at 16:15, Treasury yields and the dollar index at 16:15, CPI, GDP and "
        "unemployment at 08:30), so an FX row sees the previous day's S&P 500 close and an equity row the previous "
        "day's VIX. Cross-asset windows: their latest input. News, social and Fear & Greed: the end of the UTC day "
        "aggregated (crypto rows use day D, the others D-1). Google Trends: the download's fetch instant, from that "
        "download alone. Nothing is filled backwards; missing stays missing (null).",
        "* **Splits and dividends.** Returns, indicators and targets use prices adjusted only for events dated on "
        "or before the row's day; the prices shown (OHLC, the last close of the context window) are as traded and "
        "level indicators are in the row's own share basis.",
        f"* **Targets.** The close {HORIZON_DAYS} calendar days after D (the last trading day on or before it), "
        "its log return and percent return from D's close. `target_timestamp` is the day the target close was "
        "observed, so `[timestamp, target_timestamp]` is each row's label window.",
        "* **Survivorship.** An asset that stopped trading stays in the dataset: its universe entry records its "
        "last trading day and every row up to that day is kept, so the data is not limited to survivors. No price "
        f"or sentiment after that day is used; a row whose {HORIZON_DAYS}-day horizon passes it has no target and "
        "is held out of the export (quarantined as `no_target`), never labelled with the last close before it.",
        "* **Checks.** "
        + checks_text(prov)
        + "The exporter itself requires every canonical column, UTC timestamps, unique (timestamp, asset_symbol) "
        "and row_id, valid message lists, "
        f"no ±inf, non-empty text and strict JSON in {', '.join(f'`{c}`' for c in JSON_COLUMNS)}.",
        "",
        "## Splits",
        "",
        str(split["rule"]),  # type: ignore[index]
        "",
        f"* validation_start: **{boundaries['validation_start']}**, test_start: **{boundaries['test_start']}** "
        f"({origin})",
        f"* embargo_days: **{split['embargo_days']}**",  # type: ignore[index]
        "",
        "| split | rows | first day | last day | last target day |",
        "|-------|------|-----------|----------|-----------------|",
    ]
    for s in SPLITS:
        r = ranges[s]  # type: ignore[index]
        out.append(f"| {s} | {by_split[s]} | {r['first']} | {r['last']} | {r['last_target']} |")
    out += [
        "",
        "Rows left out at each boundary: purged before it (their label window reaches it), embargoed after it.",
        "",
        "| boundary | day | purged | embargoed |",
        "|----------|-----|--------|-----------|",
        *(
            f"| {name} | {b['day']} | {b['purged']} | {b['embargoed']} |"
            for name, b in by_boundary.items()  # type: ignore[union-attr]
        ),
        f"| total | | {rows['purged']} | {rows['embargoed']} |",  # type: ignore[index]
    ]
    out += [
        "",
        "## Shards and files",
        "",
        f"Sharded by {sharding['shard_by']} ({sharding['rule']}): `<format>/<split>/<split>-<shard>.<ext>`. "  # type: ignore[index]
        "Every format holds the same rows in the same order (timestamp, asset_symbol). "
        "`manifest.json` lists every file with its row count, size and sha256, and the counts per split, shard "
        "and asset.",
        "",
        "| file | rows | bytes | sha256 |",
        "|------|------|-------|--------|",
    ]
    out += [f"| `{f['path']}` | {f['rows']} | {f['bytes']} | `{f['sha256']}` |" for f in files]
    out += [
        "",
        "### Loading",
        "",
        f"The front matter's config loads the {default} files. A Hugging Face dataset directory holds one "
        "format, so each format directory has its own card and config. Every block below runs as it is from "
        "the export directory (the paths are relative to it) and keeps every float to the last bit:",
        "",
        "```python",
        "from pathlib import Path",
        "",
        "from datasets import load_dataset",
        "",
        "export = Path('.').resolve()  # the export directory",
        f"ds = load_dataset(str(export))  # {default}: train / validation / test",
        *(f"ds_{fmt} = load_dataset(str(export / '{fmt}'))" for fmt in formats if fmt != default),
        "```",
        "",
        *(line for title, code in recipes(manifest) for line in (f"{title}:", "", "```python", code, "```", "")),
        "pandas' JSON reader needs `precise_float=True` (its default float parser may change the last bit of "
        "a float), its CSV reader `float_precision='round_trip'`. Hugging Face reads the timestamps of CSV as "
        "strings and of JSONL as timezone-naive timestamps (UTC); Parquet keeps `timestamp[ns, tz=UTC]`. The "
        "values are the same.",
        "",
        *_identity_lines(manifest),
        "## Known limits",
        "",
    ]
    if synthetic is None:
        out.append("* The provenance does not say which source series are real and which are synthetic.")
    elif synthetic:
        out.append(
            f"* **Synthetic series.** {len(synthetic)} source series are seeded synthetic stand-ins, not market data "
            "(the sample manifest marks them): " + ", ".join(f"`{s}`" for s in synthetic) + ". Rows built from them "
            "teach the format, not the market."
        )
    else:
        out.append("* Every source series is marked real.")
    excluded = prov.get("excluded_assets") or {}
    if isinstance(excluded, Mapping) and excluded:
        out.append(
            f"* **Assets left out.** {len(excluded)} universe asset(s) are missing from this export because one of "
            "their sources failed (the `universe_complete` check failed): "
            + "; ".join(f"`{symbol}`: {why}" for symbol, why in excluded.items())
            + ". Re-run the source and the range to fill them in."
        )
    out += [
        f"* The JSON text of `input` and `context_window` rounds numbers to {SIGNIFICANT_DIGITS} significant "
        "digits, `output` as its format says (above); the canonical columns keep full float64.",
        f"* Labels overlap: consecutive days of an asset share most of their {HORIZON_DAYS}-day window, so rows "
        "are strongly autocorrelated within a split; the purge only keeps windows from crossing split boundaries.",
        "* The boundaries are the same calendar days for every asset; assets trading on weekends (crypto) have "
        "more rows per period than equities, FX and commodities.",
        "* Timestamps are UTC days (00:00:00Z) labelling the day's close, whatever the market's time zone.",
        "* In CSV an empty field is missing (exported text is never empty); read with the options above, or "
        "pandas' default float parser may change the last bit of a float.",
        "",
        "## Provenance",
        "",
    ]
    if prov:
        for key in sorted(prov):
            out += _provenance_lines(key, prov[key])
    else:
        out.append("* (none given)")
    libraries = manifest["libraries"]
    out += [
        "",
        "Written with " + ", ".join(f"{k} {v}" for k, v in sorted(libraries.items())) + ".",  # type: ignore[union-attr]
        "",
    ]
    return "\n".join(out)
