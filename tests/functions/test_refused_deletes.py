"""Erasure on S3 when the bucket refuses a key: DeleteObjects answers 200 and names the
refused keys under ``Errors`` (here a bucket policy denies them, as on AWS). The delete
fails loudly and stays owed until it completes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from huchu.context import Context
from huchu.errors import Unavailable
from huchu.photos.sweep import sweep
from huchu.stores.factory import s3_client
from huchu.stores.objects import S3ObjectStore
from tests.functions.conftest import ADMIN, counts, upload
from tests.functions.test_reliability import visible

AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def s3(ctx: Context) -> S3ObjectStore:
    if not isinstance(ctx.objects, S3ObjectStore):
        pytest.skip("a bucket policy is an S3 matter")
    return ctx.objects


@contextlib.contextmanager
def refused(ctx: Context, keys: list[str]) -> Iterator[None]:
    """The bucket refuses to delete ``keys`` until the block ends."""
    client = s3_client(ctx.settings)
    bucket = ctx.settings.s3_bucket
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": [f"arn:aws:s3:::{bucket}/{k}" for k in keys],
            }
        ],
    }
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        yield
    finally:
        client.delete_bucket_policy(Bucket=bucket)


def test_a_refused_key_raises_and_the_rest_go(ctx: Context, s3: S3ObjectStore) -> None:
    keys = [f"t/{i}.txt" for i in range(3)]
    for key in keys:
        s3.put(key, b"x", "text/plain")
    with refused(ctx, ["t/1.txt"]), pytest.raises(Unavailable, match=r"t/1\.txt"):
        s3.delete(keys)
    assert s3.list("t/") == ["t/1.txt"]
    s3.delete(keys)  # once the bucket takes it, the same call finishes the job
    assert s3.list("t/") == []


def test_a_photo_whose_portrait_is_refused_stays_owed_until_the_sweep(
    client: TestClient, ctx: Context, s3: S3ObjectStore, photos: dict[str, bytes]
) -> None:
    body = upload(client, photos["obama.jpg"]).json()
    assert client.post("/api/averages/recompute", headers=AUTH).status_code == 200
    portrait = next(k for k in s3.list("events/") if "/faces/" in k)
    with refused(ctx, [portrait]):
        r = client.delete(
            f"/api/photos/{body['photo_id']}", headers={"X-Huchu-Owner": body["owner_token"]}
        )
        assert (r.status_code, r.json()["error"]["code"]) == (503, "unavailable")
        assert visible(client, body["photo_id"]) == (False, False, False)  # hidden at once
        assert portrait in s3.list("events/")
        assert sweep(ctx, older_than_s=0)["deletes still owed"] == 1  # still refused
        assert portrait in s3.list("events/")
    assert sweep(ctx, older_than_s=0)["deletes finished"] == 1
    assert [k for k in s3.list("events/") if "/photos/" in k] == []
    assert counts(ctx)[1:] == (0, 0)


def test_a_refused_redaction_stays_owed_until_the_recompute(
    client: TestClient, ctx: Context, s3: S3ObjectStore, photos: dict[str, bytes]
) -> None:
    body = upload(client, photos["obama.jpg"]).json()
    upload(client, photos["biden.jpg"])
    assert client.post("/api/averages/recompute", headers=AUTH).status_code == 200
    pictures = [k for k in s3.list("events/default/game/versions/") if not k.endswith(".json")]
    assert pictures
    owner = {"X-Huchu-Owner": body["owner_token"]}
    with refused(ctx, pictures[:1]):
        r = client.delete(f"/api/photos/{body['photo_id']}", headers=owner)
        assert r.status_code == 503
        assert pictures[0] in s3.list("events/")
    # The face left the sums; the pictures it is drawn into go with the next recompute.
    assert client.post("/api/averages/recompute", headers=AUTH).status_code == 200
    assert not set(pictures) & set(s3.list("events/"))
    assert client.delete(f"/api/photos/{body['photo_id']}", headers=owner).status_code == 204
    assert visible(client, body["photo_id"]) == (False, False, False)
