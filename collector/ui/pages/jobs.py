"""The **Jobs** page (top bar: Jobs) and one job's page: evaluation jobs the evaluator
service runs, with their progress, and **Cancel**.

* ``GET /jobs`` lists jobs, newest first (``?status=RUNNING`` etc.; ``?monitors=1`` also
  shows monitors' own jobs): status, a progress bar (rows done of total, chunks), errors by
  scorer with the latest message, ETA, and the live evaluator workers. While a job is
  open and no evaluator is alive, the page says so and how to start one, as
  ``spyglass eval submit`` does. The table refreshes itself every few seconds (htmx).
* ``GET /jobs/{job_id}`` is one job: input, scorers, run, progress, chunks, errors, times.
* ``POST /jobs/{job_id}/cancel`` cancels it (``CancelJob``) and shows the page it came from
  (form field ``next``: ``/jobs`` or the job's page), as a fragment for htmx.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.ui.app import ui_of
from spyglass.quantities import countdown
from spyglass.v1 import jobs_pb2

REFRESH_SECONDS = 3
OPEN = frozenset({jobs_pb2.PENDING, jobs_pb2.RUNNING})
STATUSES = ("PENDING", "RUNNING", "FINISHED", "FAILED", "CANCELLED")
START_EVALUATOR = "spyglass evaluator serve --collector <this collector's gRPC address>"


def status_name(status: int) -> str:
    return jobs_pb2.JobStatus.Name(status)


def job_view(job: jobs_pb2.EvaluationJob) -> dict[str, Any]:
    """What the templates show of a job: its message and the figures derived from it."""
    total = job.total_rows
    return {
        "job": job,
        "status": status_name(job.status),
        "open": job.status in OPEN,
        "percent": 100.0
        if total == 0 and job.status == jobs_pb2.FINISHED
        else (100.0 * job.rows_done / total if total else 0.0),
        "eta": countdown(job.eta_seconds if job.HasField("eta_seconds") else None, "—")
        if job.status in OPEN
        else "—",
        "source": _source_text(job.input),
    }


def _source_text(source: jobs_pb2.JobInput) -> str:
    if source.HasField("dataset"):
        version = (
            f" v{source.dataset.version}" if source.dataset.HasField("version") else " (current)"
        )
        return f"dataset {source.dataset.dataset}{version}"
    traces = source.traces
    text = f"traces of experiment {traces.experiment or '0'}"
    if traces.filter_string:
        text += f" matching {traces.filter_string}"
    if traces.max_traces:
        text += f" (at most {traces.max_traces})"
    return text


def _notice(jobs: list[jobs_pb2.EvaluationJob]) -> dict[str, Any]:
    """Live workers as the newest job reports them; whether an open job waits for none."""
    live = jobs[0].live_workers if jobs else None
    waiting = [j for j in jobs if j.status in OPEN and not j.live_workers]
    return {"live_workers": live, "waiting": len(waiting), "start_evaluator": START_EVALUATOR}


async def jobs_page(request: Request) -> Response:
    ui = ui_of(request)
    status = request.query_params.get("status", "").strip().upper()
    monitors = request.query_params.get("monitors") == "1"
    listed = await ui.call(
        "EvaluationJobService",
        "ListJobs",
        jobs_pb2.ListJobsRequest(
            status=status if status in STATUSES else "JOB_STATUS_UNSPECIFIED",
            include_monitors=monitors,
            max_results=200,
        ),
    )
    jobs = list(listed.jobs)
    query = urlencode(
        {k: v for k, v in (("status", status), ("monitors", "1" if monitors else "")) if v}
    )
    context = {
        "jobs": [job_view(j) for j in jobs],
        "status": status if status in STATUSES else "",
        "statuses": STATUSES,
        "monitors": monitors,
        "self_url": "/jobs" + (f"?{query}" if query else ""),
        "refresh": REFRESH_SECONDS,
        "section": "jobs",
        **_notice(jobs),
    }
    return ui.render(request, "_jobs_live.html" if _htmx(request) else "jobs.html", context)


async def job_page(request: Request) -> Response:
    ui = ui_of(request)
    job = await ui.call(
        "EvaluationJobService",
        "GetJob",
        jobs_pb2.GetJobRequest(job_id=request.path_params["job_id"]),
    )
    context = {
        **job_view(job),
        **_notice([job]),
        "self_url": f"/jobs/{job.job_id}",
        "refresh": REFRESH_SECONDS,
        "section": "jobs",
    }
    return ui.render(request, "_job_live.html" if _htmx(request) else "job.html", context)


def _htmx(request: Request) -> bool:
    """An htmx refresh or a cancel's answer: only the live part of the page."""
    return request.headers.get("hx-request") == "true"


async def cancel_job(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    form = await request.form()
    await ui_of(request).call(
        "EvaluationJobService", "CancelJob", jobs_pb2.CancelJobRequest(job_id=job_id)
    )
    target = str(form.get("next") or "")
    if not (target == "/jobs" or target.startswith(("/jobs?", "/jobs/"))):
        target = f"/jobs/{job_id}"
    return RedirectResponse(target, status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/jobs", jobs_page, methods=["GET"]),
        Route("/jobs/{job_id}", job_page, methods=["GET"]),
        Route("/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
    ]
