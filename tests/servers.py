"""Servers for tests: a free loopback port, an ASGI app in a thread, stopped on exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    app: ASGIApp, port: int | None = None, *, huchu_serve: bool = False, http: str = "auto"
) -> Iterator[str]:
    """``app`` on ``http://127.0.0.1:<port>`` until the block ends (thread joined).

    ``huchu_serve``: behind uvicorn configured as ``huchu serve`` configures it (its
    protocol classes, limits and proxy rules), not uvicorn's defaults.
    """
    port = port or free_port()
    if huchu_serve:
        from functions import server as huchu_server

        config = huchu_server.config(app, "127.0.0.1", port, http=http, log_level="warning")
    else:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, http=http, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"test server on port {port} did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def huchu_serve(
    data: Path, port: int, *args: str, env: dict[str, str] | None = None, **popen: Any
) -> subprocess.Popen[bytes]:
    """The installed ``huchu serve`` on ``port`` with ``data`` as its data dir."""
    command = [str(Path(sys.executable).parent / "huchu"), "serve", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--data-dir", str(data), *args], env={**os.environ, **(env or {})}, **popen
    )


def wait_healthy(url: str, seconds: float = 90.0) -> bool:
    """True once ``{url}/healthz`` answers 200, False when ``seconds`` ran out."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False
