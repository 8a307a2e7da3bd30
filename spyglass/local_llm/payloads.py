"""OpenAI wire shapes the stand-in server sends: chat completions and their stream chunks,
Responses objects and their stream events, embeddings, errors.

Every field the ``openai`` client's models declare as required is present, so the real
client parses these exactly as it parses the hosted API's answers.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

EMBEDDING_DIM = 64
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def new_id(prefix: str) -> str:
    """An id in the API's style: ``chatcmpl-…``, ``resp_…``, ``msg_…``."""
    separator = "-" if prefix == "chatcmpl" else "_"
    return f"{prefix}{separator}{uuid.uuid4().hex[:24]}"


def error_body(status: int, message: str | None = None, param: str | None = None) -> dict[str, Any]:
    """The API's error envelope, ``{"error": {message, type, param, code}}``."""
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "api_error")
    return {
        "error": {
            "message": message or f"Simulated {status} error from the local LLM",
            "type": kind,
            "param": param,
            "code": kind if status == 429 else None,
        }
    }


def chat_usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def chat_completion(
    model: str, texts: list[str], finish_reason: str, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any]:
    """A ``chat.completion`` with one choice per text."""
    return {
        "id": new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_spyglass_local",
        "choices": [
            {
                "index": i,
                "finish_reason": finish_reason,
                "logprobs": None,
                "message": {"role": "assistant", "content": text, "refusal": None},
            }
            for i, text in enumerate(texts)
        ],
        "usage": chat_usage(prompt_tokens, completion_tokens),
    }


def chat_chunks(
    model: str,
    text: str,
    finish_reason: str,
    include_usage: bool,
    prompt_tokens: int,
    completion_tokens: int,
) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` sequence of one streamed answer: the role, one chunk per
    word, the finish reason, then (when asked for) a usage chunk with no choices."""
    base = {
        "id": new_id("chatcmpl"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_spyglass_local",
    }
    extra = {"usage": None} if include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **base,
            **extra,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    yield chunk({"role": "assistant", "content": ""})
    for i, word in enumerate(text.split(" ")):
        yield chunk({"content": word if i == 0 else " " + word})
    yield chunk({}, finish_reason)
    if include_usage:
        yield {**base, "choices": [], "usage": chat_usage(prompt_tokens, completion_tokens)}


def response_object(
    model: str,
    request: dict[str, Any],
    text: str | None,
    prompt_tokens: int,
    completion_tokens: int,
    *,
    response_id: str,
    message_id: str,
    created_at: float,
    truncated: bool = False,
) -> dict[str, Any]:
    """A Responses API ``response``; ``text`` None gives the in-progress shape (no output,
    no usage) that the stream's first events carry; ``truncated`` the ``incomplete`` one
    (``max_output_tokens`` reached)."""
    done = text is not None
    status = ("incomplete" if truncated else "completed") if done else "in_progress"
    output = [output_message(message_id, text, "completed")] if text is not None else []
    usage = (
        {
            "input_tokens": prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if done
        else None
    )
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": request.get("temperature", 1.0),
        "top_p": request.get("top_p", 1.0),
        "text": {"format": (request.get("text") or {}).get("format") or {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": request.get("metadata") or {},
    }


def output_message(message_id: str, text: str, status: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if text else []
    return {
        "type": "message",
        "id": message_id,
        "status": status,
        "role": "assistant",
        "content": content,
    }


def response_events(
    model: str,
    request: dict[str, Any],
    text: str,
    prompt_tokens: int,
    completion_tokens: int,
    truncated: bool = False,
) -> Iterator[dict[str, Any]]:
    """The Responses stream of one text answer, in the hosted API's event order."""
    response_id, item_id = new_id("resp"), new_id("msg")
    created_at = float(int(time.time()))
    started = response_object(
        model,
        request,
        None,
        prompt_tokens,
        0,
        response_id=response_id,
        message_id=item_id,
        created_at=created_at,
    )
    finished = response_object(
        model,
        request,
        text,
        prompt_tokens,
        completion_tokens,
        response_id=response_id,
        message_id=item_id,
        created_at=created_at,
        truncated=truncated,
    )
    part = {"type": "output_text", "text": "", "annotations": []}
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": output_message(item_id, "", "in_progress"),
        },
        {"type": "response.content_part.added", **where, "part": part},
    ]
    events += [
        {
            "type": "response.output_text.delta",
            **where,
            "logprobs": [],
            "delta": word if i == 0 else " " + word,
        }
        for i, word in enumerate(text.split(" "))
    ]
    events += [
        {"type": "response.output_text.done", **where, "logprobs": [], "text": text},
        {"type": "response.content_part.done", **where, "part": {**part, "text": text}},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": output_message(item_id, text, "completed"),
        },
        {"type": f"response.{finished['status']}", "response": finished},
    ]
    for number, event in enumerate(events):
        yield {**event, "sequence_number": number}


def embedding_vector(text: str, dims: int = EMBEDDING_DIM) -> list[float]:
    """A unit vector from the hashes of the text's words (feature hashing): equal texts get
    equal vectors and texts sharing words get similar ones."""
    vector = [0.0] * dims
    words = text.lower().split() or [""]
    for word in words:
        digest = hashlib.sha256(word.encode()).digest()
        index = int.from_bytes(digest[:4], "little") % dims
        vector[index] += 1.0 + digest[4] / 255.0
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector]


def embeddings(
    model: str, texts: list[str], dims: int, encoding_format: str | None, prompt_tokens: int
) -> dict[str, Any]:
    """An embeddings list; ``base64`` packs each vector as little-endian float32."""
    data = []
    for index, text in enumerate(texts):
        vector: Any = embedding_vector(text, dims)
        if encoding_format == "base64":
            vector = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": vector})
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def models_list(names: list[str]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "spyglass-local"}
            for name in names
        ],
    }
