"""A small OpenAI-compatible server that ships with Spyglass.

Tests, benchmarks and ``make demo`` (when ``OPENAI_API_KEY`` is unset) point the real
``openai`` client at it::

    with LocalLLM(latency_s=0.1) as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="sk-local")

Also runnable: ``python -m spyglass.local_llm --port 8099 [--latency-ms 100]``.
"""

from __future__ import annotations

from spyglass.extras import require_extra

require_extra("collector", "the local OpenAI-compatible server", modules=("starlette", "uvicorn"))

from spyglass.local_llm.answers import DONT_KNOW  # noqa: E402
from spyglass.local_llm.payloads import EMBEDDING_DIM  # noqa: E402
from spyglass.local_llm.server import LocalLLM  # noqa: E402

__all__ = ["DONT_KNOW", "EMBEDDING_DIM", "LocalLLM"]
