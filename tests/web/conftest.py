"""A live Huchu (API + site) on loopback and a real headless Chromium."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from frontend.build import build_site
from functions.embedded import create_embedded_app
from functions.wiring import assemble
from huchu.context import Context
from huchu.inference.local import LocalInference
from huchu.stores.factory import build_object_store
from huchu.stores.falkordb_server import EmbeddedFalkorDB
from huchu.stores.vectors import QdrantStore
from tests.conftest import graph_store
from tests.functions.conftest import inference as inference
from tests.functions.conftest import make_settings
from tests.functions.conftest import s3_endpoint as s3_endpoint
from tests.servers import free_port, serving
from tests.web.checks import csp_violations

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHONE = {"width": 390, "height": 844}


@dataclass
class Live:
    url: str  # where the page is
    api: str  # where the API is
    ctx: Context


def _context(tmp: Path, inf: LocalInference, server: EmbeddedFalkorDB, **kw: Any) -> Context:
    settings = make_settings(tmp, rate_limit_per_minute=0, **kw)
    objects, vectors = build_object_store(settings), QdrantStore(None, tmp / "qdrant")
    return assemble(settings, objects, vectors, inf, graph_store(server))


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
    inference: LocalInference,
    graph_server: EmbeddedFalkorDB,
) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    ctx = _context(tmp, inference, graph_server, public_base_url="")
    site = build_site(tmp / "site", api_url="")
    with serving(create_embedded_app(ctx, site_dir=site, scheduler=False)) as url:
        yield Live(url, url, ctx)


@pytest.fixture(scope="module")
def cross_origin(
    tmp_path_factory: pytest.TempPathFactory,
    inference: LocalInference,
    graph_server: EmbeddedFalkorDB,
) -> Iterator[Live]:
    """The built site on one port (a plain static server, like a bucket), the API on another."""
    tmp = tmp_path_factory.mktemp("cross")
    api_port, site_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    origin = f"http://127.0.0.1:{site_port}"
    ctx = _context(tmp, inference, graph_server, cors_origins=origin, public_base_url=api)
    site = build_site(tmp / "site", api_url=api)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    static = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    threading.Thread(target=static.serve_forever, daemon=True).start()
    with serving(create_embedded_app(ctx, scheduler=False), api_port):
        yield Live(origin, api, ctx)
    static.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    pg = context.new_page()
    refused = csp_violations(pg)
    yield pg
    context.close()
    assert not refused, refused


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
