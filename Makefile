# The two commands of the README: `make demo` runs the phone bank, `make test` tests it.
# Each installs what is missing first (Debian/Ubuntu packages, the virtualenv, the
# Asterisk sandbox), so both work on a fresh machine, as root or with sudo.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Root is needed for apt-get and for the chrooted Asterisk; use sudo when not root.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# chromium: the browser tests drive Debian's Chromium (Playwright's download is not used).
SYSTEM_PACKAGES := debootstrap debian-archive-keyring postgresql sip-tester espeak-ng sox \
                   python3-venv python3-dev gcc ca-certificates procps util-linux chromium
PYTEST_ARGS ?=

.PHONY: demo test screenshots check lint typecheck system-deps venv sandbox translations clean help

help:
	@echo "make demo   - install what is missing, start Asterisk (sandbox) and the web service with demo data"
	@echo "make test   - install what is missing, run lint, type checks and the whole test suite"
	@echo "make lint | typecheck | sandbox | clean"

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: system-deps $(STAMP)

# Builds the Debian sid root with Asterisk once (cached), so tests do not pay for it.
sandbox: venv
	$(SUDO) $(BIN)/phonebank asterisk sandbox prepare

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check phonebank tests

typecheck: venv
	$(BIN)/mypy

test: venv sandbox lint typecheck
	$(SUDO) $(BIN)/pytest $(PYTEST_ARGS)

# Refresh the screenshots in docs/screenshots from the browser tests.
screenshots: venv
	PHONEBANK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/browser

demo: venv sandbox
	$(SUDO) $(BIN)/phonebank up --demo

# After changing a message in a template or the code: refresh the catalogs, then
# translate the new entries in web/translations/fr/LC_MESSAGES/messages.po.
translations: venv
	$(BIN)/pybabel extract -F babel.cfg --no-location -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
