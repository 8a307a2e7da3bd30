"""``LocalLLM``: a small OpenAI-compatible HTTP server for tests, benchmarks and the demo.

Starlette routes served by uvicorn on a background thread (or in the foreground from the
command line). Answers are deterministic (see ``answers``); a fixed latency is slept with
``asyncio.sleep`` so concurrent requests overlap as they would against a hosted model. Tests
steer it with ``fail_next`` (HTTP errors), ``malformed_next`` (broken JSON answers) and a
``responder`` callback, and read every request body back from ``requests``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from spyglass.local_llm import answers, payloads
from spyglass.local_llm.prompts import (
    BadRequest,
    Prompt,
    chat_prompt,
    embedding_inputs,
    responses_prompt,
)

Responder = Callable[[str, dict[str, Any]], "dict[str, Any] | str | None"]
MODELS = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"]
MALFORMED_JSON = 'Sure! Here is the JSON you asked for: {"result": "yes", "rationale": '


class LocalLLM:
    """An OpenAI-compatible server on ``host:port`` (port 0: the OS picks one).

    ``responder(path, body)`` may return a full response body (a dict, sent as JSON) or an
    answer text (a str, sent in the default shape, streamed when asked) to override the
    default answer; None keeps the default.
    """

    def __init__(
        self,
        latency_s: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        responder: Responder | None = None,
    ) -> None:
        self.latency_s = latency_s
        self.host = host
        self.port = port
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self._failures: deque[tuple[int, float | None, dict[str, Any] | None]] = deque()
        self._malformed = 0
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/responses", self._responses, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The URL to give ``openai.OpenAI(base_url=...)``."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> LocalLLM:
        """Serve on a background thread; returns once the server accepts connections."""
        if self._thread is not None:
            return self
        sock = self._bind()
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"local-llm:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the local LLM server on {self.host}:{self.port} did not "
                    "start; see the log above for uvicorn's reason"
                )
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (open streams are cut after 2 s)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the command line's mode)."""
        sock = self._bind()
        print(
            f"Local OpenAI-compatible server at {self.base_url} "
            f"(latency {self.latency_s * 1000:.0f} ms); Ctrl-C stops it",
            flush=True,
        )
        uvicorn.Server(self._config()).run(sockets=[sock])

    def __enter__(self) -> LocalLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _bind(self) -> socket.socket:
        # proto=IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets
        # whose proto says TCP, and without it every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(
            socket.AF_INET6 if ":" in self.host else socket.AF_INET,
            socket.SOCK_STREAM,
            socket.IPPROTO_TCP,
        )
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        return sock

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            backlog=2048,
        )

    # -- steering --------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        count: int = 1,
        retry_after: float | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next ``count`` requests with HTTP ``status`` (the API's error envelope
        unless ``body`` is given), with a ``Retry-After`` header when ``retry_after`` is set."""
        if not 400 <= status <= 599:
            raise ValueError(f"fail_next status must be an HTTP error (400-599), got {status}")
        with self._lock:
            self._failures.extend([(status, retry_after, body)] * count)

    def malformed_next(self, count: int = 1) -> None:
        """Make the next ``count`` JSON-mode answers text that is not valid JSON."""
        with self._lock:
            self._malformed += count

    def _take_failure(self) -> tuple[int, float | None, dict[str, Any] | None] | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _take_malformed(self) -> bool:
        with self._lock:
            if self._malformed <= 0:
                return False
            self._malformed -= 1
            return True

    # -- request handling ------------------------------------------------------------------

    async def _chat(self, request: Request) -> Response:
        return await self._serve(request, self._chat_answer)

    async def _responses(self, request: Request) -> Response:
        return await self._serve(request, self._responses_answer)

    async def _embeddings(self, request: Request) -> Response:
        return await self._serve(request, self._embeddings_answer)

    async def _models(self, request: Request) -> Response:
        self.requests.append({"_path": request.url.path})
        return _json(payloads.models_list(MODELS))

    async def _serve(
        self, request: Request, answer: Callable[[dict[str, Any], Any], Response]
    ) -> Response:
        """Shared steps: read and record the body, fail if told to, sleep the latency, then
        answer (a responder's dict wins over the default answer)."""
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            return _error(400, f"the request body is not valid JSON ({exc})")
        if not isinstance(body, dict):
            return _error(400, "the request body must be a JSON object")
        path = request.url.path
        self.requests.append({**body, "_path": path})
        failure = self._take_failure()
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        if failure is not None:
            status, retry_after, custom_body = failure
            headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else None
            return _json(custom_body or payloads.error_body(status), status, headers)
        custom = self.responder(path, body) if self.responder else None
        if isinstance(custom, dict):
            return _json(custom)
        try:
            return answer(body, custom)
        except BadRequest as exc:
            return _error(400, str(exc), exc.param)

    def _text(self, prompt: Prompt, custom: Any) -> tuple[str, str, int]:
        """The answer text, its finish reason and its token count."""
        if isinstance(custom, str):
            text = custom
        elif prompt.json_mode:
            text = (
                MALFORMED_JSON
                if self._take_malformed()
                else json.dumps(answers.json_answer(prompt.schema, prompt.judged_text))
            )
        else:
            text = answers.plain_answer(prompt.user_text)
        words = text.split(" ")
        if (
            prompt.max_tokens is not None
            and not prompt.json_mode
            and len(words) > prompt.max_tokens
        ):
            return " ".join(words[: prompt.max_tokens]), "length", prompt.max_tokens
        return text, "stop", answers.word_count(text)

    def _chat_answer(self, body: dict[str, Any], custom: Any) -> Response:
        prompt = chat_prompt(body)
        text, finish, tokens = self._text(prompt, custom)
        if body.get("stream"):
            options = body.get("stream_options") or {}
            chunks = payloads.chat_chunks(
                prompt.model,
                text,
                finish,
                bool(options.get("include_usage")),
                prompt.prompt_tokens,
                tokens,
            )
            return _sse(chunks, named=False)
        return _json(
            payloads.chat_completion(
                prompt.model,
                [text] * prompt.choices,
                finish,
                prompt.prompt_tokens,
                tokens * prompt.choices,
            )
        )

    def _responses_answer(self, body: dict[str, Any], custom: Any) -> Response:
        prompt = responses_prompt(body)
        text, finish, tokens = self._text(prompt, custom)
        truncated = finish == "length"
        if body.get("stream"):
            return _sse(
                payloads.response_events(
                    prompt.model, body, text, prompt.prompt_tokens, tokens, truncated
                ),
                named=True,
            )
        return _json(
            payloads.response_object(
                prompt.model,
                body,
                text,
                prompt.prompt_tokens,
                tokens,
                response_id=payloads.new_id("resp"),
                message_id=payloads.new_id("msg"),
                created_at=float(int(time.time())),
                truncated=truncated,
            )
        )

    def _embeddings_answer(self, body: dict[str, Any], custom: Any) -> Response:
        model, texts = embedding_inputs(body)
        dims = body.get("dimensions")
        dims = dims if isinstance(dims, int) and dims > 0 else payloads.EMBEDDING_DIM
        return _json(
            payloads.embeddings(
                model, texts, dims, body.get("encoding_format"), answers.word_count(*texts)
            )
        )


def _json(body: Any, status: int = 200, headers: dict[str, Any] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


def _error(status: int, message: str, param: str | None = None) -> Response:
    return _json(payloads.error_body(status, message, param), status)


def _sse(events: Iterable[dict[str, Any]], named: bool) -> StreamingResponse:
    """Server-sent events: ``data:`` lines ending with ``[DONE]`` (chat), or ``event:`` +
    ``data:`` pairs (the Responses API, which sends no ``[DONE]``)."""

    async def stream() -> AsyncIterator[bytes]:
        for event in events:
            head = f"event: {event['type']}\n".encode() if named else b""
            yield head + b"data: " + orjson.dumps(event) + b"\n\n"
        if not named:
            yield b"data: [DONE]\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")
