"""``spyglass ui``: the web UI in a browser, from a collector started here or one running.

Every collector serves the UI on its HTTP port at ``/``. Without ``--collector`` the command
starts one in this process, as ``spyglass collector start`` would, over the store in this
folder (``./spyglass.db``, the same default as ``make demo``) or ``--store``; ``--port`` is
its HTTP port (the UI, OTLP/HTTP and the JSON API) and ``--grpc-port`` its gRPC port, so
apps can keep sending traces to it while the UI is open. It prints the UI's address once
both ports answer, and runs until Ctrl-C. With ``--collector`` it starts nothing: it
checks that the collector's HTTP port answers (``/readyz``) and serves the UI, then prints
(and with ``--open`` opens) its address.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from typing import Any

import click

from spyglass.errors import ConfigurationError, SpyglassError

DEFAULT_HTTP_PORT = 4318
CHECK_TIMEOUT_S = 5.0
START_TIMEOUT_S = 60.0


@click.command("ui")
@click.option(
    "--store",
    metavar="URL",
    default=None,
    help="database of the collector started here [env SPYGLASS_STORE; default "
    "sqlite:///./spyglass.db]",
)
@click.option(
    "--collector",
    "collector",
    metavar="HOST:PORT",
    default=None,
    help="a running collector's HTTP port (where it serves the UI, 4318 unless told "
    "otherwise), or its URL (https://…); nothing is started then",
)
@click.option(
    "--port",
    type=int,
    default=None,
    help="HTTP port of the collector started here: the UI, OTLP/HTTP and the JSON API "
    "[env SPYGLASS_HTTP_PORT; default 4318; 0: any free port]",
)
@click.option(
    "--grpc-port",
    type=int,
    default=None,
    help="its OTLP/gRPC and API port [env SPYGLASS_GRPC_PORT; default 4317; 0: any]",
)
@click.option(
    "--host",
    default=None,
    help="address both ports listen on [env SPYGLASS_HOST; default 127.0.0.1, this machine only]",
)
@click.option("--open", "open_browser", is_flag=True, help="open the UI in the web browser")
def command(
    store: str | None,
    collector: str | None,
    port: int | None,
    grpc_port: int | None,
    host: str | None,
    open_browser: bool,
) -> None:
    """Open the web UI: start a collector over the store in this folder (or --store) and
    print its address, until Ctrl-C; or, with --collector, print the address of a running
    collector's UI."""
    if collector is not None:
        given = [
            flag
            for flag, value in (
                ("--store", store),
                ("--port", port),
                ("--grpc-port", grpc_port),
                ("--host", host),
            )
            if value is not None
        ]
        if given:
            raise click.UsageError(
                f"{' and '.join(given)} set up the collector this command starts; with "
                "--collector nothing is started (give the port in the address, e.g. "
                "--collector HOST:4318)"
            )
        url = ui_url(collector)
        check_collector(url)
        _announce(url, open_browser)
        return
    _serve_here(store, port, grpc_port, host, open_browser)


# -- a running collector ------------------------------------------------------------------


def ui_url(address: str) -> str:
    """The UI's base URL (ending in ``/``) for ``--collector``: ``HOST``, ``HOST:PORT`` or
    an ``http(s)://`` URL; the port defaults to 4318."""
    text = address.strip().rstrip("/")
    scheme = "http"
    if "://" in text:
        scheme, text = text.split("://", 1)
        if scheme not in ("http", "https"):
            raise ConfigurationError(
                f"--collector {address!r}: use HOST:PORT of the collector's HTTP port, or an "
                "http:// or https:// URL"
            )
    if "/" in text or not text:
        raise ConfigurationError(
            f"--collector {address!r} is not HOST:PORT of a collector's HTTP port (e.g. "
            "localhost:4318)"
        )
    host, port = _split_host_port(text, address)
    return f"{scheme}://{_url_host(host)}:{port}/"


def _split_host_port(text: str, address: str) -> tuple[str, int]:
    if text.startswith("["):  # [IPv6]:port
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":") if rest else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not port_text:
        return host, DEFAULT_HTTP_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigurationError(
            f"--collector {address!r}: the port must be a number from 1 to 65535"
        )
    return host, int(port_text)


def check_collector(url: str, timeout: float = CHECK_TIMEOUT_S) -> None:
    """ConfigurationError saying what is wrong unless the collector at ``url`` is ready
    (``/readyz``) and serves the UI at ``/``."""
    status, body = _get(url + "readyz", timeout)
    if status is None:
        hint = (
            " (4317 is the gRPC port; the UI is on the HTTP port, 4318 by default)"
            if url.endswith(":4317/")
            else ""
        )
        raise ConfigurationError(
            f"no collector answers at {url} ({body}){hint}; check --collector HOST:PORT "
            "of its HTTP port, or leave --collector out to start one here"
        )
    if status != 200:
        raise ConfigurationError(
            f"the collector at {url} answers /readyz with HTTP {status}"
            + (f" ({body.strip()})" if body.strip() else "")
            + "; see its log"
        )
    status, body = _get(url, timeout)
    if status == 404:
        raise ConfigurationError(
            f"the collector at {url} does not serve the web UI: it was started with --no-ui "
            "(SPYGLASS_UI=false); start it without that setting"
        )
    if status is None or status >= 500:
        raise ConfigurationError(f"the web UI at {url} fails ({status or body}); see its log")


def _get(url: str, timeout: float) -> tuple[int | None, str]:
    """(HTTP status, body) of GET ``url``; (None, why) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(2000).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, str(reason)


# -- a collector started here -------------------------------------------------------------


def _serve_here(
    store: str | None,
    port: int | None,
    grpc_port: int | None,
    host: str | None,
    open_browser: bool,
) -> None:
    from spyglass.cli.connection import sqlite_file
    from spyglass.cli.logs import setup_logging
    from spyglass.config import CollectorSettings
    from spyglass.extras import require_extra

    require_extra("collector", "spyglass ui without --collector (it starts a collector)")
    settings = CollectorSettings.load(store=store, http_port=port, grpc_port=grpc_port, host=host)
    setup_logging(settings.log_level)
    path = sqlite_file(settings.store)
    new_store = path is not None and not os.path.exists(path)
    try:
        asyncio.run(_run(settings, open_browser, new_store))
    except KeyboardInterrupt:  # Ctrl-C while starting, before the collector took SIGINT
        sys.exit(130)


async def _run(settings: Any, open_browser: bool, new_store: bool) -> None:
    from spyglass.collector.server import Collector

    collector = Collector(settings)
    serving = asyncio.create_task(collector.serve())
    url = await _started(collector, serving, settings.host)
    if url is None:  # stopped (Ctrl-C) before it was ready
        return
    _announce(url, open_browser)
    click.echo(f"Store: {settings.store}" + (" (new, empty)" if new_store else ""))
    click.echo(
        f"Send traces over OTLP to {_url_host(_shown_host(settings.host))}:{collector.grpc_port}"
        f" (gRPC) or {url}v1/traces (HTTP). Ctrl-C stops.",
    )
    sys.stdout.flush()
    await serving


async def _started(collector: Any, serving: asyncio.Task[None], host: str) -> str | None:
    """The UI's URL once the collector's HTTP port answers ``/readyz`` (None if it was
    stopped first); raises what the collector failed to start with."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if serving.done():
            serving.result()  # the start's error, e.g. a port in use
            return None
        if collector.http_port is not None:
            url = f"http://{_url_host(_shown_host(host))}:{collector.http_port}/"
            status, _ = await asyncio.to_thread(_get, url + "readyz", CHECK_TIMEOUT_S)
            if status == 200:
                return url
        await asyncio.sleep(0.05)
    raise SpyglassError(
        f"the collector did not become ready within {START_TIMEOUT_S:.0f}s; see its log above"
    )


def _announce(url: str, open_browser: bool) -> None:
    click.echo(f"Spyglass UI: {url}")
    sys.stdout.flush()
    if open_browser and not webbrowser.open(url):
        click.echo(f"(no web browser could be opened here; open {url} yourself)", err=True)


def _shown_host(host: str) -> str:
    """The host to put in a URL for a server bound to ``host`` (any-address: loopback)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
