"""A function behind its Mangum handler, the rate limit, and `huchu ingest`."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from functions.embedded import create_embedded_app
from huchu.context import Context
from tests.functions.conftest import counts, upload


def multipart(fields: dict[str, str], file: tuple[str, bytes, str]) -> tuple[bytes, str]:
    boundary = "huchuBoundary7MA4YWxkTrZu0gW"
    parts = []
    for k, v in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        )
    name, data, ctype = file
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {ctype}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def api_gateway_v2(method: str, path: str, body: bytes, content_type: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": content_type,
            "host": "api.example",
            "content-length": str(len(body)),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "test",
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795600800000,
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


class LambdaContext:
    function_name = "huchu-photos"
    aws_request_id = "req-1"


def test_photos_function_through_mangum(ctx: Context, photos: dict[str, bytes]) -> None:
    from functions import photos as photos_fn
    from functions.app import mangum

    assert not hasattr(photos_fn, "app")  # nothing is built on import; the handler is lazy
    app = photos_fn.create_app(ctx.settings)
    app.state.context = ctx
    from huchu import events
    from huchu.schemas import EventSetup

    events.put(ctx, "lambda", EventSetup(name="Lambda"))
    body, ctype = multipart(
        {"consent": "true", "event": "lambda"}, ("obama.jpg", photos["obama.jpg"], "image/jpeg")
    )
    result = mangum(app)(api_gateway_v2("POST", "/api/photos", body, ctype), LambdaContext())
    assert result["statusCode"] == 201, result
    answer = json.loads(result["body"])
    assert answer["event"] == "lambda" and answer["faces"][0]["accepted"]
    assert counts(ctx)[2] == 1


def test_a_delete_through_mangum_leaves_its_pictures_to_the_schedule(
    ctx: Context, photos: dict[str, bytes]
) -> None:
    """Mangum answers only once background work is done: on Lambda a delete publishes its
    numbers and the next scheduled recompute draws the pictures."""
    from functions import photos as photos_fn
    from functions.app import mangum
    from huchu.game import state
    from huchu.game.recompute import recompute

    app = photos_fn.create_app(ctx.settings)
    app.state.context = ctx
    upload_ = TestClient(create_embedded_app(ctx, scheduler=False))
    upload(upload_, photos["obama.jpg"])
    gone = upload(upload_, photos["biden.jpg"]).json()
    drawn = recompute(ctx, "default")
    event = api_gateway_v2("DELETE", f"/api/photos/{gone['photo_id']}", b"", "text/plain")
    event["headers"]["x-huchu-owner"] = gone["owner_token"]
    assert mangum(app)(event, LambdaContext())["statusCode"] == 204
    after = state.public(ctx, state.current(ctx, "default"), "default")
    assert after.version == drawn.version + 1 and after.cohorts[0].image_url is None
    assert state.load(ctx, "default")[0].drawn is False
    assert all(c.image_url for c in recompute(ctx, "default").cohorts)


def test_rate_limit_in_embedded_app(ctx: Context, photos: dict[str, bytes]) -> None:
    limited = ctx.settings.model_copy(update={"rate_limit_per_minute": 2})
    app = create_embedded_app(replace(ctx, settings=limited), scheduler=False)
    with TestClient(app) as client:
        codes = [upload(client, photos["chelsea.png"]).status_code for _ in range(3)]
    assert codes == [422, 422, 429]


def test_ingest_is_resumable(tmp_path: Path, photos: dict[str, bytes]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("obama.jpg", "biden.jpg", "chelsea.png"):
        (folder / name).write_bytes(photos[name])
    (folder / "notes.txt").write_text("not a photo")
    huchu = str(Path(sys.executable).parent / "huchu")
    env_args = [
        huchu,
        "ingest",
        str(folder),
        "--event",
        "team",
        "--data-dir",
        str(tmp_path / "data"),
    ]
    first = subprocess.run(env_args, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "ingested: 2" in first.stdout and "failed: no_face: 1" in first.stdout
    assert "ingest team" in first.stderr  # the progress bar
    (folder / "obama2.jpg").write_bytes(photos["obama2.jpg"])
    second = subprocess.run(env_args, capture_output=True, text=True, timeout=300)
    assert "ingested: 1" in second.stdout and "skipped (already ingested): 2" in second.stdout
    bad = subprocess.run([huchu, "ingest", str(tmp_path / "nope")], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
