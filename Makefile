# Two commands on a fresh machine: `make demo` and `make test`.
# Both create (once) and reuse the virtual environment in .venv. The demo installs what the
# demo runs (`.[all]`: collector and evaluator); the tests add the test, lint and docs tools
# (`.[all,test]`). Each install has its own stamp, so `make demo` then `make test` installs
# only what the tests add.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_STAMP := $(VENV)/.spyglass-installed-all
TEST_STAMP := $(VENV)/.spyglass-installed-all-test

.PHONY: demo demo-ingest ui test browser lint docs docs-screenshots install bench bench-peers proto clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install -e ".[all]"
	touch $@

$(TEST_STAMP): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install -e ".[all,test]"
	touch $@

install: $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(PY) examples/customer_support_bot.py

demo-ingest: $(DEMO_STAMP)
	$(PY) examples/ingest_demo.py

# the web UI over ./spyglass.db (what `make demo` wrote): http://127.0.0.1:4318/
ui: $(DEMO_STAMP)
	$(VENV)/bin/spyglass ui

test: $(TEST_STAMP) browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Debian's chromium for the browser tests (tests/browser; Playwright never downloads one):
# installed with apt when missing and this runs as root with apt-get, as in CI. Elsewhere the
# browser tests skip, saying why; with CI=true they fail without it.
SPYGLASS_CHROMIUM ?= /usr/bin/chromium
APT_CHROMIUM := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
browser:
	@if [ ! -x "$(SPYGLASS_CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make browser: installing Debian's chromium for the browser tests"; \
	    $(APT_CHROMIUM) >/dev/null 2>&1 || { apt-get update -qq && $(APT_CHROMIUM); } \
	      || echo "make browser: could not install chromium; the browser tests will skip (fail in CI)"; \
	  else \
	    echo "make browser: no $(SPYGLASS_CHROMIUM), and installing it needs root and apt-get;" \
	      "the browser tests will skip (fail in CI)"; \
	  fi; \
	fi

# ruff's findings and formatting, then mypy (.ci/typecheck.py lays the components out as the
# `spyglass` package for it); .ci/run runs this before the tests.
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) .ci/typecheck.py

# The documentation site (docs/, mkdocs.yml) into site/; a broken link or reference fails.
docs: $(TEST_STAMP)
	$(VENV)/bin/mkdocs build --strict

# The web UI's pictures in the docs and the README: the browser tests take them (the demo's
# data, seen in Chromium) into build/screenshots/; this copies the ones the docs show.
UI_SHOTS := demo-experiments:experiments demo-traces:traces demo-trace-panel:trace-panel \
	demo-trace:trace demo-export-dialog:export-dialog demo-create-dataset:create-dataset \
	demo-exported:exported demo-runs-list:runs-list demo-runs-run:runs-run \
	demo-runs-compare:runs-compare datasets-list:datasets dataset-page:dataset-page \
	dataset-diff:dataset-diff jobs-list:jobs-list jobs-detail:jobs-detail \
	monitors-list:monitors-list monitors-chart:monitors-chart sessions-list:sessions-list \
	sessions-view:sessions-view overview-sqlite:overview review-queues-sqlite:review-queues \
	review-mode-sqlite:review-mode sign-in:sign-in
docs-screenshots: $(TEST_STAMP) browser
	rm -rf build/screenshots
	$(PY) -m pytest -q tests/browser -k "not postgresql"
	mkdir -p docs/images/ui
	for pair in $(UI_SHOTS); do cp "build/screenshots/$${pair%%:*}.png" "docs/images/ui/$${pair##*:}.png"; done

# `make bench BENCH=evaluate` runs benchmarks/evaluate.py (the docs' performance page).
BENCH ?= ingest
bench: $(DEMO_STAMP)
	$(PY) benchmarks/$(BENCH).py

# Spyglass side by side with MLflow and Arize Phoenix (benchmarks/peers/run.py): the peers are
# installed once, at pinned versions, into build/peers-venv, never into $(VENV).
# `make bench-peers PEERS_ARGS="--traces 1000"` passes options through.
bench-peers: $(DEMO_STAMP)
	$(PY) benchmarks/peers/run.py $(PEERS_ARGS)

# Regenerates the gRPC modules from proto/spyglass/v1/*.proto with the grpcio-tools pinned in
# pyproject.toml; tests/unit/test_proto.py runs the same command and fails when they differ.
proto: $(TEST_STAMP)
	rm -f proto/spyglass/v1/*_pb2.py proto/spyglass/v1/*_pb2.pyi proto/spyglass/v1/*_pb2_grpc.py
	$(PY) -m grpc_tools.protoc -Iproto --python_out=proto --pyi_out=proto --grpc_python_out=proto proto/spyglass/v1/*.proto

clean:
	rm -rf $(VENV) build site *.egg-info spyglass.db spyglass.db-*
