"""How the CLI reaches its data and how it fails: the connection flags every query command
shares, the store in this folder as the default (never created by a command that only
reads), collector addresses as users write them, a down collector reported at once, and
every error as one ``error:`` line in the words of the command line."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from spyglass.cli import cli
from spyglass.cli.errors import in_flag_terms
from spyglass.errors import ConfigurationError
from spyglass.session import collector_address


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in an empty folder with no SPYGLASS_* settings from outside."""
    for name in list(os.environ):
        if name.startswith("SPYGLASS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_error(result: Result) -> str:
    """The single ``error:`` line a failed command printed (no traceback)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.output
    return lines[0]


def write_jsonl(path: Path, *rows: object) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# -- messages in flag terms ------------------------------------------------------------------


def test_library_names_become_flags() -> None:
    assert in_flag_terms("max_results must be at least 1") == "--limit must be at least 1"
    assert in_flag_terms("invalid order_by[0]: x") == "invalid --order-by #1: x"
    assert in_flag_terms("scorers[1]: unknown") == "--scorer #2: unknown"
    assert (
        in_flag_terms(
            "run r-1 not found; list runs with SearchEvaluationRuns (`spyglass eval list`)"
        )
        == "run r-1 not found; list runs with `spyglass eval list`"
    )
    assert in_flag_terms("see search_datasets() (`spyglass datasets list`)") == (
        "see `spyglass datasets list`"
    )


def test_cli_errors_name_flags(start_collector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector = start_collector(f"sqlite:///{tmp_path / 'flags.db'}")
    at = ["--collector", f"127.0.0.1:{collector.grpc_port}"]
    write_jsonl(tmp_path / "d.jsonl", {"inputs": {"q": "a"}, "outputs": "x"})
    assert run("datasets", "import", "d.jsonl", "--dataset", "ds", *at).exit_code == 0

    limit = one_error(run("eval", "list", *at, "--limit", "0"))
    assert "--limit must be at least 1" in limit and "max_results" not in limit
    order = one_error(run("traces", "search", *at, "-e", "0", "--order-by", "bogus DESC"))
    assert "--order-by #1" in order and "order_by[" not in order
    scorer = one_error(
        run("eval", "submit", *at, "--dataset", "ds", "--scorer", "ExactMatch", "--scorer", "Nope")
    )
    assert scorer.startswith("error: --scorer #2: unknown scorer 'Nope'")
    unknown_run = one_error(run("eval", "show", *at, "r-0000000000000000"))
    assert "SearchEvaluationRuns" not in unknown_run and "`spyglass eval list`" in unknown_run


# -- file errors -----------------------------------------------------------------------------


def test_file_errors_are_one_line(start_collector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector = start_collector(f"sqlite:///{tmp_path / 'files.db'}")
    at = ["--collector", f"127.0.0.1:{collector.grpc_port}"]
    write_jsonl(tmp_path / "d.jsonl", {"inputs": {"q": "a"}})
    assert run("datasets", "import", "d.jsonl", "--dataset", "ds", *at).exit_code == 0

    missing_dir = one_error(run("datasets", "export", "ds", "missing/dir/x.jsonl", *at))
    assert "the folder 'missing/dir' does not exist" in missing_dir
    assert not (tmp_path / "missing").exists()

    (tmp_path / "bad.parquet").write_text("not parquet")
    assert "as Parquet" in one_error(
        run("datasets", "import", "bad.parquet", "--dataset", "ds", *at)
    )
    (tmp_path / "bad.csv").write_bytes(b"inputs\n\xff\xfe\n")
    assert "not UTF-8" in one_error(run("datasets", "import", "bad.csv", "--dataset", "ds", *at))
    assert "'nope.jsonl' does not exist" in one_error(
        run("datasets", "import", "nope.jsonl", "--dataset", "ds", *at)
    )
    assert "cannot tell the format" in one_error(
        run("datasets", "import", "d.txt", "--dataset", "ds", *at)
    )
    (tmp_path / "gap.jsonl").write_text('{"inputs": {"q": 1}}\n\n[1]\n')
    assert "record 2 (line 3) is not a JSON object" in one_error(
        run("datasets", "import", "gap.jsonl", "--dataset", "ds", *at)
    )
    (tmp_path / "cells.csv").write_text('inputs\n"{""q"": 1}"\nnot json\n')
    assert "record 2 (line 3), column 'inputs' is not JSON" in one_error(
        run("datasets", "import", "cells.csv", "--dataset", "ds", *at)
    )
    if os.geteuid() != 0:  # root reads any file
        locked = write_jsonl(tmp_path / "locked.jsonl", {"inputs": {"q": 1}})
        locked.chmod(0)
        assert "permission denied" in one_error(
            run("datasets", "import", "locked.jsonl", "--dataset", "ds", *at)
        )


# -- the store in this folder ----------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["experiments", "list"],
        ["traces", "search"],
        ["datasets", "list"],
        ["eval", "list"],
        ["monitors", "list"],
    ],
)
def test_reading_where_there_is_no_store_says_so(command: list[str], tmp_path: Path) -> None:
    line = one_error(run(*command))
    assert "no Spyglass store here: ./spyglass.db does not exist" in line
    assert "--store" in line and "--collector" in line
    assert not (tmp_path / "spyglass.db").exists()


def test_store_flag_reads_an_existing_store(start_collector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = f"sqlite:///{tmp_path / 'kept.db'}"
    collector = start_collector(store)
    at = ["--collector", f"127.0.0.1:{collector.grpc_port}"]
    write_jsonl(tmp_path / "d.jsonl", {"inputs": {"q": "a"}})
    assert run("datasets", "import", "d.jsonl", "--dataset", "kept", *at).exit_code == 0

    listed = run("datasets", "list", "--store", store, "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert "kept" in listed.output
    both = run("experiments", "list", "--store", store, *at)
    assert both.exit_code == 2 and "give --collector or --store, not both" in both.output


def test_a_store_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}"
    assert "does not exist" in one_error(run("experiments", "list", "--store", store))
    write_jsonl(tmp_path / "d.jsonl", {"inputs": {"q": "a"}})
    imported = one_error(run("datasets", "import", "d.jsonl", "--dataset", "ds", "--store", store))
    assert "the folder" in imported and "does not exist" in imported
    started = one_error(
        run("collector", "start", "--store", store, "--grpc-port", "0", "--http-port", "0")
    )
    assert "create it first or give --store" in started
    assert not (tmp_path / "missing").exists()


def test_import_starts_a_store_in_this_folder(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d.jsonl", {"inputs": {"q": "a"}})
    created = run("datasets", "import", "d.jsonl", "--dataset", "first")
    assert created.exit_code == 0, created.output
    assert (tmp_path / "spyglass.db").exists()
    listed = run("datasets", "list", "--format", "json")
    assert listed.exit_code == 0 and "first" in listed.output


def test_evaluator_serve_without_collector_or_store_says_where_to_point() -> None:
    line = one_error(run("evaluator", "serve", "--http-port", "0"))
    assert "--collector HOST:PORT" in line and "SPYGLASS_STORE" in line


# -- collectors: addresses, keys, TLS, down ---------------------------------------------------


def test_collector_addresses_as_users_write_them() -> None:
    assert collector_address("127.0.0.1:4317") == ("127.0.0.1:4317", False)
    assert collector_address("http://host:4317/") == ("host:4317", False)
    assert collector_address("https://host:4317") == ("host:4317", True)
    assert collector_address("dns:///host:4317") == ("dns:///host:4317", False)
    for wrong in ("grpc://host:4317", "host", "http://host:4318/v1/traces", "http://:4317"):
        with pytest.raises(ConfigurationError, match="Give host:port"):
            collector_address(wrong)


def test_connection_flags_reach_the_collector(start_collector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector = start_collector(f"sqlite:///{tmp_path / 'keys.db'}", api_keys=("k-1",))
    url = f"http://127.0.0.1:{collector.grpc_port}"
    refused = run("experiments", "list", "--collector", url)
    assert refused.exit_code == 1 and "error:" in refused.output
    listed = run("experiments", "list", "--collector", url, "--api-key", "k-1", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert "Default" in {e["name"] for e in json.loads(listed.output)}
    # a TLS client against a plaintext collector: never a plaintext fallback
    tls = run("experiments", "list", "--collector", url, "--api-key", "k-1", "--tls")
    assert tls.exit_code == 1
    wrong = one_error(run("experiments", "list", "--collector", "grpc://127.0.0.1:1"))
    assert "Give host:port" in wrong


def test_a_down_collector_fails_within_two_seconds() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    line = one_error(run("traces", "search", "--collector", f"127.0.0.1:{port}", "-e", "0"))
    assert time.monotonic() - started < 3.0
    assert f"no collector answers at 127.0.0.1:{port}" in line
