# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv as needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
SRC := src tests benchmarks

.PHONY: demo test lint typecheck imports unit emulator clean browser java

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(RUNTIME)

demo: $(RUNTIME)
	$(BIN)/belimo demo

emulator: $(RUNTIME)
	$(BIN)/belimo emulator serve

lint: $(DEV)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)

typecheck: $(DEV)
	$(BIN)/mypy

imports: $(DEV)
	$(BIN)/lint-imports

unit: $(DEV)
	$(BIN)/pytest

# The dashboard's browser tests drive Debian's Chromium (Playwright, with the system browser).
# As root, install it where it is missing; otherwise those tests skip and say how.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Chromium for the browser tests (apt-get install chromium)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "could not install Chromium: the browser tests will skip"; \
	else echo "no Chromium: the browser tests will skip (as root: apt-get install -y chromium)"; fi

# The Spark tests need a Java runtime. As root, install Debian's where it is missing; otherwise
# those tests skip and say how.
java:
	@if command -v java >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Java for the Spark tests (apt-get install default-jre-headless)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null) \
			|| echo "could not install Java: the Spark tests will skip"; \
	else echo "no Java: the Spark tests will skip (as root: apt-get install -y default-jre-headless)"; fi

test: lint typecheck imports browser java unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist
