# Two commands: `make run` (terminal chat, or Telegram when TELEGRAM_BOT_TOKEN is set)
# and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BROWSER_PY := $(VENV)/.browser-python
BROWSER := $(VENV)/.browser

.PHONY: run test lint bench docs coverage wheel-check screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The browser tests (tests/browser/): Playwright from PyPI (the `browser` extra), then Debian's
# Chromium and Japanese fonts from apt when missing (as root; elsewhere one line says so, no
# stamp, and those tests skip).
$(BROWSER_PY): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,browser]'
	touch $@

$(BROWSER): $(BROWSER_PY)
	sh tests/browser/install-browser.sh $@

run: $(STAMP)
	$(BIN)/kakekomi $(if $(filter serve chat telegram,$(firstword $(ARGS))),,run) $(ARGS)

# Content lint, then ruff and mypy (configured in pyproject.toml): a problem stops the run
# before the (longer) tests.
LINT_PATHS := bot storage tests benchmarks hatch_build.py

test: $(STAMP) $(BROWSER)
	$(BIN)/kakekomi lint
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/python -m pytest --ignore=tests/browser $(ARGS)
	# The browser tests in a pytest of their own: Playwright's sync API keeps an event loop
	# running for the whole session, and pytest-asyncio tests after it would fail.
	$(BIN)/python -m pytest tests/browser

lint: $(STAMP)
	$(BIN)/kakekomi lint
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/kakekomi docs

coverage: $(STAMP)
	$(BIN)/kakekomi coverage

# Build the wheel, install it (not editable) into a fresh venv and chat through it from
# another folder (tests/test_packaging.py; the build backend comes from PyPI).
wheel-check: $(STAMP)
	$(BIN)/python -m pytest tests/test_packaging.py $(ARGS)

# Phone-size pictures of the web chat (ja, en) for the README, into docs/screenshots/.
screenshots: $(BROWSER)
	$(BIN)/python -m tests.browser.screenshots $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
