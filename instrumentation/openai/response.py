"""The response side of an OpenAI call: the response as a dict (what the span records as its
outputs) and the GenAI response attributes read from it — id, model, finish reasons, tokens.

Chat completions, Responses objects and embedding lists all arrive here as dicts, whether they
came whole or were aggregated from a stream, so there is one reading of each shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spyglass import semconv
from spyglass.instrumentation.openai import conventions as gen
from spyglass.instrumentation.openai.request import CHAT_COMPLETIONS, EMBEDDINGS, RESPONSES

_RESPONSES_FINISH = {"completed": "stop", "failed": "error", "cancelled": "cancelled"}
_INCOMPLETE_FINISH = {"max_output_tokens": "length", "content_filter": "content_filter"}


def as_dict(response: Any) -> dict[str, Any] | None:
    """An openai response model as a JSON-ready dict (None for objects that are not one, such
    as the raw HTTP responses ``with_raw_response`` returns)."""
    if isinstance(response, Mapping):
        return dict(response)
    to_dict = getattr(response, "to_dict", None)
    if callable(to_dict):
        return to_dict(mode="json", warnings=False)
    return None


def response_attributes(api: str, response: Mapping[str, Any]) -> dict[str, Any]:
    """GenAI response attributes, plus Spyglass's token-usage summary, of a response dict."""
    attributes: dict[str, Any] = {
        gen.RESPONSE_ID: _str(response.get("id")),
        gen.RESPONSE_MODEL: _str(response.get("model")),
    }
    if api == CHAT_COMPLETIONS:
        attributes[gen.RESPONSE_FINISH_REASONS] = _chat_finish_reasons(response)
        attributes[gen.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = _str(
            response.get("system_fingerprint")
        )
    elif api == RESPONSES:
        attributes[gen.RESPONSE_FINISH_REASONS] = _responses_finish_reasons(response)
    elif api == EMBEDDINGS:
        data = response.get("data")
        first = data[0] if isinstance(data, list) and data else None
        vector = first.get("embedding") if isinstance(first, Mapping) else None
        if isinstance(vector, list):
            attributes[gen.EMBEDDINGS_DIMENSION_COUNT] = len(vector)
    attributes[gen.OPENAI_RESPONSE_SERVICE_TIER] = _str(response.get("service_tier"))
    attributes.update(usage_attributes(response.get("usage")))
    return attributes


def usage_attributes(usage: Any) -> dict[str, Any]:
    """``gen_ai.usage.*`` and ``spyglass.span.token_usage`` from either usage shape
    (chat/embeddings: prompt/completion tokens; Responses: input/output tokens)."""
    if not isinstance(usage, Mapping):
        return {}
    input_tokens = _int(usage.get("input_tokens", usage.get("prompt_tokens")))
    output_tokens = _int(usage.get("output_tokens", usage.get("completion_tokens")))
    total = _int(usage.get("total_tokens"))
    if total is None and input_tokens is not None and output_tokens is not None:
        total = input_tokens + output_tokens
    summary = {
        k: v
        for k, v in (
            ("input_tokens", input_tokens),
            ("output_tokens", output_tokens),
            ("total_tokens", total),
        )
        if v is not None
    }
    return {
        gen.USAGE_INPUT_TOKENS: input_tokens,
        gen.USAGE_OUTPUT_TOKENS: output_tokens,
        semconv.TOKEN_USAGE: summary or None,
    }


def _chat_finish_reasons(response: Mapping[str, Any]) -> list[str] | None:
    choices = response.get("choices")
    if not isinstance(choices, list):
        return None
    reasons = [c.get("finish_reason") for c in choices if isinstance(c, Mapping)]
    return [r for r in reasons if isinstance(r, str)] or None


def _responses_finish_reasons(response: Mapping[str, Any]) -> list[str] | None:
    """The Responses API has a status, not finish reasons: completed → stop, incomplete →
    its reason (max_output_tokens → length), failed → error."""
    status = response.get("status")
    if status == "incomplete":
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        return [_INCOMPLETE_FINISH.get(reason, reason) if isinstance(reason, str) else "length"]
    if isinstance(status, str) and status in _RESPONSES_FINISH:
        return [_RESPONSES_FINISH[status]]
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
