# The two commands a newcomer runs: `make weekly` and `make test`.
# Both create the virtual environment in .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample
SAMPLE_AS_OF := 2026-11-20

.PHONY: .venv weekly test sample benchmark clean

.venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Until the weekly report lands (issue 5), the weekly job prints the KPIs of the sample.
weekly: $(STAMP)
	$(BIN)/workbench kpis --data $(SAMPLE) --as-of $(SAMPLE_AS_OF)

test: $(STAMP)
	$(BIN)/python -m pytest

# Regenerates the committed sample portfolio (deterministic: same seed, same bytes).
sample: $(STAMP)
	$(BIN)/workbench generate --out $(SAMPLE) --customers 400 --seed 7 --start 2024-11-01 --end 2026-11-20

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .hypothesis
