"""What the CLI shows against a real collector: `traces search` over every experiment with an
experiment column and readable cells, `traces get` as a span tree (and raw with --format json),
listings as real JSON, and runs named by id, short id or name."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner
from otlp_builders import hex_id, make_request, make_span, new_trace_id

import spyglass
from spyglass import session
from spyglass.cli import cli
from spyglass.evaluator import evaluate
from spyglass.evaluator.scorers import scorer

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _export_support_trace(address: str) -> str:
    """A CHAIN span with an LLM child (model, tokens, inputs, outputs) in experiment
    support-bot; returns the trace id."""
    trace = new_trace_id()
    root = make_span(
        "answer",
        trace,
        attributes={
            "openinference.span.kind": "CHAIN",
            "input.value": "How long is shipping?",
            "output.value": "Shipping takes 3-5 business days.",
        },
        duration_ns=1_250_000_000,
    )
    llm = make_span(
        "ChatCompletion",
        trace,
        parent=root,
        start_ns=root.start_time_unix_nano + 100_000_000,
        duration_ns=800_000_000,
        attributes={
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-mini",
            "llm.provider": "openai",
            "llm.token_count.prompt": 1200,
            "llm.token_count.completion": 34,
            "input.value": "user: How long is shipping?",
            "output.value": "3-5 business days",
        },
    )
    export = grpc.insecure_channel(address).unary_unary(EXPORT)
    request = make_request([root, llm], resource={"service.name": "support-bot"})
    export(request.SerializeToString(), timeout=30)
    return hex_id(trace)


def test_traces_search_and_get_read_well(start_collector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector = start_collector(f"sqlite:///{tmp_path / 'views.db'}")
    address = f"127.0.0.1:{collector.grpc_port}"
    trace_id = _export_support_trace(address)
    runner = CliRunner()

    # no -e: every experiment, not just the (empty) default one
    table = runner.invoke(cli, ["traces", "search", "--collector", address])
    assert table.exit_code == 0, table.output
    header, row = table.output.splitlines()
    assert header.split() == [
        "trace_id",
        "experiment",
        "name",
        "state",
        "started",
        "duration",
        "spans",
        "tokens",
        "cost",
        "request",
        "response",
        "tags",
    ]
    assert row.split()[:4] == [trace_id, "support-bot", "answer", "OK"]
    assert "(just now)" in row or " s ago)" in row
    assert "1.25 s" in row and "1,234" in row
    assert "How long is shipping?" in row and "Shipping takes 3-5 business days." in row

    (found,) = json.loads(
        runner.invoke(cli, ["traces", "search", "--collector", address, "--format", "json"]).output
    )
    assert found["experiment"] == "support-bot" and found["tags"] == {}
    assert (found["duration_ms"], found["spans"], found["tokens"]) == (1250, 2, 1234)
    assert isinstance(found["cost"], float) and found["cost"] > 0
    assert found["request_time"].endswith("Z") and found["request"] == "How long is shipping?"
    assert f"${found['cost']:.7f}".rstrip("0").startswith("$0.000")  # never rounded to $0.00

    tree = runner.invoke(cli, ["traces", "get", "--collector", address, trace_id])
    assert tree.exit_code == 0, tree.output
    lines = tree.output.splitlines()
    assert lines[0] == f"trace {trace_id}  answer  OK"
    assert "duration 1.25 s" in lines[1] and "1,234 tokens (1,200 in, 34 out)" in lines[1]
    assert "experiment support-bot" in lines[1]
    assert lines[2].startswith("└── answer  [CHAIN]  1.25 s")
    assert lines[3].endswith("├── in  How long is shipping?")
    assert lines[4].endswith("├── out Shipping takes 3-5 business days.")
    assert "ChatCompletion  [LLM]  800 ms" in lines[5] and "gpt-4o-mini" in lines[5]
    assert "1,234 tokens (1,200 in, 34 out)" in lines[5]
    assert lines[5].index("ChatCompletion") > lines[2].index("answer")  # nested under it
    assert lines[6].endswith("├── in  user: How long is shipping?")
    assert lines[7].endswith("└── out 3-5 business days")

    raw = json.loads(
        runner.invoke(
            cli, ["traces", "get", "--collector", address, trace_id, "--format", "json"]
        ).output
    )
    assert raw["info"]["trace_id"] == trace_id and len(raw["data"]["spans"]) == 2

    listed = json.loads(
        runner.invoke(
            cli, ["experiments", "list", "--collector", address, "--format", "json"]
        ).output
    )
    assert {e["name"] for e in listed} == {"Default", "support-bot"}
    assert all(e["created"].endswith("Z") and e["tags"] == {} for e in listed)


@scorer
def says_days(outputs: str) -> float:
    return 1.0 if "days" in outputs else 0.0


def test_runs_are_named_by_id_short_id_or_name(start_collector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector = start_collector(f"sqlite:///{tmp_path / 'runs.db'}")
    address = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=address)
    try:
        spyglass.set_experiment("named runs")
        data = [{"inputs": {"q": "shipping?"}, "outputs": "3 days"}]
        first = evaluate(data, [says_days], run_name="nightly")
        second = evaluate(data, [says_days], run_name="nightly")
        other = evaluate(data, [says_days], run_name="weekly")
        runner = CliRunner()

        listed = runner.invoke(cli, ["eval", "list", "--collector", address])
        assert listed.exit_code == 0, listed.output
        short_ids = [line.split()[0] for line in listed.output.splitlines()[1:]]
        assert short_ids == [r.run_id[:8] for r in (other, second, first)]
        rows = json.loads(
            runner.invoke(cli, ["eval", "list", "--collector", address, "--format", "json"]).output
        )
        assert rows[0]["run_id"] == other.run_id
        assert rows[0]["metrics"]["says_days/score"] == 1.0  # a number, not text

        def shown_run(ref: str) -> str:
            result = runner.invoke(
                cli, ["eval", "show", ref, "--collector", address, "--format", "json"]
            )
            assert result.exit_code == 0, (ref, result.output, result.exception)
            run_id: str = json.loads(result.stdout)["run"]["run_id"]
            return run_id

        assert shown_run(first.run_id) == first.run_id
        assert shown_run(first.run_id[:8]) == first.run_id
        assert shown_run("weekly") == other.run_id
        newest = runner.invoke(cli, ["eval", "show", "nightly", "--collector", address])
        assert newest.exit_code == 0 and f"run        {second.run_id}" in newest.stdout
        assert "several runs are named 'nightly'" in newest.stderr

        compared = runner.invoke(
            cli,
            [
                "eval",
                "compare",
                first.run_id[:8],
                "weekly",
                "--format",
                "json",
                "--collector",
                address,
            ],
        )
        assert compared.exit_code == 0, compared.output
        report = json.loads(compared.output)
        assert (report["run_a"], report["run_b"]) == (first.run_id, other.run_id)
        assert isinstance(report["metrics"][0]["a"], float)

        missing = runner.invoke(cli, ["eval", "show", "no-such-run", "--collector", address])
        assert missing.exit_code == 1
        assert "no evaluation run has the id or name 'no-such-run'" in missing.stderr
        assert "spyglass eval list" in missing.stderr
    finally:
        session._shutdown()


@pytest.mark.parametrize("command", [["eval", "jobs"], ["monitors", "list"], ["datasets", "list"]])
def test_every_listing_speaks_json_and_csv(
    start_collector,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    command: list[str],
) -> None:
    collector = start_collector(f"sqlite:///{tmp_path / 'lists.db'}")
    address = f"127.0.0.1:{collector.grpc_port}"
    runner = CliRunner()
    for fmt, expected in (("json", "[]"), ("table", "(none)")):
        result = runner.invoke(cli, [*command, "--collector", address, "--format", fmt])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == expected
    csv_out = runner.invoke(cli, [*command, "--collector", address, "--format", "csv"])
    assert csv_out.exit_code == 0 and "," in csv_out.output.splitlines()[0]
