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

.PHONY: demo demo-ingest test lint docs install bench proto clean

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

test: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff's findings and formatting, then mypy (.ci/typecheck.py lays the components out as the
# `spyglass` package for it); .ci/run runs this before the tests.
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) .ci/typecheck.py

# The documentation site (docs/, mkdocs.yml) into site/; a broken link or reference fails.
docs: $(TEST_STAMP)
	$(VENV)/bin/mkdocs build --strict

# `make bench BENCH=evaluate` runs benchmarks/evaluate.py (the docs' performance page).
BENCH ?= ingest
bench: $(DEMO_STAMP)
	$(PY) benchmarks/$(BENCH).py

# Regenerates the gRPC modules from proto/spyglass/v1/*.proto with the grpcio-tools pinned in
# pyproject.toml; tests/unit/test_proto.py runs the same command and fails when they differ.
proto: $(TEST_STAMP)
	rm -f proto/spyglass/v1/*_pb2.py proto/spyglass/v1/*_pb2.pyi proto/spyglass/v1/*_pb2_grpc.py
	$(PY) -m grpc_tools.protoc -Iproto --python_out=proto --pyi_out=proto --grpc_python_out=proto proto/spyglass/v1/*.proto

clean:
	rm -rf $(VENV) build site *.egg-info spyglass.db spyglass.db-*
