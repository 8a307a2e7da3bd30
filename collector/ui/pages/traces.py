"""An experiment's Traces page (``/experiments/{experiment_id}/traces``): its traces newest
first, one keyset page at a time, narrowed by the filter language and a time range, sorted by
a column, with a checkbox per row for "Add to evaluation dataset".

The whole view lives in the URL's query (``filter``, ``range`` with ``from``/``to``/``tz``,
``order``, ``page``, ``size``), so that every state can be bookmarked and Back works. One
``TraceService/SearchTraces`` call (trace infos only) fills a page. htmx requests aimed at
the results (``HX-Target: traces-results``) get only the table; a filter the collector
refuses answers 200 with the message retargeted under the filter box, so that the table
stays as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import grpc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.api.local_calls import ApiCallError
from spyglass.collector.ui.app import ui_of
from spyglass.collector.ui.pages.experiments import experiment_of
from spyglass.v1 import traces_pb2

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 500
RESULTS_ID = "traces-results"

RANGES = {"1h": "Last hour", "1d": "Last day", "1w": "Last week", "all": "All", "custom": "Custom"}
"""The time-range picker's choices (``?range=``); the ages use the filter language's units."""

SORTABLE = {
    "timestamp_ms": "Time",
    "execution_time_ms": "Execution time",
    "status": "Status",
    "total_tokens": "Tokens",
    "cost": "Cost",
}
"""Columns whose header sorts, by the ``attributes.<field>`` they sort on."""

DEFAULT_ORDER = ("timestamp_ms", True)


@dataclass(frozen=True)
class View:
    """What the URL asks to see."""

    filter: str = ""
    range: str = "all"
    start: str = ""  # custom range, a datetime-local value ("2026-12-07T09:30")
    end: str = ""
    tz: int = 0  # the browser's offset from UTC in minutes (JS getTimezoneOffset, negated)
    order: tuple[str, bool] = DEFAULT_ORDER  # field, descending
    page: str = ""
    size: int = PAGE_SIZE_DEFAULT

    @classmethod
    def of(cls, request: Request) -> View:
        q = request.query_params
        chosen = q.get("range", "all")
        return cls(
            filter=q.get("filter", "").strip(),
            range=chosen if chosen in RANGES else "all",
            start=q.get("from", "").strip(),
            end=q.get("to", "").strip(),
            tz=_int(q.get("tz"), 0, -16 * 60, 16 * 60),
            order=_order(q.get("order", "")),
            page=q.get("page", ""),
            size=_int(q.get("size"), PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX),
        )

    def range_clause(self) -> str:
        """The time range in the filter language ("" for all time)."""
        if self.range in ("1h", "1d", "1w"):
            return f"attributes.timestamp_ms >= -{self.range}"
        if self.range != "custom":
            return ""
        parts = []
        start, end = self._ms(self.start), self._ms(self.end)
        if start is not None:
            parts.append(f"attributes.timestamp_ms >= {start}")
        if end is not None:
            parts.append(f"attributes.timestamp_ms <= {end}")
        return " AND ".join(parts)

    def search_filter(self) -> str:
        """The user's filter AND the time range."""
        clause = self.range_clause()
        if self.filter and clause:
            return f"({self.filter}) AND {clause}"
        return self.filter or clause

    def order_by(self) -> str:
        name, descending = self.order
        return f"attributes.{name} {'DESC' if descending else 'ASC'}"

    def order_param(self) -> str:
        name, descending = self.order
        return f"{name}.{'desc' if descending else 'asc'}"

    def query(self, **changes: Any) -> str:
        """This view's URL query with ``changes`` (``page=""`` leaves the page out)."""
        values: dict[str, Any] = {
            "filter": self.filter,
            "range": self.range,
            "from": self.start if self.range == "custom" else "",
            "to": self.end if self.range == "custom" else "",
            "tz": str(self.tz) if self.range == "custom" else "",
            "order": "" if self.order == DEFAULT_ORDER else self.order_param(),
            "page": self.page,
            "size": "" if self.size == PAGE_SIZE_DEFAULT else str(self.size),
        }
        values.update(changes)
        if values["range"] == "all":
            values["range"] = ""
        kept = {k: v for k, v in values.items() if v}
        return "?" + urlencode(kept) if kept else ""

    def sort_query(self, name: str) -> str:
        """The URL query after a click on ``name``'s header: toggles the direction of the
        current sort, otherwise sorts by ``name`` descending. Back to the first page."""
        current, descending = self.order
        flipped = not descending if current == name else True
        order = "" if (name, flipped) == DEFAULT_ORDER else f"{name}.{'desc' if flipped else 'asc'}"
        return self.query(order=order, page="")

    def _ms(self, local: str) -> int | None:
        if not local:
            return None
        try:
            moment = datetime.fromisoformat(local)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone(timedelta(minutes=self.tz)))
        return int(moment.timestamp() * 1000)


def _int(text: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(text) if text else default
    except ValueError:
        return default
    return max(low, min(high, value))


def _order(text: str) -> tuple[str, bool]:
    name, _, direction = text.partition(".")
    if name not in SORTABLE or direction not in ("asc", "desc"):
        return DEFAULT_ORDER
    return name, direction == "desc"


# -- rows ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One trace as the table shows it."""

    info: traces_pb2.TraceInfo
    request: str
    response: str
    tokens: int | None
    assessments: dict[str, str] = field(default_factory=dict)  # column key -> value text


def preview(text: str | None) -> str:
    """A preview for people: a JSON string unquoted, an object of one text value reduced to
    that text, anything else (or truncated JSON) as it is."""
    if not text:
        return ""
    value = _json(text)
    if isinstance(value, str):  # text that is itself JSON (OpenInference's input.value)
        inner = _json(value)
        value = inner if isinstance(inner, dict | list | str) else value
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict) and len(value) == 1:
        (only,) = value.values()
        value = only
    return value if isinstance(value, str) else text


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def assessment_columns(infos: list[traces_pb2.TraceInfo]) -> list[tuple[str, str]]:
    """``(key, header)`` per feedback/expectation name present on these traces, expectations
    first, each kind by name."""
    seen = set()
    for info in infos:
        for a in info.assessments:
            seen.add((a.WhichOneof("value") or "feedback", a.name))
    return [(f"{kind}:{name}", f"{kind}: {name}") for kind, name in sorted(seen)]


def assessment_values(info: traces_pb2.TraceInfo) -> dict[str, str]:
    """The value each name shows: the newest valid assessment of that name (the newest of
    any when none is valid)."""
    chosen: dict[str, Any] = {}
    for a in info.assessments:  # creation order
        key = f"{a.WhichOneof('value') or 'feedback'}:{a.name}"
        if a.valid or key not in chosen or not chosen[key].valid:
            chosen[key] = a
    return {key: _value_text(a) for key, a in chosen.items()}


def _value_text(a: Any) -> str:
    if a.WhichOneof("value") == "expectation":
        return str(preview(a.expectation.value_json))
    feedback = a.feedback
    if feedback.HasField("value_json"):
        return str(preview(feedback.value_json))
    error = feedback.error
    return f"error: {error.error_code or error.error_message or 'no value'}"


def to_rows(infos: list[traces_pb2.TraceInfo]) -> list[Row]:
    return [
        Row(
            info=info,
            request=preview(info.request_preview),
            response=preview(info.response_preview),
            tokens=(
                info.token_usage.total_tokens if info.token_usage.HasField("total_tokens") else None
            ),
            assessments=assessment_values(info),
        )
        for info in infos
    ]


# -- the page ------------------------------------------------------------------------------


async def search(
    request: Request, experiment_id: str, view: View
) -> tuple[list[traces_pb2.TraceInfo], str]:
    """One page of the experiment's traces: their infos and the token of the next page."""
    pages = await ui_of(request).call(
        "TraceService",
        "SearchTraces",
        traces_pb2.SearchTracesRequest(
            experiment_ids=[experiment_id],
            filter=view.search_filter(),
            order_by=[view.order_by()],
            page_size=view.size,
            max_results=view.size,
            page_token=view.page,
            include_spans=False,
        ),
    )
    infos = [trace.info for page in pages for trace in page.traces]
    return infos, (pages[-1].next_page_token if pages else "")


async def filter_error(request: Request, experiment_id: str, view: View, error: str) -> str:
    """The message to show under the box: the user's own filter's error when the range was
    added to it (so that the caret points into what they typed)."""
    if not (view.filter and view.range_clause()):
        return error
    alone = View(filter=view.filter, size=1)
    try:
        await search(request, experiment_id, alone)
    except ApiCallError as own:
        if own.code == grpc.StatusCode.INVALID_ARGUMENT:
            return own.message
    return error


async def traces_page(request: Request) -> Response:
    ui = ui_of(request)
    experiment = await experiment_of(request)
    view = View.of(request)
    partial = (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-target") == RESULTS_ID
        and request.headers.get("hx-history-restore-request") != "true"
    )
    error = ""
    infos: list[traces_pb2.TraceInfo] = []
    next_token = ""
    try:
        infos, next_token = await search(request, experiment.experiment_id, view)
    except ApiCallError as failed:
        if failed.code != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        error = await filter_error(request, experiment.experiment_id, view, failed.message)
    context = {
        "experiment": experiment,
        "tab": "traces",
        "view": view,
        "rows": to_rows(infos),
        "columns": assessment_columns(infos),
        "next_token": next_token,
        "error": error,
        "ranges": RANGES,
        "sortable": SORTABLE,
        "base": f"/experiments/{experiment.experiment_id}/traces",
        "partial": partial,
        "default_order": DEFAULT_ORDER,
        "default_size": PAGE_SIZE_DEFAULT,
    }
    if partial and error:
        response = ui.render(request, "_traces_error.html", context)
        response.headers["HX-Retarget"] = "#filter-error"
        response.headers["HX-Reswap"] = "outerHTML"
        response.headers["HX-Push-Url"] = "false"
        return response
    if partial:
        return ui.render(request, "_traces_results.html", context)
    return ui.render(request, "traces.html", context, 400 if error else 200)


def routes() -> list[BaseRoute]:
    return [Route("/experiments/{experiment_id}/traces", traces_page, methods=["GET"])]
