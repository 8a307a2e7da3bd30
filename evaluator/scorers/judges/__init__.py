"""LLM judges on any OpenAI-compatible endpoint: built-in ones and ``make_judge``."""

from .base import JudgeScorer
from .builtin import Correctness, ExpectationsGuidelines, Guidelines, RelevanceToQuery, Safety
from .client import JudgeError
from .custom import make_judge
from .retrieval import RetrievalGroundedness, RetrievalRelevance, RetrievalSufficiency

__all__ = ["JudgeScorer", "JudgeError", "Correctness", "Guidelines", "ExpectationsGuidelines",
           "RelevanceToQuery", "Safety", "RetrievalGroundedness", "RetrievalRelevance",
           "RetrievalSufficiency", "make_judge"]
