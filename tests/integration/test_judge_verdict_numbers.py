"""A judge's "yes"/"no" stored as a number: ``evaluate()`` with a real judge (the local
OpenAI-compatible server) against a real collector, then the verdicts found through a numeric
feedback filter of ``search_traces`` and shown with their label by ``spyglass eval show``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner

import spyglass
from spyglass import session
from spyglass.cli import cli
from spyglass.evaluator import evaluate, get_evaluation_results
from spyglass.evaluator.scorers import Correctness
from spyglass.evaluator.scorers.judges import endpoints
from spyglass.local_llm import DONT_KNOW, LocalLLM
from spyglass.score_labels import LABEL_METADATA

GOOD = "Based on the available information: Full refunds within 30 days with receipt."
ANSWERS = {"refund": GOOD, "returns": DONT_KNOW, "receipt": GOOD, "warranty": DONT_KNOW}


@pytest.fixture
def judged(
    start_collector: Callable[..., Any], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The collector's gRPC address, the facade pointed at it, the local judge server set."""
    collector = start_collector(f"sqlite:///{tmp_path / 'verdicts.db'}")
    address = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=address)
    spyglass.set_experiment("Verdicts")
    with LocalLLM() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
        monkeypatch.delenv("SPYGLASS_JUDGE_RATE_LIMIT", raising=False)
        monkeypatch.delenv("SPYGLASS_JUDGE_MODEL", raising=False)
        yield address
        endpoints.reset()
    session._shutdown()


def answer(topic: str) -> str:
    return ANSWERS[topic]


def test_judge_verdicts_filter_as_numbers_and_show_their_label(judged: str) -> None:
    data = [
        {"inputs": {"topic": t}, "expectations": {"expected_facts": ["30 days", "receipt"]}}
        for t in ANSWERS
    ]
    result = evaluate(data, scorers=[Correctness(name="accurate")], predict_fn=answer)
    table = result.tables["eval_results_table"].set_index("inputs.topic")
    # evaluate()'s own table keeps the judge's words
    assert table.loc["refund", "accurate/value"] == "yes"
    assert table.loc["returns", "accurate/value"] == "no"

    # stored: the number as the value, the verdict in the metadata
    stored = {r.inputs["topic"]: r for r in get_evaluation_results(result.run_id)}
    no = stored["returns"].scores[0]
    assert (no.value, no.score, no.metadata[LABEL_METADATA]) == (0.0, 0.0, "no")
    assert stored["refund"].scores[0].metadata[LABEL_METADATA] == "yes"

    spyglass.flush()
    failing = spyglass.search_traces(filter_string="feedback.accurate < 0.5", return_type="list")
    assert sorted(t.info.trace_id for t in failing) == sorted(
        stored[t].trace_id for t in ("returns", "warranty")
    )
    passing = spyglass.search_traces(filter_string="feedback.accurate >= 0.5", return_type="list")
    assert len(passing) == 2
    feedback = next(a for a in failing[0].info.assessments if a.name == "accurate")
    assert feedback.value == 0.0 and feedback.metadata[LABEL_METADATA] == "no"

    shown = CliRunner().invoke(
        cli, ["eval", "show", result.run_id, "--collector", judged], catch_exceptions=False
    )
    assert shown.exit_code == 0, shown.output
    assert "0.000 (no)" in shown.output and "1.000 (yes)" in shown.output
