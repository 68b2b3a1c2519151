"""Direct-to-bucket uploads: a presigned PUT to a staging key, then processing, end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from functions.embedded import create_embedded_app
from functions.wiring import assemble
from huchu.context import Context
from huchu.inference.local import LocalInference
from huchu.photos.staged import EXPIRES, PROCESSED, STAGING, forget_processed
from huchu.stores.factory import build_object_store, s3_client
from huchu.stores.vectors import QdrantStore
from tests.functions.conftest import counts, make_settings
from tests.rclone import rclone_s3


def send(client: TestClient, ticket: dict[str, Any], data: bytes) -> int:
    """PUT the bytes where the ticket says: the API itself (local files) or the bucket."""
    url: str = ticket["url"]
    headers: dict[str, str] = ticket["headers"]
    sent = (
        client.put(url, content=data, headers=headers)
        if url.startswith("/")
        else httpx.put(url, content=data, headers=headers)
    )
    return sent.status_code


def ticket_for(client: TestClient, data: bytes, content_type: str = "image/jpeg") -> Any:
    answer = client.post(
        "/api/uploads", json={"event": "default", "content_type": content_type, "size": len(data)}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def direct_upload(client: TestClient, data: bytes, **form: str) -> httpx.Response:
    ticket = ticket_for(client, data)
    assert ticket["method"] == "PUT" and ticket["expires_at"].endswith("Z")
    assert send(client, ticket, data) == 200
    answer: httpx.Response = client.post(
        f"/api/uploads/{ticket['upload_id']}/process", data={"consent": "true", **form}
    )
    return answer


def staged(ctx: Context) -> list[str]:
    """Staged bytes (not the marks of uploads processed already)."""
    return [k for k in ctx.objects.list(STAGING) if not k.startswith(PROCESSED)]


def test_direct_upload_answers_like_post_photos(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    answer = direct_upload(client, photos["obama.jpg"], title="direct")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["title"] == "direct" and body["owner_token"]
    assert [f["accepted"] for f in body["faces"]] == [True]
    assert client.get(f"/api/photos/{body['photo_id']}").status_code == 200
    assert staged(ctx) == []


def test_staged_bytes_are_deleted_whatever_the_outcome(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    before = counts(ctx)
    no_face = direct_upload(client, photos["chelsea.png"])
    assert no_face.status_code == 422 and no_face.json()["error"]["code"] == "no_face"
    not_an_image = direct_upload(client, b"GIF89a but not really")
    assert not_an_image.status_code == 415
    ticket = ticket_for(client, photos["obama.jpg"])
    assert send(client, ticket, photos["obama.jpg"]) == 200
    no_consent = client.post(f"/api/uploads/{ticket['upload_id']}/process", data={})
    assert no_consent.status_code == 400
    assert staged(ctx) == [] and counts(ctx) == before
    again = client.post(f"/api/uploads/{ticket['upload_id']}/process", data={"consent": "true"})
    assert again.status_code == 404


def test_a_presigned_upload_is_processed_once(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    data = photos["obama.jpg"]
    ticket = ticket_for(client, data)
    assert send(client, ticket, data) == 200
    process = f"/api/uploads/{ticket['upload_id']}/process"
    assert client.post(process, data={"consent": "true"}).status_code == 201
    before = counts(ctx)
    # The same signed URL, within its 15 minutes: the API refuses the PUT itself; a bucket
    # cannot tell, so the processing refuses it (and deletes the bytes).
    again = send(client, ticket, data)
    assert again == (403 if ticket["url"].startswith("/") else 200)
    replay = client.post(process, data={"consent": "true"})
    assert replay.status_code == 404 and replay.json()["error"]["code"] == "not_found"
    assert counts(ctx) == before and ctx.vectors.count(ctx.photos, {}) == 1
    assert staged(ctx) == []
    # The mark outlives the signed PUT, then the start-up sweep forgets it.
    now = time.time()
    assert forget_processed(ctx, now) == 0 and ctx.objects.list(PROCESSED)
    assert forget_processed(ctx, now + EXPIRES + 1) == 1 and not ctx.objects.list(PROCESSED)


def test_a_title_not_in_utf8_is_refused(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    ticket = ticket_for(client, photos["obama.jpg"])
    assert send(client, ticket, photos["obama.jpg"]) == 200
    answer = client.post(
        f"/api/uploads/{ticket['upload_id']}/process",
        content=b"consent=true&title=caf%E9",  # Latin-1, not UTF-8
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 400 and "UTF-8" in answer.json()["error"]["message"]
    assert staged(ctx) == [] and ctx.vectors.count(ctx.photos, {}) == 0


def test_limits_are_checked_before_a_byte_is_sent(client: TestClient, ctx: Context) -> None:
    too_big = ctx.settings.max_upload_bytes + 1
    answer = client.post(
        "/api/uploads", json={"event": "default", "content_type": "image/jpeg", "size": too_big}
    )
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "too_large"
    answer = client.post(
        "/api/uploads", json={"event": "default", "content_type": "text/html", "size": 10}
    )
    assert answer.status_code == 415
    answer = client.post(
        "/api/uploads", json={"event": "Bad Event", "content_type": "image/jpeg", "size": 10}
    )
    assert answer.status_code == 400
    assert (
        client.post("/api/uploads/not-an-id/process", data={"consent": "true"}).status_code == 404
    )


def test_local_put_takes_only_what_was_signed(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    if not ticket_for(client, b"x")["url"].startswith("/"):
        pytest.skip("moto does not check signatures: the rclone test covers S3")
    data = photos["obama.jpg"]
    ticket = ticket_for(client, data)
    url, headers = ticket["url"], ticket["headers"]
    assert client.put(url, content=data + b"!", headers=headers).status_code == 403
    assert client.put(url, content=data, headers={"Content-Type": "image/png"}).status_code == 403
    assert (
        client.put(url.replace("sig=", "sig=0"), content=data, headers=headers).status_code == 403
    )
    photo_key = url.replace("staging/", "photos/")
    assert client.put(photo_key, content=data, headers=headers).status_code == 403
    assert staged(ctx) == []


@pytest.fixture
def rclone_client(
    tmp_path: Path, inference: LocalInference
) -> Iterator[tuple[TestClient, Context]]:
    with rclone_s3(tmp_path / "s3") as server:
        settings = make_settings(
            tmp_path,
            s3_endpoint=server.endpoint,
            s3_bucket="huchu-images",
            s3_access_key=server.access_key,
            s3_secret_key=server.secret_key,
            s3_region="us-east-1",
        )
        s3_client(settings).create_bucket(Bucket="huchu-images")
        vectors = QdrantStore(None, settings.data_dir / "qdrant")
        ctx = assemble(settings, build_object_store(settings), vectors, inference)
        try:
            with TestClient(create_embedded_app(ctx, scheduler=False)) as client:
                yield client, ctx
        finally:
            ctx.close()


def test_direct_upload_to_a_signature_checking_s3(
    rclone_client: tuple[TestClient, Context], photos: dict[str, bytes]
) -> None:
    client, ctx = rclone_client
    data = photos["obama.jpg"]
    ticket = ticket_for(client, data)
    assert ticket["url"].startswith("http://127.0.0.1:")
    assert httpx.put(ticket["url"], content=data[:-1], headers=ticket["headers"]).status_code == 403
    assert staged(ctx) == []
    answer = direct_upload(client, data)
    assert answer.status_code == 201, answer.text
    image = httpx.get(answer.json()["image_url"])
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"
    assert staged(ctx) == []
