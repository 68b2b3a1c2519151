"""Pages, API answers and files defend themselves: CSP, no sniffing, no framing, no referrer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from frontend.build import build_site
from functions.embedded import create_embedded_app
from functions.headers import page_policy
from functions.photos import create_app as photos_function
from functions.wiring import assemble
from huchu.inference.local import LocalInference
from huchu.stores.factory import build_object_store
from huchu.stores.vectors import QdrantStore
from tests.functions.conftest import make_settings

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site") / "site")


@pytest.fixture
def client(tmp_path: Path, inference: LocalInference, site: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path)
    vectors = QdrantStore(None, settings.data_dir / "qdrant")
    ctx = assemble(settings, build_object_store(settings), vectors, inference)
    try:
        with TestClient(create_embedded_app(ctx, site_dir=site, scheduler=False)) as c:
            ctx.objects.put("photos/x/original.jpg", b"\xff\xd8\xff not really", "image/jpeg")
            c.app.state.file_url = ctx.objects.url("photos/x/original.jpg")  # type: ignore[attr-defined]
            yield c
    finally:
        ctx.close()


def directives(policy: str) -> dict[str, str]:
    return {d.split()[0]: d.partition(" ")[2] for d in (p.strip() for p in policy.split(";"))}


def assert_common(headers: object, where: str) -> None:
    for name, value in COMMON.items():
        assert headers[name] == value, (where, name)  # type: ignore[index]
    policy = directives(headers["content-security-policy"])  # type: ignore[index]
    assert policy["frame-ancestors"] == "'none'", where


def test_pages_allow_only_their_own_scripts_and_styles(client: TestClient, site: Path) -> None:
    for page in sorted(site.rglob("*.html")):
        path = "/" + page.relative_to(site).as_posix()
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert_common(answer.headers, path)
        policy = directives(answer.headers["content-security-policy"])
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", path
        assert policy["object-src"] == "'none'", path
        # The policy forbids inline code: the pages must not carry any.
        html = answer.text
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), path
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", html, re.I), path


def test_a_revalidated_page_keeps_the_page_policy(client: TestClient) -> None:
    first = client.get("/index.html")
    again = client.get("/index.html", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    # The browser takes a 304's headers onto the page it has cached.
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]


def test_the_api_docs_load_their_ui_and_cannot_be_framed(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        answer = client.get(path)
        assert_common(answer.headers, path)
        assert (
            "https://cdn.jsdelivr.net"
            in directives(answer.headers["content-security-policy"])["script-src"]
        )


def test_api_answers_and_files_run_nothing(client: TestClient) -> None:
    answers = {
        "engine": client.get("/api/engine"),
        "error": client.get("/api/photos/nope"),
        "fragment": client.get("/api/photos", headers={"HX-Request": "true"}),
        "file": client.get(client.app.state.file_url),  # type: ignore[attr-defined]
        "health": client.get("/healthz"),
        "too large": client.post("/api/photos", headers={"content-length": str(1 << 30)}),
    }
    for where, answer in answers.items():
        assert_common(answer.headers, where)
        if not answer.headers["content-type"].startswith("text/html"):
            assert directives(answer.headers["content-security-policy"])["default-src"] == "'none'"
    assert answers["file"].status_code == 200


def test_each_function_sends_them_too(tmp_path: Path) -> None:
    with TestClient(photos_function(make_settings(tmp_path))) as c:
        assert_common(c.get("/api/photos/nope").headers, "photos function")


def test_pictures_from_another_origin_are_allowed_where_they_live() -> None:
    policy = directives(page_policy(["http://localhost:9000"]))
    assert policy["img-src"].split()[-1] == "http://localhost:9000"
    assert policy["connect-src"] == "'self' http://localhost:9000"
