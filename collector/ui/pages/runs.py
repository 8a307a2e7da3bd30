"""Evaluation runs: an experiment's list of runs (``/experiments/{id}/runs``), one run's
results table (``/runs/{run_id}``) and two runs compared (``/runs/compare?a=&b=``).

Everything comes from EvaluationService (SearchEvaluationRuns, GetEvaluationRun,
ListEvaluationResults); matching records and deciding what changed is
:mod:`spyglass.run_comparison`, the same code as the SDK's ``compare_runs``. A run's records
are read whole (every page of ListEvaluationResults), filtered and sorted here, and shown a
page at a time; inputs, outputs and expectations are parsed, and outputs diffed, only for
the rows shown.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.ui.app import Ui, ui_of
from spyglass.collector.ui.pages.experiments import SEARCH_LIMIT, experiment_of
from spyglass.entities import AssessmentError, EvaluationRecord, EvaluationScore, json_or_text
from spyglass.gc_pause import gc_paused
from spyglass.run_comparison import ScoreChange, match_records, metric_deltas, score_changes
from spyglass.score_labels import label_of, score_text
from spyglass.score_means import ScoreMean, mean_text, score_means
from spyglass.v1 import evaluation_pb2, experiments_pb2

PAGE_ROWS = 200  # records per page of a run
COMPARE_ROWS = 100  # matched pairs per page of a comparison (each with its output diff)
RESULTS_PAGE = 1000  # ListEvaluationResults' largest page
FAIL_BELOW = 0.5  # default: a score below this is a failure ("only failures")
SHOWS = ("all", "failed", "errors", "passed")  # a run's row filters for one scorer
COMPARE_SHOWS = ("all", "changed", "regressions")
DIFF_CHARS = 20_000  # longer outputs are diffed on their first characters only
_WORDS = re.compile(r"\s+|[^\s]+")


# -- the list ----------------------------------------------------------------------------------


async def runs_page(request: Request) -> Response:
    ui = ui_of(request)
    experiment = await experiment_of(request)
    found = await ui.call(
        "EvaluationService",
        "SearchEvaluationRuns",
        evaluation_pb2.SearchEvaluationRunsRequest(
            experiment_ids=[experiment.experiment_id], max_results=SEARCH_LIMIT
        ),
    )
    runs = [(run, *_metrics(run)) for run in found.runs]
    return ui.render(
        request,
        "runs.html",
        {"experiment": experiment, "runs": runs, "tab": "runs", "problem": None},
    )


def _metrics(
    run: evaluation_pb2.EvaluationRun,
) -> tuple[list[ScoreMean], list[tuple[str, float]]]:
    """A run's score means (each with its scored and error counts; in the order of its
    scorers) and its other metrics."""
    metrics = dict(run.metrics)
    order = {s.name: n for n, s in enumerate(run.scorers)}
    means = sorted(score_means(metrics), key=lambda m: (order.get(m.name, len(order)), m.name))
    shown = {f"{m.name}/{part}" for m in means for part in ("score", "count", "error_count")}
    return means, sorted((k, v) for k, v in metrics.items() if k not in shown)


# -- one run -----------------------------------------------------------------------------------


@dataclass
class ScoreCell:
    """One scorer's result on one record, as the table shows it."""

    score: EvaluationScore | None
    label: str | None = None  # a verdict's "yes"/"no" beside its number
    value: str = ""  # the value as text ("" when none)

    @property
    def error(self) -> bool:
        return self.score is not None and self.score.error is not None

    @property
    def number(self) -> float | None:
        return None if self.score is None else self.score.score


@dataclass
class RecordRow:
    """A record with its scores by scorer name."""

    record: EvaluationRecord
    cells: dict[str, ScoreCell] = field(default_factory=dict)


async def run_page(request: Request) -> Response:
    ui = ui_of(request)
    run = await _run(ui, request.path_params["run_id"])
    experiment = await _experiment(ui, run.experiment_id)
    found = await all_records(ui, run.run_id)
    records = found.records
    names = _score_names(run, records)
    q = request.query_params
    scorer = q.get("scorer", "")
    show = q.get("show", "all")
    sort = q.get("sort", "")
    order = "desc" if q.get("order") == "desc" else "asc"
    problem = None
    try:
        below = float(q.get("below") or FAIL_BELOW)
        if not math.isfinite(below):
            raise ValueError
    except ValueError:
        problem, below = (
            f"“{q.get('below')}” is not a number: give a score such as 0.5.",
            FAIL_BELOW,
        )
    if show not in SHOWS:
        show = "all"
    if scorer not in names:
        scorer = ""
    with gc_paused():
        rows = [_record_row(r, names) for r in records]
    if scorer and show != "all":
        rows = [r for r in rows if _keeps(r.cells[scorer], show, below)]
    if sort in names:
        rows = _sorted(rows, sort, descending=order == "desc")
    page, pages, shown = _page_of(rows, q.get("page"))
    found.fill([r.record for r in shown])
    context = {
        "experiment": experiment,
        "tab": "runs",
        "run": run,
        "means": _metrics(run),
        "names": names,
        "rows": shown,
        "total": len(records),
        "matching": len(rows),
        "page": page,
        "pages": pages,
        "scorer": scorer,
        "show": show,
        "below": below,
        "sort": sort if sort in names else "",
        "order": order,
        "problem": problem,
        "query": _query_without_page(q),
        "text_of": text_of,
        "short_text": short_text,
    }
    return ui.render(request, "run.html", context)


def _record_row(record: EvaluationRecord, names: list[str]) -> RecordRow:
    by_name = {s.name: s for s in record.scores}
    return RecordRow(record, {n: _cell(by_name.get(n)) for n in names})


def _cell(score: EvaluationScore | None) -> ScoreCell:
    if score is None:
        return ScoreCell(None)
    label = label_of(score.metadata)
    return ScoreCell(score, label, "" if score.value is None else text_of(score.value))


def _keeps(cell: ScoreCell, show: str, below: float) -> bool:
    """Whether a record stays under the filter ``show`` of one scorer."""
    if show == "errors":
        return cell.error
    if cell.score is None:
        return False
    number = cell.number
    if show == "failed":
        return cell.error or (number is not None and number < below)
    return not cell.error and number is not None and number >= below  # passed


def _sorted(rows: list[RecordRow], name: str, descending: bool) -> list[RecordRow]:
    """By the scorer's score; records without one (errors, not scored) last either way."""
    scored = [r for r in rows if r.cells[name].number is not None and not r.cells[name].error]
    rest = [r for r in rows if r not in scored] if len(scored) != len(rows) else []
    scored.sort(key=lambda r: r.cells[name].number or 0.0, reverse=descending)
    return scored + rest


# -- two runs ----------------------------------------------------------------------------------


@dataclass
class ComparedRow:
    """A matched pair of records: both outputs (diffed when shown) and each score's change."""

    a: EvaluationRecord
    b: EvaluationRecord
    changes: list[ScoreChange]
    diff_a: list[tuple[str, str]] = field(default_factory=list)  # (kind, text) spans
    diff_b: list[tuple[str, str]] = field(default_factory=list)

    def change(self, name: str) -> ScoreChange | None:
        return next((c for c in self.changes if c.name == name), None)

    def shown(self, name: str) -> tuple[str, str]:
        """Each side's score for people: ``0.000 (no)`` for a verdict, else the value."""
        return _shown(self.a, name), _shown(self.b, name)

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.changes)

    @property
    def regression(self) -> bool:
        return any(c.regression for c in self.changes)


async def compare_page(request: Request) -> Response:
    ui = ui_of(request)
    q = request.query_params
    picked = q.getlist("run")
    if picked and not (q.get("a") or q.get("b")):
        if len(picked) != 2:
            raise HTTPException(
                400, f"Select exactly two runs to compare ({len(picked)} selected)."
            )
        return RedirectResponse("/runs/compare?" + urlencode(await _ordered(ui, picked)), 302)
    if not q.get("a") or not q.get("b"):
        raise HTTPException(400, "Give two runs to compare: /runs/compare?a=<run id>&b=<run id>.")
    run_a, run_b = await asyncio.gather(_run(ui, q["a"]), _run(ui, q["b"]))
    experiment = await _experiment(ui, run_b.experiment_id)
    found_a, found_b = await asyncio.gather(
        all_records(ui, run_a.run_id), all_records(ui, run_b.run_id)
    )
    with gc_paused():
        pairs, only_a, only_b = match_records(found_a.records, found_b.records)
        compared = [ComparedRow(a, b, score_changes(a, b)) for a, b in pairs]
    show = q.get("show", "all") if q.get("show") in COMPARE_SHOWS else "all"
    changed = [r for r in compared if r.changed]
    regressions = [r for r in compared if r.regression]
    rows = {"all": compared, "changed": changed, "regressions": regressions}[show]
    page, pages, shown = _page_of(rows, q.get("page"), COMPARE_ROWS)
    found_a.fill([r.a for r in shown])
    found_b.fill([r.b for r in shown])
    for row in shown:
        row.diff_a, row.diff_b = text_diff(text_of(row.a.outputs), text_of(row.b.outputs))
    names = list(dict.fromkeys(c.name for r in compared for c in r.changes))
    context = {
        "experiment": experiment,
        "tab": "runs",
        "a": run_a,
        "b": run_b,
        "metrics": _metric_rows(dict(run_a.metrics), dict(run_b.metrics)),
        "names": names,
        "rows": shown,
        "matched": len(pairs),
        "only_a": len(only_a),
        "only_b": len(only_b),
        "changed": len(changed),
        "regressions": len(regressions),
        "matching": len(rows),
        "show": show,
        "page": page,
        "pages": pages,
        "query": _query_without_page(q),
        "text_of": text_of,
        "short_text": short_text,
    }
    return ui.render(request, "run_compare.html", context)


@dataclass(frozen=True)
class MetricRow:
    """One metric of two runs: means shown with their counts, the delta signed."""

    name: str
    a: str
    b: str
    delta: float


def _shown(record: EvaluationRecord, name: str) -> str:
    score = next((s for s in record.scores if s.name == name), None)
    if score is None:
        return "—"
    if score.error is not None:
        return f"error: {score.error.error_message}"
    if score.score is not None and (label_of(score.metadata) or not isinstance(score.value, str)):
        return score_text(score.score, score.metadata)
    return short_text(score.value)


def short_text(value: Any, limit: int = 60) -> str:
    """A value on one line of at most ``limit`` characters."""
    text = " ".join(text_of(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _metric_rows(a: dict[str, float], b: dict[str, float]) -> list[MetricRow]:
    deltas = metric_deltas(a, b)
    means_a = {m.name: m for m in score_means(a)}
    means_b = {m.name: m for m in score_means(b)}
    beside = {f"{n}/{part}" for n in means_a | means_b for part in ("count", "error_count")}
    rows = []
    for key, delta in deltas.items():
        if key in beside:
            continue
        name = key.removesuffix("/score")
        if key.endswith("/score"):
            shown_a, shown_b = _mean(means_a.get(name)), _mean(means_b.get(name))
        else:
            shown_a, shown_b = _number(a.get(key)), _number(b.get(key))
        rows.append(MetricRow(key, shown_a, shown_b, delta))
    return rows


def _mean(mean: ScoreMean | None) -> str:
    return "—" if mean is None else mean_text(mean.mean, mean.scored, mean.errors)


def _number(value: float | None) -> str:
    return "—" if value is None else "n/a" if math.isnan(value) else f"{value:.3f}"


def text_diff(a: str, b: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Word-level diff of two texts as spans for each side: ``("same"|"del", text)`` for A,
    ``("same"|"ins", text)`` for B (whitespace kept, so the texts read as they are)."""
    words_a, words_b = _WORDS.findall(a[:DIFF_CHARS]), _WORDS.findall(b[:DIFF_CHARS])
    side_a: list[tuple[str, str]] = []
    side_b: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, words_a, words_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            side_a.append(("same", "".join(words_a[i1:i2])))
            side_b.append(("same", "".join(words_b[j1:j2])))
            continue
        if i2 > i1:
            side_a.append(("del", "".join(words_a[i1:i2])))
        if j2 > j1:
            side_b.append(("ins", "".join(words_b[j1:j2])))
    for side, text in ((side_a, a), (side_b, b)):
        if len(text) > DIFF_CHARS:
            side.append(("same", text[DIFF_CHARS:]))
    return side_a, side_b


# -- shared ------------------------------------------------------------------------------------


@dataclass
class RunRecords:
    """A run's records with what comparing, filtering and sorting need (ids, hash, scores;
    inputs, outputs and expectations left unparsed until :meth:`fill` for the rows shown)."""

    records: list[EvaluationRecord]
    messages: dict[int, evaluation_pb2.EvaluationRecord]  # by row_index

    def fill(self, records: list[EvaluationRecord]) -> None:
        """Parse the inputs, outputs and expectations of ``records`` (those a page shows)."""
        for record in records:
            message = self.messages[record.row_index]
            record.inputs = json_or_text(message.inputs_json) or {}
            record.expectations = json_or_text(message.expectations_json) or {}
            if message.HasField("outputs_json"):
                record.outputs = json_or_text(message.outputs_json)


async def all_records(ui: Ui, run_id: str) -> RunRecords:
    """Every record of a run, in record order (every page of ListEvaluationResults)."""
    found = RunRecords([], {})
    token = ""
    while True:
        page = await ui.call(
            "EvaluationService",
            "ListEvaluationResults",
            evaluation_pb2.ListEvaluationResultsRequest(
                run_id=run_id, page_size=RESULTS_PAGE, page_token=token
            ),
        )
        with gc_paused():  # a few objects per score, no cycles (see gc_pause.py)
            for message in page.records:
                found.records.append(_light_record(message))
                found.messages[message.row_index] = message
        token = page.next_page_token
        if not token:
            return found


def _light_record(m: evaluation_pb2.EvaluationRecord) -> EvaluationRecord:
    return EvaluationRecord(
        row_index=m.row_index,
        input_hash=m.input_hash,
        inputs={},
        expectations={},
        trace_id=m.trace_id or None,
        dataset_record_id=m.dataset_record_id or None,
        error=m.error or None,
        scores=[_light_score(s) for s in m.scores],
    )


def _light_score(m: evaluation_pb2.EvaluationScore) -> EvaluationScore:
    error = None
    if m.HasField("error"):
        error = AssessmentError(m.error.error_code, m.error.error_message, None)
    return EvaluationScore(
        name=m.name,
        value=json_or_text(m.value_json) if m.value_json else None,
        score=m.score if m.HasField("score") else None,
        rationale=m.rationale or None,
        error=error,
        metadata=dict(m.metadata) if m.metadata else {},
    )


def text_of(value: Any) -> str:
    """A value as people read it: text as it is, anything else as indented JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


async def _run(ui: Ui, run_id: str) -> evaluation_pb2.EvaluationRun:
    return await ui.call(
        "EvaluationService",
        "GetEvaluationRun",
        evaluation_pb2.GetEvaluationRunRequest(run_id=run_id),
    )


async def _experiment(ui: Ui, experiment_id: str) -> experiments_pb2.Experiment:
    return await ui.call(
        "ExperimentService",
        "GetExperiment",
        experiments_pb2.GetExperimentRequest(experiment_id=experiment_id),
    )


async def _ordered(ui: Ui, run_ids: list[str]) -> dict[str, str]:
    """Two selected runs as ``a`` (the one started first) and ``b``."""
    first, second = [await _run(ui, r) for r in run_ids]
    if (second.start_time_ms, second.run_id) < (first.start_time_ms, first.run_id):
        first, second = second, first
    return {"a": first.run_id, "b": second.run_id}


def _score_names(run: evaluation_pb2.EvaluationRun, records: list[EvaluationRecord]) -> list[str]:
    """The scorers' names, then any other score name the records have (a Feedback's own)."""
    return list(
        dict.fromkeys(
            [*(s.name for s in run.scorers), *(s.name for r in records for s in r.scores)]
        )
    )


def _page_of(
    rows: list[Any], asked: str | None, size: int = PAGE_ROWS
) -> tuple[int, int, list[Any]]:
    """The 1-based page asked for (clamped), the page count and the page's rows."""
    pages = max(1, math.ceil(len(rows) / size))
    try:
        page = min(max(1, int(asked or 1)), pages)
    except ValueError:
        page = 1
    return page, pages, rows[(page - 1) * size : page * size]


def _query_without_page(q: Any) -> str:
    return urlencode([(k, v) for k, v in q.multi_items() if k != "page"])


def routes() -> list[BaseRoute]:
    return [
        Route("/experiments/{experiment_id}/runs", runs_page, methods=["GET"]),
        Route("/runs/compare", compare_page, methods=["GET"]),
        Route("/runs/{run_id}", run_page, methods=["GET"]),
    ]
