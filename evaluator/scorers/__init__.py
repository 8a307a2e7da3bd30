"""Scorers: functions and classes that score one evaluated row.

- :func:`scorer` turns a function declaring any of ``inputs``, ``outputs``, ``expectations``,
  ``trace`` into a scorer; :class:`Scorer` is the base class of class-based ones.
- LLM judges (:class:`Correctness`, :class:`Guidelines`, ..., :func:`make_judge`) ask an
  OpenAI-compatible model for a yes/no verdict with a rationale.
- Heuristic scorers (:class:`ExactMatch`, :class:`Contains`, ...) need no model.

``evaluate()`` calls :meth:`Scorer.run`, which returns :class:`ScoreResult` rows and never
raises. A row's score that could not be had carries its error's type as ``error_type``:
``ScorerInputError``, ``ScorerTimeoutError`` (the call overran its ``time_limit``),
``NonFiniteScoreError`` (NaN or infinity returned), or the type of what the scorer raised.
"""

from .base import AGGREGATIONS, Scorer, ScorerInputError, ScorerTimeoutError
from .decorator import scorer
from .embedding import EmbeddingSimilarity
from .heuristics import Contains, ExactMatch, JsonSchema, JsonValid, RegexMatch
from .judges import (
    Correctness,
    ExpectationsGuidelines,
    Guidelines,
    JudgeError,
    JudgeScorer,
    RelevanceToQuery,
    RetrievalGroundedness,
    RetrievalRelevance,
    RetrievalSufficiency,
    Safety,
    make_judge,
)
from .results import Feedback, NonFiniteScoreError, ScoreResult
from .trace_metrics import Latency, TokenCount

__all__ = [
    "AGGREGATIONS",
    "Contains",
    "Correctness",
    "EmbeddingSimilarity",
    "ExactMatch",
    "ExpectationsGuidelines",
    "Feedback",
    "Guidelines",
    "JsonSchema",
    "JsonValid",
    "JudgeError",
    "JudgeScorer",
    "Latency",
    "NonFiniteScoreError",
    "RegexMatch",
    "RelevanceToQuery",
    "RetrievalGroundedness",
    "RetrievalRelevance",
    "RetrievalSufficiency",
    "Safety",
    "ScoreResult",
    "Scorer",
    "ScorerInputError",
    "ScorerTimeoutError",
    "TokenCount",
    "make_judge",
    "scorer",
]
