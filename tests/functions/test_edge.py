"""The HTTP edge: whole-string slugs, owner tokens, 413 for chunked bodies, JSON refusals
(CORS, over-long requests) and a rate limit that believes only trusted proxies."""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functions import server
from functions.embedded import create_embedded_app
from functions.ratelimit import MAX_CLIENTS, RateLimiter, Throttled, client_address, parse_networks
from huchu.context import Context, assemble
from huchu.errors import BadRequest
from huchu.inference.local import LocalInference
from huchu.photos import validate
from huchu.stores.factory import build_object_store
from huchu.stores.vectors import QdrantStore
from tests.commandline import huchu
from tests.functions.conftest import ADMIN, counts, make_settings, upload
from tests.servers import free_port

NOT_A_PHOTO = os.urandom(2048)


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


def test_event_slug_is_the_whole_string(
    tmp_path: Path, inference: LocalInference, photos: dict[str, bytes]
) -> None:
    bad = "party2\n"
    with pytest.raises(BadRequest):
        validate.event(bad)
    assert validate.event("party2") == "party2"
    out = huchu("recompute", "--event", bad, env={"HUCHU_DATA_DIR": str(tmp_path / "cli")})
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "cli").exists() or "party2" not in str(
        list((tmp_path / "cli").rglob("*"))
    )

    admin = {"Authorization": f"Bearer {ADMIN}"}
    with embedded(tmp_path, inference) as app, TestClient(app) as client:
        ctx = context(app)
        before = counts(ctx)
        reads = [
            "/api/photos",
            "/api/faces",
            "/api/averages",
            "/api/averages/history",
            "/api/leaderboard",
            "/api/graph",
        ]
        for path in reads:
            r = client.get(path, params={"event": bad})
            assert error_code(r) == (400, "bad_request"), path
        r = client.get("/api/graph", params={"event": bad, "format": "graphml"})
        assert error_code(r) == (400, "bad_request")
        r = client.post("/api/averages/recompute", params={"event": bad}, headers=admin)
        assert error_code(r) == (400, "bad_request")
        assert error_code(upload(client, photos["obama.jpg"], event=bad)) == (400, "bad_request")
        r = client.post(
            "/api/lookalikes",
            files={"file": ("a.jpg", photos["obama.jpg"], "image/jpeg")},
            data={"event": bad},
        )
        assert error_code(r) == (400, "bad_request")
        assert counts(ctx) == before
        assert not [k for k in ctx.objects.list("") if "party2" in k]
        assert not [p for p in ctx.settings.data_dir.rglob("*") if "party2" in p.name]


def test_owner_tokens_are_issued_and_checked_for_form(
    tmp_path: Path, inference: LocalInference, photos: dict[str, bytes]
) -> None:
    with embedded(tmp_path, inference) as app, TestClient(app) as client:
        ctx = context(app)
        body = upload(client, photos["obama.jpg"]).json()
        token = body["owner_token"]
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 16  # 128 bits
        before = counts(ctx)
        photo = f"/api/photos/{body['photo_id']}"
        for bad in ("a", token[:21], token + "!", "x" * 129, " "):
            owner = {"X-Huchu-Owner": bad}
            refused = [
                upload(client, photos["biden.jpg"], owner=bad),
                client.get("/api/photos", params={"mine": "true"}, headers=owner),
                client.get("/api/faces", params={"mine": "true"}, headers=owner),
                client.delete(photo, headers=owner),
            ]
            for r in refused:
                assert error_code(r) == (400, "bad_request"), (bad, r.request.url)
        assert counts(ctx) == before
        mine = client.get("/api/photos", params={"mine": "true"}, headers={"X-Huchu-Owner": token})
        assert [p["photo_id"] for p in mine.json()["items"]] == [body["photo_id"]]
        assert client.delete(photo, headers={"X-Huchu-Owner": token}).status_code == 204


def chunks(total: int, size: int = 16 * 1024) -> Iterator[bytes]:
    boundary = b"--edge\r\n"
    yield boundary + b'Content-Disposition: form-data; name="consent"\r\n\r\ntrue\r\n'
    yield boundary + b'Content-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
    yield b"Content-Type: image/jpeg\r\n\r\n"
    for _ in range(total // size):
        yield b"\xff" * size
    yield b"\r\n--edge--\r\n"


@pytest.mark.parametrize("htmx", [False, True])
def test_chunked_upload_over_the_limit_is_413(
    tmp_path: Path, inference: LocalInference, htmx: bool
) -> None:
    with embedded(tmp_path, inference, max_upload_bytes=1000) as app:
        before = counts(context(app))
        with like_huchu_serve(app) as url:
            headers = {"Content-Type": "multipart/form-data; boundary=edge"}
            if htmx:
                headers["HX-Request"] = "true"
            r = httpx.post(f"{url}/api/photos", content=chunks(512 * 1024), headers=headers)
        assert "content-length" not in r.request.headers
        assert r.request.headers["transfer-encoding"] == "chunked"
        assert r.status_code == 413, r.text
        if htmx:
            assert r.headers["content-type"].startswith("text/html") and "too_large" in r.text
        else:
            assert r.json()["error"]["code"] == "too_large"
        assert counts(context(app)) == before


def test_refused_cors_preflight_answers_json(tmp_path: Path, inference: LocalInference) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    with embedded(tmp_path, inference) as app, TestClient(app) as client:
        ok = client.options("/api/photos", headers={**preflight, "Origin": "http://site.example"})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "http://site.example"
        cross = client.get("/api/engine", headers={"Origin": "http://site.example"})
        assert "retry-after" in cross.headers["access-control-expose-headers"].lower()
        for headers in (
            {**preflight, "Origin": "http://evil.example"},
            {"Access-Control-Request-Method": "PATCH", "Origin": "http://site.example"},
            {
                **preflight,
                "Origin": "http://site.example",
                "Access-Control-Request-Headers": "X-No",
            },
        ):
            r = client.options("/api/photos", headers=headers)
            assert error_code(r) == (403, "forbidden"), headers
            assert "CORS" in r.json()["error"]["message"]
            if "evil" in headers["Origin"]:
                assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_over_long_ids_get_json(tmp_path: Path, inference: LocalInference, http: str) -> None:
    with embedded(tmp_path, inference) as app, like_huchu_serve(app, http) as url:
        # Past h11's default buffer (16 KiB), within httptools' URL limit (64 KiB): the app.
        r = httpx.get(f"{url}/api/photos/{'a' * 40_000}")
        assert error_code(r) == (404, "not_found")
        r = httpx.get(f"{url}/api/faces/{'b' * 40_000}/similar")
        assert error_code(r) == (404, "not_found")
        # Past the parser's limit (httptools: 64 KiB URLs; h11: 96 KiB when the head comes
        # in pieces), or not a request at all: the server's own refusal, in the same body.
        for head in (f"GET /api/photos/{'a' * 100_000} HTTP/1.1", "GET /healthz HTTP/1.1\r\nNo"):
            status, ctype, body = raw(url, head)
            assert ctype == "application/json", (status, body[:80])
            expected = "not_found" if status == 404 and http == "h11" else "bad_request"
            assert json.loads(body)["error"]["code"] == expected


def raw(url: str, head: str) -> tuple[int, str, bytes]:
    """A request as written (no client library shortens or refuses it): status, type, body."""
    host, port = url.removeprefix("http://").split(":")
    for attempt in range(3):
        try:
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                sock.sendall(f"{head}\r\nHost: {host}\r\n\r\n".encode())
                response = http.client.HTTPResponse(sock)
                response.begin()
                return response.status, response.getheader("content-type", ""), response.read()
        except ConnectionResetError:  # the server closed before it read our whole request
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def test_429_carries_retry_after(tmp_path: Path, inference: LocalInference) -> None:
    with embedded(tmp_path, inference, rate_limit_per_minute=2) as app, TestClient(app) as client:
        codes = [
            client.post("/api/lookalikes", files={"file": ("x.jpg", NOT_A_PHOTO, "image/jpeg")})
            for _ in range(3)
        ]
        assert [r.status_code for r in codes] == [415, 415, 429]
        assert codes[2].json()["error"]["code"] == "rate_limited"
        assert 1 <= int(codes[2].headers["Retry-After"]) <= 60
        r = client.post(
            "/api/photos",
            files={"file": ("x.jpg", NOT_A_PHOTO, "image/jpeg")},
            data={"consent": "true"},
            headers={"HX-Request": "true"},
        )
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60


def post_from(url: str, forwarded_for: str) -> int:
    files = {"file": ("x.jpg", NOT_A_PHOTO, "image/jpeg")}
    r = httpx.post(f"{url}/api/lookalikes", files=files, headers={"X-Forwarded-For": forwarded_for})
    return r.status_code


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    tmp_path: Path, inference: LocalInference
) -> None:
    # An untrusted peer (the loopback is not listed) rotating X-Forwarded-For: one budget.
    with (
        embedded(tmp_path / "open", inference, rate_limit_per_minute=3) as app,
        like_huchu_serve(app) as url,
    ):
        codes = [post_from(url, f"198.51.100.{i}") for i in range(5)]
    assert codes == [415, 415, 415, 429, 429]
    # Behind a trusted proxy: each forwarded client has its own budget; what a client puts
    # left of the proxy's entry is not believed.
    with (
        embedded(
            tmp_path / "proxied", inference, rate_limit_per_minute=2, trusted_proxies="127.0.0.0/8"
        ) as app,
        like_huchu_serve(app) as url,
    ):
        a = [post_from(url, f"{i}.1.1.1, 203.0.113.7") for i in range(3)]
        b = [post_from(url, "203.0.113.8") for _ in range(2)]
    assert a == [415, 415, 429] and b == [415, 415]


def test_client_address_reads_the_chain_from_the_right() -> None:
    proxies = parse_networks("10.0.0.0/8, 192.0.2.1")
    assert client_address("192.0.2.9", "203.0.113.1", proxies) == "192.0.2.9"
    assert client_address("192.0.2.1", "203.0.113.1", proxies) == "203.0.113.1"
    assert client_address("10.1.2.3", "6.6.6.6, 203.0.113.1, 10.9.9.9", proxies) == "203.0.113.1"
    assert client_address("10.1.2.3", "10.0.0.5, 10.0.0.6", proxies) == "10.0.0.5"
    assert client_address("10.1.2.3", None, proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", "203.0.113.1", parse_networks(None)) == "10.1.2.3"
    with pytest.raises(ValueError, match="HUCHU_TRUSTED_PROXIES"):
        parse_networks("10.0.0.0/8, not-an-address")


def test_rate_limiter_memory_is_bounded() -> None:
    clock = [0.0]
    limiter = RateLimiter(per_minute=5, clock=lambda: clock[0])
    for i in range(20_000):
        limiter.hit(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}")
        clock[0] += 0.001  # 20,000 addresses within one window
        assert len(limiter.seen) <= MAX_CLIENTS
    assert len(limiter.seen) == MAX_CLIENTS
    clock[0] += 61
    limiter.hit("192.0.2.1")
    assert list(limiter.seen) == ["192.0.2.1"]  # idle clients are forgotten
    for _ in range(4):  # the hit above was the first of five
        limiter.hit("192.0.2.1")
        clock[0] += 1
    with pytest.raises(Throttled) as refused:
        limiter.hit("192.0.2.1")
    assert refused.value.retry_after == 56 and refused.value.status == 429
