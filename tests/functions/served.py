"""The embedded app as the edge tests use it: on local stores, behind uvicorn as ``huchu serve``
runs it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from functions.embedded import create_embedded_app
from functions.wiring import assemble
from huchu.context import Context
from huchu.inference.local import LocalInference
from huchu.stores.factory import build_object_store
from huchu.stores.vectors import QdrantStore
from tests.functions.conftest import make_settings
from tests.servers import serving


@contextmanager
def embedded(
    tmp_path: Path, inference: LocalInference, site: Path | None = None, **kw: Any
) -> Iterator[FastAPI]:
    """The embedded app on local files and Qdrant local mode, with settings ``kw``; with the
    built ``site`` at ``/`` as ``huchu serve`` has it."""
    settings = make_settings(tmp_path, **kw)
    vectors = QdrantStore(None, settings.data_dir / "qdrant")
    ctx = assemble(settings, build_object_store(settings), vectors, inference)
    try:
        yield create_embedded_app(ctx, site_dir=site, scheduler=False)
    finally:
        ctx.close()  # the stores, and the FalkorDB it started for the graph


def like_huchu_serve(app: FastAPI, http: str = "auto") -> AbstractContextManager[str]:
    """``app`` behind uvicorn configured as ``huchu serve`` configures it."""
    return serving(app, huchu_serve=True, http=http)


def context(app: FastAPI) -> Context:
    ctx: Context = app.state.context
    return ctx


def error_code(r: httpx.Response) -> tuple[int, str]:
    assert r.headers["content-type"].startswith("application/json"), r.text
    return r.status_code, r.json()["error"]["code"]
