"""LLM judges on any OpenAI-compatible endpoint or LiteLLM provider: built-in ones and
``make_judge``."""

from .base import JudgeScorer
from .builtin import Correctness, ExpectationsGuidelines, Guidelines, RelevanceToQuery, Safety
from .client import JudgeError
from .custom import make_judge
from .retrieval import RetrievalGroundedness, RetrievalRelevance, RetrievalSufficiency

__all__ = [
    "Correctness",
    "ExpectationsGuidelines",
    "Guidelines",
    "JudgeError",
    "JudgeScorer",
    "RelevanceToQuery",
    "RetrievalGroundedness",
    "RetrievalRelevance",
    "RetrievalSufficiency",
    "Safety",
    "make_judge",
]
