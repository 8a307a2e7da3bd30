"""Semantic similarity of the output to the expected response, through an embeddings API.

Both texts are embedded in one request to any OpenAI-compatible ``/embeddings`` endpoint
(same settings and shared, rate-limited client as the judges) and compared by cosine
similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from spyglass.errors import InvalidArgumentError

from .base import Scorer
from .expectations import MISSING, find_expectation
from .heuristics import as_text
from .judges.client import JudgeError
from .judges.endpoints import openai_client
from .judges.model import DEFAULT_EMBEDDING_MODEL, resolve_model
from .results import ScoreResult


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0.0 when either is all zeros)."""
    import numpy as np

    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb) / norm if norm else 0.0


class EmbeddingSimilarity(Scorer):
    """Cosine similarity of the embeddings of the output and ``expectations[key]`` (default
    ``expected_response``); with ``threshold``, whether it reaches that value.

    ``model`` is an embedding model id (default ``openai:/text-embedding-3-small``);
    ``base_url``, ``api_key``, ``rate_limit``, ``max_retries``, ``timeout``, ``time_limit`` as
    for judges.
    """

    calls_model: ClassVar[bool] = True

    def __init__(
        self,
        *,
        model: str | None = None,
        key: str = "expected_response",
        threshold: float | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        rate_limit: float | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.model = resolve_model(
            model or DEFAULT_EMBEDDING_MODEL,
            default=DEFAULT_EMBEDDING_MODEL,
            base_url=base_url,
            api_key=api_key,
            rate_limit=rate_limit,
            http_retries=max_retries,
            timeout_s=timeout,
            litellm=False,
        )
        if threshold is not None and not (
            isinstance(threshold, (int, float)) and -1 <= threshold <= 1
        ):
            raise InvalidArgumentError(
                f"EmbeddingSimilarity(threshold={threshold!r}) must be a number between -1 and 1"
            )
        self.key, self.threshold = key, threshold

    def __call__(self, outputs: Any, expectations: dict[str, Any]) -> ScoreResult:
        expected = find_expectation(expectations, self.key)
        if expected is MISSING or expected in (None, ""):
            raise self.missing(f"expectations.{self.key}")
        if isinstance(expected, list) and all(isinstance(e, str) for e in expected):
            expected = "\n".join(expected)  # e.g. expected_facts: the facts as one text
        texts = [as_text(outputs) or " ", as_text(expected) or " "]
        response = self._embed(texts)
        first, second = sorted(response.data, key=lambda item: item.index)
        similarity = round(cosine(first.embedding, second.embedding), 6)
        usage = {
            "input_tokens": getattr(response.usage, "prompt_tokens", 0) or 0,
            "output_tokens": 0,
            "model": getattr(response, "model", None) or self.model.name,
        }
        value: Any = similarity
        rationale = f"Cosine similarity {similarity:.3f} to the expected response"
        if self.threshold is not None:
            value = similarity >= self.threshold
            rationale += f" ({'at least' if value else 'below'} {self.threshold:g})"
        return ScoreResult(
            name=self.name,
            value=value,
            score=float(value) if self.threshold is not None else similarity,
            rationale=rationale + ".",
            metadata={"similarity": str(similarity)},
            source_type=self.source_type,
            source_id=self.source_id,
            usage=usage,
        )

    def _embed(self, texts: list[str]) -> Any:
        """Both embeddings in one request (``client.post``: not traced into the app's trace
        by ``spyglass.openai.autolog()``)."""
        import openai
        from openai.types import CreateEmbeddingResponse

        client = openai_client(self.model.endpoint(), owner=f"scorer {self.name!r}")
        try:
            response = client.post(
                "/embeddings",
                cast_to=CreateEmbeddingResponse,
                body={"model": self.model.name, "input": texts, "encoding_format": "float"},
            )
        except openai.APIError as exc:
            raise JudgeError(
                f"scorer {self.name!r}: the embeddings request to {client.base_url} failed: {exc}"
            ) from exc
        if len(response.data) != 2:
            raise JudgeError(
                f"scorer {self.name!r}: {client.base_url} returned "
                f"{len(response.data)} embeddings for 2 texts"
            )
        return response
