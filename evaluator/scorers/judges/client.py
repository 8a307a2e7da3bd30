"""One judgement: ask the judge model, validate its verdict, ask again when it is malformed.

HTTP failures are retried (429, 408/409, 5xx and lost connections, with exponential backoff
that honours ``Retry-After``/``Retry-After-Ms`` up to two minutes: see :mod:`.http`); what is
still failing after that, or is a permanent 4xx, becomes a :class:`JudgeError` — a per-row
error of the judge, carrying the tokens already spent. Both routes to a model (an
OpenAI-compatible endpoint, or LiteLLM for other providers) answer with a chat completion and
fail the same ways, so a judgement runs alike on either.
A reply that is not a valid verdict is asked again (the model is shown what was wrong), up
to ``malformed_retries`` more times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from spyglass.errors import SpyglassError

from . import prompts
from .endpoints import chat_endpoint
from .http import EndpointStatusError, EndpointUnreachable
from .model import JudgeModel
from .tracing import judge_trace, record_malformed, record_usage
from .verdict import RESPONSE_FORMAT, MalformedAnswer, Verdict, parse_verdict

DEFAULT_MALFORMED_RETRIES = 2


class ChatEndpoint(Protocol):
    """Where a judge's chat requests go (:class:`.http.JsonEndpoint`,
    :class:`.via_litellm.LiteLLMEndpoint`)."""

    base_url: str
    max_retries: int

    def chat(self, body: dict[str, Any]) -> dict[str, Any]: ...


class JudgeError(SpyglassError):
    """A judge could not give a verdict for a row (endpoint error, malformed answers).

    ``usage`` holds the tokens spent before it gave up, so a run's judging cost stays exact.
    """

    def __init__(self, message: str, usage: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass
class Usage:
    """Tokens spent on one judgement, over all its attempts."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    answers: int = 0

    def add(self, response: dict[str, Any]) -> None:
        """Count the tokens of one chat completion (its JSON answer)."""
        self.answers += 1
        usage = response.get("usage")
        if isinstance(usage, dict):
            self.input_tokens += usage.get("prompt_tokens") or 0
            self.output_tokens += usage.get("completion_tokens") or 0
        if response.get("model"):
            self.model = response["model"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "model": self.model,
        }


@dataclass
class JudgeAnswer:
    verdict: Verdict
    usage: dict[str, Any]
    trace_id: str | None
    attempts: int = 1
    problems: list[str] = field(default_factory=list)


def ask(
    model: JudgeModel, *, judge: str, task: str, malformed_retries: int = DEFAULT_MALFORMED_RETRIES
) -> JudgeAnswer:
    """The verdict of ``model`` on ``task`` (the user message), traced as its own trace."""
    client = chat_endpoint(model.endpoint(), owner=f"judge {judge!r}")
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": prompts.SYSTEM},
        {"role": "user", "content": task},
    ]
    usage = Usage(model.name)
    problems: list[str] = []
    with judge_trace(judge, model.model_id, model.name, model.provider, {"task": task}) as span:
        try:
            for attempt in range(1, malformed_retries + 2):
                text = _complete(client, model, messages, usage, judge)
                try:
                    verdict = parse_verdict(text)
                except MalformedAnswer as exc:
                    problems.append(str(exc))
                    record_malformed(span, attempt, text, str(exc))
                    messages = [
                        *messages,
                        {"role": "assistant", "content": text or ""},
                        {"role": "user", "content": prompts.RETRY.format(problem=exc)},
                    ]
                    continue
                span.set_outputs(verdict.model_dump())
                return JudgeAnswer(verdict, usage.as_dict(), span.trace_id, attempt, problems)
        finally:
            if usage.answers:
                record_usage(span, usage.model, usage.input_tokens, usage.output_tokens)
        raise JudgeError(
            f"judge {judge!r}: {model.model_id} gave no valid verdict in {attempt} attempts "
            f"(last problem: {problems[-1]}); try a model that supports structured output, or "
            "raise malformed_retries",
            usage.as_dict(),
        )


def _complete(
    client: ChatEndpoint,
    model: JudgeModel,
    messages: list[dict[str, Any]],
    usage: Usage,
    judge: str,
) -> str | None:
    """One chat completion (retried on transient failures, see :mod:`.http`); its tokens
    are added to ``usage``.

    Not sent through an ``openai.OpenAI`` client: ``spyglass.openai.autolog()`` would trace
    it a second time (the judgement's span records it), and the client's request and
    response models cost as much CPU as the exchange itself.
    """
    try:
        response = client.chat(
            {
                "model": model.name,
                "messages": messages,
                "temperature": 0,
                "response_format": RESPONSE_FORMAT,
            }
        )
    except EndpointStatusError as exc:
        raise JudgeError(_status_message(judge, client, exc), usage.as_dict()) from exc
    except EndpointUnreachable as exc:  # includes timeouts
        raise JudgeError(
            f"judge {judge!r}: could not reach {client.base_url} ({exc}) after "
            f"{client.max_retries} retries",
            usage.as_dict(),
        ) from exc
    except ValueError as exc:
        raise JudgeError(
            f"judge {judge!r}: {client.base_url} answered with something "
            f"other than a chat completion: {exc}",
            usage.as_dict(),
        ) from exc
    usage.add(response)
    return _content(response)


def _content(response: dict[str, Any]) -> str | None:
    """The text of the first choice (None when there is none: a malformed answer)."""
    choices = response.get("choices")
    message = (
        choices[0].get("message")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict)
        else None
    )
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else None


def _status_message(judge: str, client: ChatEndpoint, exc: EndpointStatusError) -> str:
    status, detail = exc.status, exc.detail
    if exc.retryable:
        return (
            f"judge {judge!r}: {client.base_url} answered HTTP {status} ({detail}) and "
            f"still did after {client.max_retries} retries (or asked to wait longer than "
            "two minutes); lower the request rate (rate_limit=) or raise max_retries"
        )
    return f"judge {judge!r}: {client.base_url} refused the request with HTTP {status}: {detail}"
