"""The embedded app as the edge tests use it: on local stores, behind uvicorn as ``huchu serve``
runs it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from functions import server
from functions.embedded import create_embedded_app
from huchu.context import Context, assemble
from huchu.inference.local import LocalInference
from huchu.stores.factory import build_object_store
from huchu.stores.vectors import QdrantStore
from tests.functions.conftest import make_settings
from tests.servers import free_port


@contextmanager
def embedded(tmp_path: Path, inference: LocalInference, **kw: Any) -> Iterator[FastAPI]:
    """The embedded app on local files and Qdrant local mode, with settings ``kw``."""
    settings = make_settings(tmp_path, **kw)
    vectors = QdrantStore(None, settings.data_dir / "qdrant")
    try:
        yield create_embedded_app(
            assemble(settings, build_object_store(settings), vectors, inference), scheduler=False
        )
    finally:
        vectors.close()


@contextmanager
def like_huchu_serve(app: FastAPI, http: str = "auto") -> Iterator[str]:
    """``app`` behind uvicorn configured as ``huchu serve`` configures it."""
    port = free_port()
    srv = uvicorn.Server(server.config(app, "127.0.0.1", port, http=http, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not srv.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def context(app: FastAPI) -> Context:
    ctx: Context = app.state.context
    return ctx


def error_code(r: httpx.Response) -> tuple[int, str]:
    assert r.headers["content-type"].startswith("application/json"), r.text
    return r.status_code, r.json()["error"]["code"]
