# Quick start: `make demo` (build the whole sample training set) and `make test`.
# Every target sets up its own virtual environment first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo backfill export evaluate test test-fast dev lineage-image lint features sample bench bench-features bench-rows clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## Materialise the whole graph over the whole sample window (one single-run
## backfill per partition set) and write the training-set CSV.
## A second run builds nothing unless the code changed: REBUILD=1 make demo builds again.
demo: install $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m portfolio_assets.demo $(if $(REBUILD),--rebuild,)

## Rebuild the days START..END (YYYY-MM-DD) of every asset, one run per partitions set, then their export:
## make backfill START=2010-03-01 END=2010-06-30 (ONLY=observation|labelled|export for one of them).
ONLY ?= all
backfill: install $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m portfolio_assets.backfill $(START) $(END) --only $(ONLY)

## Export the labelled days START..END again (e.g. with another PORTFOLIO_PROMPT_FORMAT): make export START=… END=…
export: install $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m portfolio_assets.backfill $(START) $(END) --only export

## Score the naive baselines, and a model's predictions if given, on the newest export (or EXPORT=<dir>):
## make evaluate PREDICTIONS=preds.jsonl [CUTOFF=2012-01-01] [OUT=dir]. Writes a Markdown report, plots, a JSON line.
EXPORT ?= $(or $(PORTFOLIO_EXPORT_DIR),$(or $(PORTFOLIO_DATA_DIR),data)/exports)
evaluate: install
	$(PY) -m portfolio_assets.evaluate $(EXPORT) $(PREDICTIONS) $(if $(CUTOFF),--knowledge-cutoff $(CUTOFF),) $(if $(OUT),--out $(OUT),)

## The whole test suite, slow end-to-end tests included (what CI runs).
test: install
	$(PY) -m pytest -q

## Everything but the slow end-to-end materialisations.
test-fast: install
	$(PY) -m pytest -q -m "not slow"

## The Dagster UI on the same data and instance as `make demo`: http://127.0.0.1:$(PORT) (PORT=3001 make dev).
PORT ?= 3000
dev: install $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

## Redraw docs/lineage.png, the UI's global asset lineage on the instance and data of `make demo`: it starts the
## webserver and screenshots the page in headless Chromium. Needs Debian's chromium (apt-get install chromium);
## CI does not run it.
lineage-image: install $(DAGSTER_HOME)/dagster.yaml
	$(PY) scripts/lineage_screenshot.py

lint: install
	$(VENV)/bin/ruff check portfolio_assets portfolio_assets_tests scripts

## Regenerate FEATURES.md from the feature declarations (a test fails while it is stale).
features: install
	$(PY) -m portfolio_assets.features.docs

## Rebuild the bundled sample from the real series shipped by `arch` and `backtesting`.
sample: install
	$(PY) -m pip install --quiet -e '.[dev,sample]'
	$(PY) scripts/build_sample_data.py

## The whole build on a synthetic universe, measured (BENCHMARKS.md): make bench ASSETS=50 YEARS=10 WORKERS=2
ASSETS ?= 10
YEARS ?= 3
WORKERS ?= 1
bench: install
	$(PY) -m portfolio_assets.bench --assets $(ASSETS) --years $(YEARS) --workers $(WORKERS)

## The feature functions alone on synthetic prices.
bench-features: install
	$(PY) scripts/bench_features.py

## The export's row work (format, validate, CSV / JSONL / Parquet) in rows per CPU-second: make bench-rows ROWS=100000
ROWS ?= 100000
bench-rows: install
	$(PY) scripts/bench_rows.py --rows $(ROWS)

clean:
	rm -rf $(VENV) .dagster_home data .pytest_cache .ruff_cache
