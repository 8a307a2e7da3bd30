"""Evaluation library: ``evaluate()`` with scorers and LLM judges, datasets, stored runs.

Names are exported lazily (importing ``spyglass.evaluator`` loads neither pandas nor gRPC
stubs until one is used)::

    from spyglass.evaluator import evaluate, get_evaluation_run, search_evaluation_runs
    from spyglass.evaluator import compare_runs, EvaluationResult
    from spyglass.evaluator import submit_job, wait_for_job, create_monitor  # the service

Its libraries come with the ``[evaluator]`` extra: importing it without them raises
:class:`~spyglass.extras.MissingExtraError` naming the install command.
"""

from __future__ import annotations

from spyglass.extras import require_extra
from spyglass.lazy_exports import lazy_exports

require_extra("evaluator", "the evaluator")

_EXPORTS = {
    "evaluate": "spyglass.evaluator.harness",
    "EvaluationResult": "spyglass.evaluator.results",
    "ScorerErrorsWarning": "spyglass.evaluator.results",
    "get_evaluation_run": "spyglass.evaluator.runs",
    "search_evaluation_runs": "spyglass.evaluator.runs",
    "get_evaluation_results": "spyglass.evaluator.runs",
    "compare_runs": "spyglass.evaluator.compare",
    "RunComparison": "spyglass.evaluator.compare",
    **dict.fromkeys(
        ["submit_job", "get_job", "list_jobs", "cancel_job", "wait_for_job"],
        "spyglass.evaluator.jobs.submit",
    ),
    **dict.fromkeys(
        ["create_monitor", "get_monitor", "list_monitors", "update_monitor", "delete_monitor"],
        "spyglass.evaluator.jobs.monitors",
    ),
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
