"""The HTTP edge: whole-string slugs, owner tokens, 413 for chunked bodies, and JSON for the
refusals made before a route runs (CORS, over-long or malformed requests)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from huchu.errors import BadRequest
from huchu.inference.local import LocalInference
from huchu.photos import validate
from tests.commandline import huchu
from tests.functions.conftest import ADMIN, counts, upload
from tests.functions.served import context, embedded, error_code, like_huchu_serve


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


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_a_body_without_length_or_chunking_is_411(
    tmp_path: Path, inference: LocalInference, http: str
) -> None:
    """HTTP/1.1 reads such a body as none, and its bytes as the next request: the answer is
    411 for the request, and the connection ends (its bytes are never taken as a request)."""
    form = b'--b\r\nContent-Disposition: form-data; name="consent"\r\n\r\ntrue\r\n--b--\r\n'
    with embedded(tmp_path, inference) as app, like_huchu_serve(app, http) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /api/photos HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: multipart/form-data; boundary=b\r\n\r\n" + form
            )
            answer = b""
            while chunk := sock.recv(65536):  # until the server closes the connection
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 411 "), answer[:200]
        assert json.loads(body)["error"]["code"] == "length_required"
        assert answer.count(b"HTTP/1.1 ") == 1
        # Framed bodies, and bodiless calls without Content-Type, are as before.
        assert httpx.post(f"{url}/api/lookalikes", files={"file": ("a", b"x")}).status_code == 415
        assert httpx.post(f"{url}/api/averages/recompute").status_code == 403
