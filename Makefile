# The two commands a newcomer runs: `make weekly` and `make test`.
# Both create the virtual environment in .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample
SAMPLE_AS_OF := 2026-11-20

CHROMIUM := /usr/bin/chromium

.PHONY: .venv weekly test sample benchmark clean postgresql

.venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The weekly job on the sample portfolio at its last date: reports/<ISO week>/.
# `make weekly TEAM_LANG=fr` writes the team's outputs in French (reasons, headers, 1 234,56).
TEAM_LANG ?=
weekly: $(STAMP)
	$(BIN)/workbench weekly --data $(SAMPLE) --as-of $(SAMPLE_AS_OF) --out reports $(if $(TEAM_LANG),--lang $(TEAM_LANG))

test: $(STAMP) $(CHROMIUM) postgresql
	$(BIN)/python -m pytest

# Debian's Chromium for the browser test of the HTML report (Playwright drives it; nothing is
# downloaded by Playwright itself). Installed with apt-get when running as root (CI).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Chromium is missing: 'sudo apt-get install chromium' enables the browser test."; \
	fi

# Debian's PostgreSQL for the tests that read a real database (tests/postgres.py starts a
# throw-away server on 127.0.0.1 and stops it). Installed with apt-get when running as root (CI).
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else \
			echo "PostgreSQL is missing: 'sudo apt-get install postgresql' enables the PostgreSQL tests."; \
		fi; \
	fi

# Regenerates the committed sample portfolio (deterministic: same seed, same bytes).
sample: $(STAMP)
	$(BIN)/workbench generate --out $(SAMPLE) --customers 400 --seed 7 --start 2024-11-01 --end 2026-11-20

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .hypothesis
