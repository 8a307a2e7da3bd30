"""The CLI's trace and experiment commands against a running collector, and two processes
that each embed a collector over the same SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner
from otlp_builders import hex_id, make_request, make_span, new_trace_id

from spyglass.cli import cli

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _seed(collector, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    import grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    export = channel.unary_unary(EXPORT)
    ids = []
    for i in range(n):
        trace = new_trace_id()
        export(
            make_request(
                [make_span(f"job-{i}", trace)], resource={"service.name": "cli-app"}
            ).SerializeToString(),
            timeout=30,
        )
        ids.append(hex_id(trace))
    return ids


def test_traces_and_experiments_commands(start_collector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collector = start_collector(f"sqlite:///{tmp_path / 'cli.db'}")
    address = f"127.0.0.1:{collector.grpc_port}"
    ids = _seed(collector, 3)
    runner = CliRunner()

    listed = runner.invoke(cli, ["experiments", "list", "--collector", address, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert {"Default", "cli-app"} <= {e["name"] for e in json.loads(listed.output)}

    found = runner.invoke(
        cli,
        [
            "traces",
            "search",
            "--collector",
            address,
            "-e",
            "cli-app",
            "--format",
            "json",
            "--filter",
            "attributes.name LIKE 'job-%'",
        ],
    )
    assert found.exit_code == 0, found.output
    assert [t["trace_id"] for t in json.loads(found.output)] == ids[::-1]

    table = runner.invoke(
        cli, ["traces", "search", "--collector", address, "-e", "cli-app", "--limit", "1"]
    )
    header, *rows = table.output.splitlines()
    assert header.split()[:4] == ["trace_id", "experiment", "name", "state"]
    assert len(rows) == 1 and rows[0].split()[:4] == [ids[-1], "cli-app", "job-2", "OK"]

    everywhere = runner.invoke(cli, ["traces", "search", "--collector", address])
    assert everywhere.exit_code == 0, everywhere.output
    found_rows = everywhere.output.splitlines()[1:]
    assert [r.split()[:2] for r in found_rows] == [[i, "cli-app"] for i in ids[::-1]]

    csv_out = runner.invoke(
        cli, ["traces", "search", "--collector", address, "-e", "cli-app", "--format", "csv"]
    )
    assert csv_out.output.splitlines()[0].startswith("trace_id,experiment,name,state")

    shown = runner.invoke(
        cli, ["traces", "get", "--collector", address, ids[0], "--format", "json"]
    )
    assert json.loads(shown.output)["info"]["trace_id"] == ids[0]
    tree = runner.invoke(cli, ["traces", "get", "--collector", address, ids[0]])
    assert tree.exit_code == 0, tree.output
    assert tree.output.startswith(f"trace {ids[0]}  job-0  OK")
    assert "experiment cli-app" in tree.output
    assert "job-0  [UNKNOWN]" in tree.output.splitlines()[2]

    bad = runner.invoke(
        cli, ["traces", "search", "--collector", address, "-e", "cli-app", "--filter", "tags.x = "]
    )
    assert bad.exit_code != 0 and "^" in bad.output

    deleted = runner.invoke(cli, ["traces", "delete", "--collector", address, ids[0]])
    assert deleted.output.strip() == "deleted 1 trace(s)"
    missing = runner.invoke(cli, ["traces", "get", "--collector", address, ids[0]])
    assert missing.exit_code != 0 and "not found" in missing.output


SCRIPT = textwrap.dedent("""
    import json, sys
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    import spyglass
    from spyglass import session
    experiment = spyglass.set_experiment("shared")
    port = session.embedded_collector().grpc_port
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(
        OTLPSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True)))
    tracer = provider.get_tracer("p")
    for i in range(20):
        with tracer.start_as_current_span(f"{sys.argv[1]}-{i}") as span:
            span.set_attribute("spyglass.experiment_id", experiment.experiment_id)
    provider.shutdown()
    print(len(spyglass.search_traces(return_type="list")))
""")


def test_two_processes_embed_collectors_over_one_sqlite_file(tmp_path: Path) -> None:
    env = {**__import__("os").environ, "SPYGLASS_STORE": f"sqlite:///{tmp_path / 'shared.db'}"}
    env.pop("SPYGLASS_COLLECTOR", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, name],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    counts = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err  # the embedded collector stops cleanly at exit
        counts.append(int(out.strip().splitlines()[-1]))
    assert all(20 <= c <= 40 for c in counts)  # each sees its own 20, maybe the other's too
    final = subprocess.run(
        [
            sys.executable,
            "-c",
            "import spyglass; spyglass.set_experiment("
            "'shared'); print(len(spyglass.search_traces(return_type='list')))",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert final.returncode == 0, final.stderr
    assert final.stdout.strip() == "40"
