# Two commands on a fresh machine: `make demo` and `make test`.
# Both create (once) and reuse the virtual environment in .venv.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.spyglass-installed

.PHONY: demo demo-ingest test install bench proto clean

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/customer_support_bot.py

demo-ingest: $(STAMP)
	$(PY) examples/ingest_demo.py

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# `make bench BENCH=evaluate` runs benchmarks/evaluate.py; see README "Performance".
BENCH ?= ingest
bench: $(STAMP)
	$(PY) benchmarks/$(BENCH).py

# Regenerates the gRPC modules from proto/spyglass/v1/*.proto with the grpcio-tools pinned in
# pyproject.toml; tests/unit/test_proto.py runs the same command and fails when they differ.
proto: $(STAMP)
	rm -f proto/spyglass/v1/*_pb2.py proto/spyglass/v1/*_pb2.pyi proto/spyglass/v1/*_pb2_grpc.py
	$(PY) -m grpc_tools.protoc -Iproto --python_out=proto --pyi_out=proto --grpc_python_out=proto proto/spyglass/v1/*.proto

clean:
	rm -rf $(VENV) build *.egg-info spyglass.db spyglass.db-*
