# migrate-tui: the two commands a new machine needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests use: a real OCI registry, independent image checkers, a daemon-free
# builder, the font for screenshots, tmux to drive the real terminal app, and chromium to render
# the HTML report.
APT_PACKAGES := docker-registry skopeo umoci buildah podman runc fonts-firacode tmux busybox-static chromium
PYTEST_ARGS ?=

.PHONY: demo test venv apt screenshots bench clean lint

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

demo: $(STAMP)
	@tmp=$$(mktemp -d -t migrate-tui-demo.XXXXXX); \
	cp -r examples/demo/. "$$tmp/"; \
	(cd "$$tmp" && git init -q && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm "demo repo before migration"); \
	echo "demo repo copied to $$tmp (writes go there; see them with: git -C $$tmp diff)"; \
	$(BIN)/migrate-tui "$$tmp"

test: apt $(STAMP) lint
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS)

# The whole package is type-checked with mypy --strict.

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy --strict src/migrate_tui

screenshots: apt $(STAMP)
	$(BIN)/python scripts/screenshots.py
	$(BIN)/python scripts/report_screenshot.py

bench: $(STAMP)
	$(BIN)/python benchmarks/scan.py
	$(BIN)/python benchmarks/build.py --size-mb 500

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info src/*.egg-info
