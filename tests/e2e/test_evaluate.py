"""evaluate() end to end through the facade, embedded and against a collector on PostgreSQL.

Proves that with predict_fn (sync, async, @trace-decorated) every row gets exactly one trace
holding the row's inputs, outputs, expectations and feedback; that without predict_fn rows
given as dicts get a trace of their own and rows given as traces are scored on those traces;
that a scorer's exception or a failing predict_fn is a per-row error; that judges on the local
OpenAI-compatible server score with LLM_JUDGE feedback and the run reports their tokens and
cost; that scorers reading ``trace`` get the row's stored trace; that the run is stored and can
be listed, shown and compared, also from the CLI.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator

import openai
import pytest
from click.testing import CliRunner

import spyglass
from spyglass import session
from spyglass.cli import cli
from spyglass.errors import InvalidArgumentError, NotFoundError
from spyglass.evaluator import (
    compare_runs,
    evaluate,
    get_evaluation_results,
    get_evaluation_run,
    search_evaluation_runs,
)
from spyglass.evaluator.results import ScorerErrorsWarning
from spyglass.evaluator.scorers import Correctness, Feedback, Guidelines, scorer
from spyglass.local_llm import LocalLLM

RUN_METADATA = "spyglass.evaluation_run_id"
DATA = [
    {
        "inputs": {"question": "How do I get a refund?"},
        "expectations": {"must_mention": ["refund"]},
    },
    {"inputs": {"question": "How long is shipping?"}, "expectations": {"must_mention": ["week"]}},
    {"inputs": {"question": "Is there a warranty?"}},
]


@scorer
def mentions(outputs: str, expectations: dict) -> float:  # type: ignore[type-arg]
    terms = expectations.get("must_mention")
    if not terms:
        return 1.0
    return sum(t in outputs for t in terms) / len(terms)


@scorer
def answer_length(outputs: str) -> int:
    return len(outputs)


@scorer
def fragile(inputs: dict) -> Feedback:  # type: ignore[type-arg]
    if "warranty" in inputs["question"]:
        raise KeyError("no warranty policy")
    return Feedback(value="ok", rationale="looked fine")


def run_traces(run_id: str) -> list[spyglass.Trace]:
    return spyglass.search_traces(
        filter_string=f"metadata.`{RUN_METADATA}` = '{run_id}'", return_type="list"
    )


@spyglass.trace
def answer(question: str) -> str:
    return f"Our policy on '{question}': refunds within 30 days"


def test_predict_fn_rows_each_get_one_trace_with_their_feedback(spyglass_session: str) -> None:
    spyglass.set_experiment("eval e2e")
    result = evaluate(
        DATA,
        [mentions, answer_length, fragile],
        predict_fn=answer,
        model_id="bot-v1",
        run_name="first",
        aggregations=["min", "error_count"],
    )
    table = result.tables["eval_results_table"]
    assert list(table["inputs.question"]) == [d["inputs"]["question"] for d in DATA]
    assert table["mentions/score"].tolist() == [1.0, 0.0, 1.0]
    assert result.metrics["mentions/score"] == pytest.approx(2 / 3)
    assert result.metrics["mentions/min"] == 0.0
    assert result.metrics["fragile/error_count"] == 1.0
    assert "no warranty policy" in table.loc[2, "fragile/error"]
    assert table.loc[0, "fragile/value"] == "ok" and math.isnan(table.loc[2, "fragile/score"])

    traces = {t.info.trace_id: t for t in run_traces(result.run_id)}
    assert set(traces) == set(table["trace_id"]) and len(traces) == 3  # one trace per row
    first = traces[table.loc[0, "trace_id"]]
    root = first.data.root_span
    assert (root.name, root.span_type, root.inputs) == ("answer", "CHAIN", DATA[0]["inputs"])
    (child,) = [s for s in first.data.spans if s.parent_id == root.span_id]
    assert child.name == "answer" and child.outputs == table.loc[0, "outputs"]
    assert root.outputs == table.loc[0, "outputs"]
    assert first.info.expectations == {"must_mention": ["refund"]}
    feedback = {a.name: a for a in first.info.assessments if a.name != "must_mention"}
    assert set(feedback) == {"mentions", "answer_length", "fragile"}
    assert feedback["fragile"].rationale == "looked fine"
    assert {a.run_id for a in feedback.values()} == {result.run_id}
    assert feedback["mentions"].source.source_type == "CODE"
    assert feedback["mentions"].source.source_id == "mentions"
    failed = [a for a in traces[table.loc[2, "trace_id"]].info.assessments if a.name == "fragile"]
    assert failed[0].error.error_code == "KeyError" and failed[0].value is None

    found = spyglass.search_traces(filter_string="feedback.mentions < 0.5", return_type="list")
    assert [t.info.trace_id for t in found] == [table.loc[1, "trace_id"]]
    run = get_evaluation_run(result.run_id)
    assert (run.name, run.model_id, run.status, run.record_count) == (
        "first",
        "bot-v1",
        "FINISHED",
        3,
    )
    assert run.metrics["mentions/score"] == pytest.approx(2 / 3)
    assert [s["name"] for s in run.scorers] == ["mentions", "answer_length", "fragile"]
    assert run.experiment_id == spyglass.get_experiment_by_name("eval e2e").experiment_id
    records = get_evaluation_results(result.run_id)
    assert [r.trace_id for r in records] == list(table["trace_id"])
    assert records[2].scores[1].name == "fragile" and records[2].scores[1].error is not None


def test_async_predict_fn_and_a_failing_one(spyglass_session: str) -> None:
    async def answer_later(question: str) -> str:
        await asyncio.sleep(0.01)
        inner = spyglass.get_current_active_span()
        return f"{question} -> in span {inner.span_id if inner else None}"

    result = evaluate(DATA, [answer_length], predict_fn=answer_later, max_workers=2)
    table = result.tables["eval_results_table"]
    traces = {t.info.trace_id: t for t in run_traces(result.run_id)}
    for row in table.itertuples():
        root = traces[row.trace_id].data.root_span
        assert row.outputs.endswith(f"in span {root.span_id}")  # awaited inside the row's span
        assert root.outputs == row.outputs

    def broken(question: str) -> str:
        if "shipping" in question:
            raise TimeoutError("backend slow")
        return "fine"

    with pytest.warns(ScorerErrorsWarning) as warned:
        result = evaluate(DATA, [answer_length], predict_fn=broken)
    [warning] = warned.list  # one per scorer that failed, however many rows
    assert str(warning.message).startswith("scorer 'answer_length' failed on 1 of 3 row(s)")
    assert "first error (row 2): PredictError: not scored: predict_fn raised TimeoutError" in str(
        warning.message
    )
    assert warning.filename == __file__  # it points at the evaluate() call
    assert "answer_length=n/a" not in repr(result)
    assert "(2 scored, 1 error)" in repr(result)
    table = result.tables["eval_results_table"]
    assert "predict_fn raised TimeoutError: backend slow" in table.loc[1, "answer_length/error"]
    assert table["answer_length/score"].isna().tolist() == [False, True, False]
    broken_trace = spyglass.get_trace(table.loc[1, "trace_id"])
    assert broken_trace.info.state == "ERROR"
    with pytest.raises(
        InvalidArgumentError,
        match=r"inputs keys \['q'\], which does not fit broken\(question"
        r".*missing a required argument: 'question'",
    ):
        evaluate([{"inputs": {"q": 1}}], [answer_length], predict_fn=broken)


def test_without_predict_fn_dicts_get_traces_and_traces_get_feedback(spyglass_session: str) -> None:
    spyglass.set_experiment("scored later")
    rows = [
        {
            "inputs": {"question": "refund?"},
            "outputs": "a refund takes 5 days",
            "expectations": {"must_mention": ["days"]},
        },
        {"inputs": {"question": "shipping?"}, "outputs": "no idea"},
    ]
    first = evaluate(rows, [mentions])
    table = first.tables["eval_results_table"]
    assert table["mentions/score"].tolist() == [1.0, 1.0]
    made = {t.info.trace_id: t for t in run_traces(first.run_id)}
    assert set(made) == set(table["trace_id"])
    assert made[table.loc[0, "trace_id"]].data.root_span.outputs == "a refund takes 5 days"

    traces = spyglass.search_traces(return_type="list")
    before = len(traces)
    second = evaluate(traces, [answer_length, mentions], model_id="rescore")
    table = second.tables["eval_results_table"]
    assert set(table["trace_id"]) == {t.info.trace_id for t in traces}
    assert len(spyglass.search_traces(return_type="list")) == before  # no new traces
    rescored = spyglass.search_traces(
        filter_string="feedback.answer_length >= 7", return_type="list"
    )
    assert {t.info.trace_id for t in rescored} == {t.info.trace_id for t in traces}
    for trace in spyglass.search_traces(return_type="list"):
        names = [
            a.name for a in trace.info.assessments if getattr(a, "run_id", None) == second.run_id
        ]
        assert sorted(names) == ["answer_length", "mentions"]  # and no expectation copies
    frame = evaluate(spyglass.search_traces(), [answer_length])  # search_traces' DataFrame
    assert set(frame.tables["eval_results_table"]["trace_id"]) == set(table["trace_id"])


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalLLM]:
    with LocalLLM() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-evaluate")
        spyglass.openai.autolog()
        yield server
    spyglass.openai.autolog(disable=True)


def test_judges_scorers_reading_traces_and_compare(spyglass_session: str, llm: LocalLLM) -> None:
    spyglass.set_experiment("judged")
    client = openai.OpenAI()

    @spyglass.trace
    def bot(question: str) -> str:
        context = "Full refunds within 30 days with receipt." if "refund" in question else ""
        r = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"Context: {context}\n\nQuestion: {question}"}],
        )
        return r.choices[0].message.content

    @scorer
    def span_count(trace: spyglass.Trace) -> int:
        return len(trace.data.spans)

    data = [
        {
            "inputs": {"question": "How do I get a refund?"},
            "expectations": {"expected_facts": ["30 days"]},
        },
        {"inputs": {"question": "Do you sell gift cards?"}},
    ]
    scorers = [
        Correctness(name="factual_accuracy"),
        Guidelines(name="quality", guidelines="Answer politely."),
        span_count,
    ]
    v1 = evaluate(data, scorers, predict_fn=bot, model_id="bot-v1")
    table = v1.tables["eval_results_table"]
    assert table.loc[0, "factual_accuracy/value"] in ("yes", "no")
    assert table.loc[0, "factual_accuracy/score"] in (0.0, 1.0)
    assert "expected_response or expected_facts" in table.loc[1, "factual_accuracy/error"]
    assert table["quality/score"].notna().all() and table["quality/rationale"].notna().all()
    # the row's stored trace: its root, bot's span, the autologged chat call; the judges'
    # calls are traces of their own
    assert table["span_count/score"].tolist() == [3.0, 3.0]
    run = get_evaluation_run(v1.run_id)
    assert run.judge_input_tokens > 0 and run.judge_output_tokens > 0
    assert run.judge_cost is not None and run.judge_cost > 0  # gpt-4o-mini has a price
    assert [u["model"] for u in run.judge_usage] == ["gpt-4o-mini"]
    judged = spyglass.get_trace(table.loc[0, "trace_id"])
    quality = next(a for a in judged.info.assessments if a.name == "quality")
    assert quality.source.source_type == "LLM_JUDGE"
    assert quality.source.source_id == "openai:/gpt-4o-mini"

    llm.responder = lambda path, body: "I don't know" if "response_format" not in body else None
    v2 = evaluate(data, scorers, predict_fn=bot, model_id="bot-v2")
    comparison = compare_runs(v1.run_id, v2.run_id)
    assert comparison.matched_records == 2 and comparison.only_in_a == 0
    assert set(comparison.metric_deltas) >= {
        "quality/score",
        "factual_accuracy/score",
        "span_count/score",
    }
    assert comparison.metric_deltas["span_count/score"] == 0.0
    assert "quality/score" in str(comparison)
    if v1.metrics["quality/score"] != v2.metrics["quality/score"]:
        assert "quality" in set(comparison.changed["score_name"])
    assert [r.model_id for r in search_evaluation_runs(model_id="bot-v2")] == ["bot-v2"]
    assert {r.run_id for r in search_evaluation_runs(experiment_ids=[run.experiment_id])} == {
        v1.run_id,
        v2.run_id,
    }
    with pytest.raises(NotFoundError):
        get_evaluation_run("0" * 32)


def test_cli_lists_shows_and_compares_runs(start_collector, store_url: str) -> None:  # type: ignore[no-untyped-def]
    collector = start_collector(store_url)
    address = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=address)
    try:
        spyglass.set_experiment("cli runs")
        v1 = evaluate(DATA, [mentions], predict_fn=answer, model_id="bot-v1")
        v2 = evaluate(
            DATA[:2],
            [mentions],
            predict_fn=lambda question: "a refund within a week",
            model_id="bot-v2",
        )
        runner = CliRunner()
        listed = runner.invoke(cli, ["eval", "list", "--collector", address, "--format", "json"])
        assert listed.exit_code == 0, listed.output
        rows = json.loads(listed.output)
        assert [r["run_id"] for r in rows] == [v2.run_id, v1.run_id]
        assert rows[1]["metrics"]["mentions/count"] == 3 and rows[1]["records"] == 3
        listed = runner.invoke(cli, ["eval", "list", "--collector", address])
        assert "mentions=0.667 (3 scored, 0 errors)" in listed.output, listed.output
        only_v1 = runner.invoke(
            cli, ["eval", "list", "--collector", address, "--model-id", "bot-v1", "-e", "cli runs"]
        )
        assert v1.run_id[:8] in only_v1.output and v2.run_id[:8] not in only_v1.output

        shown = runner.invoke(cli, ["eval", "show", v1.run_id, "--collector", address])
        assert shown.exit_code == 0, shown.output
        assert "model_id   bot-v1" in shown.output and "mentions/score" in shown.output
        assert "0.667 (3 scored, 0 errors)" in shown.output  # the mean beside its rows
        assert "How long is shipping?" in shown.output
        as_json = json.loads(
            runner.invoke(
                cli, ["eval", "show", v1.run_id, "--collector", address, "--format", "json"]
            ).output
        )
        assert as_json["run"]["run_id"] == v1.run_id and len(as_json["records"]) == 3

        compared = runner.invoke(
            cli,
            ["eval", "compare", v1.run_id, v2.run_id, "--collector", address, "--format", "json"],
        )
        assert compared.exit_code == 0, compared.output
        report = json.loads(compared.output)
        delta = {m["metric"]: m["delta"] for m in report["metrics"]}
        assert delta["mentions/score"] == pytest.approx(1.0 - 2 / 3)
        assert [c["score"] for c in report["changed"]] == ["mentions"]  # shipping: 0 → 1
        table = runner.invoke(
            cli, ["eval", "compare", v1.run_id, v2.run_id, "--collector", address]
        )
        assert "2 matched, 1 only in A, 0 only in B" in table.output
        assert "0.667 (3 scored, 0 errors) → 1.000 (2 scored, 0 errors)" in table.output
        missing = runner.invoke(cli, ["eval", "show", "f" * 32, "--collector", address])
        assert missing.exit_code != 0
    finally:
        session._shutdown()


class Stop(BaseException):
    """Not an Exception: stands for Ctrl-C inside a row."""


def test_interrupted_and_unwritable_runs_are_marked_failed(spyglass_session: str) -> None:
    spyglass.set_experiment("failing runs")

    def interrupted(question: str) -> str:
        raise Stop()

    with pytest.raises(Stop):
        evaluate(DATA, [answer_length], predict_fn=interrupted, model_id="stopped")
    (stopped,) = search_evaluation_runs(model_id="stopped")
    assert stopped.status == "FAILED" and stopped.error_message.startswith("Stop")

    @scorer
    def long_named(outputs: str) -> Feedback:
        return Feedback(name="n" * 260, value=1.0)  # the collector refuses names over 256

    result = evaluate(DATA, [long_named], predict_fn=answer, model_id="unwritable")
    assert result.metrics["n" * 260 + "/score"] == 1.0  # the results are still returned
    run = get_evaluation_run(result.run_id)
    assert run.status == "FAILED" and run.record_count == 0
    assert "write-back failed" in run.error_message and "at most 256" in run.error_message
