"""Scorer references as jobs and monitors name them, checked the same way on both sides.

A job names its scorers by reference (``ScorerRef`` in ``jobs.proto``): a built-in scorer
class, an import path ``package.module:attribute``, or a name that an evaluator worker
registered from its ``--scorers-module``. The collector checks references at submit time
(it never imports scorer code); the evaluator resolves them into scorer objects. Both use
this module, so what the collector accepts is exactly what a worker can resolve.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection
from typing import Any

from spyglass.errors import InvalidArgumentError

BUILTIN_SCORERS: tuple[str, ...] = (
    "Correctness",
    "Guidelines",
    "ExpectationsGuidelines",
    "RelevanceToQuery",
    "Safety",
    "RetrievalGroundedness",
    "RetrievalRelevance",
    "RetrievalSufficiency",
    "ExactMatch",
    "Contains",
    "RegexMatch",
    "JsonValid",
    "JsonSchema",
    "Latency",
    "TokenCount",
    "EmbeddingSimilarity",
    "make_judge",
)
"""Scorers every worker can build by class name (``spyglass.evaluator.scorers``)."""

_IMPORT_PATH = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*")
_NAME = re.compile(r"[A-Za-z_][\w.\-]*")


def snake_case(name: str) -> str:
    """``RelevanceToQuery`` → ``relevance_to_query`` (the default names of scorers)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def score_name(ref_type: str, params: dict[str, Any]) -> str:
    """The name a reference's scores get, known without loading the scorer: the ``name``
    param, else a built-in's default (its class name in snake_case), an import path's
    attribute, or the registered name itself."""
    name = params.get("name")
    if isinstance(name, str) and name.strip():
        return name
    kind = ref_type.strip()
    if kind in BUILTIN_SCORERS:
        return snake_case(kind)
    if is_import_path(kind):
        return kind.rsplit(":", 1)[1].rsplit(".", 1)[-1]
    return kind


def duplicate_name_problems(names: Collection[str]) -> list[str]:
    """One message per score name that two scorers share: their scores and metrics would
    mix, so a job or monitor must name them apart. The collector checks the names
    :func:`score_name` gives; the submitting client, the names of the scorers it built."""
    listed = list(names)
    return [
        f'two scorers are named {n!r}; give them distinct names ("name": ...) so '
        "their scores and metrics differ"
        for n in sorted({n for n in listed if listed.count(n) > 1})
    ]


def is_import_path(ref_type: str) -> bool:
    """True for ``package.module:attribute``."""
    return _IMPORT_PATH.fullmatch(ref_type) is not None


def parse_params(params_json: str, where: str) -> dict[str, Any]:
    """A reference's keyword arguments (``{}`` when empty), or an error naming ``where``."""
    if not params_json.strip():
        return {}
    try:
        params = json.loads(params_json)
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError(
            f"{where}: params are not valid JSON ({exc}); give a JSON "
            'object such as {"name": "support_quality"}'
        ) from None
    if not isinstance(params, dict):
        raise InvalidArgumentError(
            f"{where}: params must be a JSON object of keyword "
            f"arguments, not {type(params).__name__}"
        )
    return params


def check_ref(
    ref_type: str, params_json: str, registered: Collection[str], where: str
) -> dict[str, Any]:
    """Check one reference; returns its params. ``registered``: names the live workers
    offer from their ``--scorers-module``."""
    params = parse_params(params_json, where)
    kind = ref_type.strip()
    if not kind:
        raise InvalidArgumentError(
            f"{where}: no scorer type; name a built-in scorer (e.g. "
            "Guidelines), an import path 'mypkg.scorers:my_scorer', or "
            "a name from an evaluator's --scorers-module"
        )
    if kind in BUILTIN_SCORERS or is_import_path(kind) or kind in registered:
        return params
    hint = (
        f"registered by the running evaluators: {', '.join(sorted(registered))}"
        if registered
        else "no running evaluator registered custom scorers "
        "(start one with --scorers-module mypkg.scorers)"
    )
    close = [b for b in BUILTIN_SCORERS if b.lower() == kind.lower()] or difflib.get_close_matches(
        kind, [*BUILTIN_SCORERS, *registered], 1, 0.8
    )
    also = f" (did you mean {close[0]!r}?)" if close else ""
    shape = "" if _NAME.fullmatch(kind) else "; an import path looks like 'package.module:name'"
    raise InvalidArgumentError(
        f"{where}: unknown scorer {kind!r}{also}{shape}. Use a built-in scorer "
        f"({', '.join(BUILTIN_SCORERS)}), an import path 'package.module:attribute', or a "
        f"registered name ({hint})"
    )
