# The two commands of the README: `make report` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_VERSION := 26.3
KERNEL := ice-detainers
RELEASE ?= sample

# Report parameters, passed through to `analysis report` when set: make report RELEASE=x STATE=CA
REPORT_FLAGS := $(if $(STATE),--state $(STATE)) $(if $(AOR),--aor "$(AOR)") \
	$(if $(FY_START),--fy-start $(FY_START)) $(if $(FY_END),--fy-end $(FY_END)) \
	$(if $(DECLINED),--declined-definition $(DECLINED)) $(if $(MIN_CELL),--min-cell $(MIN_CELL)) \
	$(if $(PREVIOUS),--previous-release $(PREVIOUS)) $(if $(FACILITY),--facility $(FACILITY)) $(if $(FORCE),--force)
# One report per geography: make reports RELEASE=x EACH=state|aor|facility [MIN_RECORDS=N] [SCHEDULER=tcp://host:8786]
EACH ?= state
BATCH_FLAGS := --each $(EACH) $(if $(MIN_RECORDS),--min-records $(MIN_RECORDS)) \
	$(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(if $(WORKERS),--workers $(WORKERS))

.PHONY: env report reports sample test lint lab lock clean help bench

help:
	@echo "make report [RELEASE=id|path] [STATE=CA] [AOR=Seattle] [FY_START=2021] [FY_END=2024]"
	@echo "            [DECLINED=strict|broad] [MIN_CELL=11] [PREVIOUS=id] [FACILITY=code] [FORCE=1]"
	@echo "make reports [RELEASE=id|path] EACH=state|aor|facility [MIN_RECORDS=N] [SCHEDULER=tcp://host:8786]"
	@echo "            [WORKERS=N] and the report parameters above: one report per geography, and an index"
	@echo "make test   lint, type-check and run the test suite (creates .venv first if needed)"
	@echo "make lab    JupyterLab on the project's kernel, sample release ready"

# The environment: .venv with the machine's python3, every package pinned (requirements.lock),
# this package in editable mode, and the Jupyter kernel the notebooks name.
env: $(STAMP)
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (ICE detainers)" >/dev/null
	@touch $@

report: $(STAMP)
	@if [ "$(RELEASE)" = sample ] && [ ! -d data/raw/sample ]; then $(BIN)/analysis sample; fi
	$(BIN)/analysis report "$(RELEASE)" $(REPORT_FLAGS)

reports: $(STAMP)
	@if [ "$(RELEASE)" = sample ] && [ ! -d data/raw/sample ]; then $(BIN)/analysis sample; fi
	$(BIN)/analysis report "$(RELEASE)" $(BATCH_FLAGS) $(REPORT_FLAGS)

sample: $(STAMP)
	$(BIN)/analysis sample

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

# JupyterLab on the project's kernel, with the sample release ready for the notebooks as they are.
lab: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[lab]'
	@if [ ! -d data/raw/sample ]; then $(BIN)/analysis sample; fi
	$(BIN)/analysis ingest sample
	$(BIN)/jupyter lab notebooks/

# Speed and memory against the targets of issue 6; prints a Markdown table (see benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# Rewrite requirements.lock from a clean environment built from pyproject.toml alone.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet pip==$(PIP_VERSION) setuptools==80.9.0
	.lockenv/bin/pip install --quiet -e '.[dev]'
	.lockenv/bin/pip freeze --all --exclude-editable | grep -v '^pip==' > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf data/processed/* reports/* && touch data/processed/.gitkeep reports/.gitkeep
