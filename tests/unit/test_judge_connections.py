"""Judges' keep-alive connections (``KeepAliveConnections``): one connection carries many
requests, a connection the server closed while idle is replaced without failing the request,
no answer is an ``UNREACHABLE`` error, and endpoints behind a proxy use the ``openai``
package's HTTP client instead."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from spyglass.errors import ConfigurationError
from spyglass.evaluator.scorers.judges import endpoints
from spyglass.evaluator.scorers.judges.connections import UNREACHABLE, KeepAliveConnections
from spyglass.evaluator.scorers.judges.model import Endpoint


class Server:
    """An HTTP/1.1 server answering POSTs with the body it got, counting connections; with
    ``close_idle``, it closes each connection after one answer without saying so."""

    def __init__(self, close_idle: bool = False) -> None:
        self.connections = 0
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                server.connections += 1

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.bodies.append(body)
                server.headers.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                if close_idle:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.stop()


def test_requests_share_one_kept_alive_connection(server: Server) -> None:
    pool = KeepAliveConnections(server.url, {"Authorization": "Bearer k"}, timeout=5)
    for i in range(3):
        answer = pool.post("/chat/completions", b'{"n": %d}' % i, {"X-Try": str(i)})
        assert (answer.status_code, answer.content) == (200, b'{"n": %d}' % i)
    assert server.connections == 1
    assert server.headers[2]["Authorization"] == "Bearer k" and server.headers[2]["X-Try"] == "2"
    pool.close()


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    server = Server(close_idle=True)
    try:
        pool = KeepAliveConnections(server.url, {}, timeout=5)
        answers = [pool.post("/chat/completions", b"{}", {}) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert server.connections == 3 and len(server.bodies) == 3  # each request sent once
    finally:
        server.stop()


def test_no_answer_is_an_unreachable_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    pool = KeepAliveConnections(f"http://127.0.0.1:{port}/v1", {}, timeout=5)
    with pytest.raises(UNREACHABLE):
        pool.post("/chat/completions", b"{}", {})


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not an http:// or https:// URL"):
        KeepAliveConnections("localhost:8000/v1", {}, timeout=5)


@pytest.mark.parametrize(("proxy", "kind"), [(None, "KeepAliveConnections"), ("x", "Client")])
def test_endpoints_behind_a_proxy_use_the_openai_http_client(
    monkeypatch: pytest.MonkeyPatch, proxy: str | None, kind: str
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    endpoints.reset()
    try:
        endpoint = Endpoint(
            base_url="http://judge/v1", api_key="k", http_retries=0, timeout_s=5, rate_limit=None
        )
        poster = endpoints.json_endpoint(endpoint, owner="judge 'a'")
        assert kind in type(poster.client).__name__
    finally:
        endpoints.reset()
