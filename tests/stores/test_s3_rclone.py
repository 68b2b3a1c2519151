"""The S3 object store against a server that checks signatures (``rclone serve s3``)."""

from __future__ import annotations

import itertools
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from huchu.config import Settings
from huchu.errors import NotFound, Unavailable
from huchu.stores.factory import build_object_store, s3_client
from huchu.stores.objects import S3ObjectStore
from tests.commandline import huchu
from tests.rclone import S3Server

_names = itertools.count()


def settings_for(server: S3Server, tmp_path: Path, **kw: str) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "s3_endpoint": server.endpoint,
        "s3_bucket": f"huchu-images-{next(_names)}",
        "s3_access_key": server.access_key,
        "s3_secret_key": server.secret_key,
        "s3_region": "us-east-1",
    }
    values.update(kw)
    return Settings().model_copy(update=values)


def new_store(server: S3Server, tmp_path: Path, **kw: str) -> S3ObjectStore:
    settings = settings_for(server, tmp_path, **kw)
    assert settings.s3_bucket
    s3_client(settings).create_bucket(Bucket=settings.s3_bucket)
    store = build_object_store(settings)
    assert isinstance(store, S3ObjectStore)
    return store


def tampered(url: str, name: str, change: str) -> str:
    """The same URL with one query parameter changed."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query[name] = change
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_put_get_list_delete(rclone: S3Server, tmp_path: Path) -> None:
    store = new_store(rclone, tmp_path)
    store.ping()
    store.put("photos/a.jpg", b"one", "image/jpeg")
    store.put("photos/b.jpg", b"two", "image/jpeg")
    store.put("averages/all.jpg", b"three", "image/jpeg")
    assert store.get("photos/a.jpg") == b"one"
    assert store.list("photos/") == ["photos/a.jpg", "photos/b.jpg"]
    with pytest.raises(NotFound):
        store.get("photos/c.jpg")
    store.delete(["photos/a.jpg", "photos/b.jpg"])
    assert store.list("photos/") == [] and store.list("") == ["averages/all.jpg"]
    with pytest.raises(NotFound):
        store.get("photos/a.jpg")


def test_a_wrong_secret_is_refused(rclone: S3Server, tmp_path: Path) -> None:
    good = new_store(rclone, tmp_path)
    wrong = S3ObjectStore(
        s3_client(settings_for(rclone, tmp_path, s3_secret_key="not-the-secret")), good.bucket
    )
    with pytest.raises(Unavailable, match="SignatureDoesNotMatch"):
        wrong.put("photos/x.jpg", b"intruder", "image/jpeg")
    with pytest.raises(Unavailable):
        wrong.ping()
    assert good.list("") == []


def test_presigned_get_and_a_tampered_one(rclone: S3Server, tmp_path: Path) -> None:
    store = new_store(rclone, tmp_path)
    store.put("photos/a.jpg", b"a photo", "image/jpeg")
    store.put("photos/b.jpg", b"another", "image/jpeg")
    url = store.url("photos/a.jpg", expires=300)
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.content == b"a photo"
    other_key = url.replace("photos/a.jpg", "photos/b.jpg")
    assert httpx.get(other_key).status_code == 403
    longer = tampered(url, "X-Amz-Expires", "604800")
    assert httpx.get(longer).status_code == 403


def test_presigned_put_stores_exactly_what_was_signed(rclone: S3Server, tmp_path: Path) -> None:
    store = new_store(rclone, tmp_path)
    data = b"\xff\xd8 not really a jpeg, but bytes"
    put = store.upload_url("staging/u1", "image/jpeg", len(data), expires=300)
    assert put.headers == {"Content-Type": "image/jpeg"}
    # Another size, another type or a changed URL: refused, nothing stored.
    assert httpx.put(put.url, content=data + b"!", headers=put.headers).status_code == 403
    assert (
        httpx.put(put.url, content=data, headers={"Content-Type": "text/html"}).status_code == 403
    )
    moved = put.url.replace("staging/u1", "photos/u1")
    assert httpx.put(moved, content=data, headers=put.headers).status_code == 403
    assert store.list("") == []
    answer = httpx.put(put.url, content=data, headers=put.headers)
    assert answer.status_code == 200, answer.text
    assert store.get("staging/u1") == data


def test_presigned_urls_use_the_public_endpoint(rclone: S3Server, tmp_path: Path) -> None:
    public = f"http://localhost:{rclone.port}"
    store = new_store(rclone, tmp_path, s3_public_endpoint=public)
    store.put("photos/a.jpg", b"seen by browsers", "image/jpeg")
    url = store.url("photos/a.jpg")
    put = store.upload_url("staging/u2", "image/png", 3)
    assert url.startswith(public + "/") and put.url.startswith(public + "/")
    assert httpx.get(url).content == b"seen by browsers"
    assert httpx.put(put.url, content=b"png", headers=put.headers).status_code == 200
    # The signature covers the host: the same URL on the internal address is refused.
    assert httpx.get(url.replace(public, rclone.endpoint)).status_code == 403


def test_frontend_publish_to_the_site_bucket(rclone: S3Server, tmp_path: Path) -> None:
    settings = settings_for(rclone, tmp_path)
    s3_client(settings).create_bucket(Bucket="huchu-site")
    env = {
        "HUCHU_S3_ENDPOINT": rclone.endpoint,
        "HUCHU_S3_ACCESS_KEY": rclone.access_key,
        "HUCHU_S3_SECRET_KEY": rclone.secret_key,
        "HUCHU_S3_REGION": "us-east-1",
        "HUCHU_SITE_BUCKET": "huchu-site",
    }
    out = huchu(
        "frontend",
        "publish",
        "--api-url",
        "https://api.example",
        "--out",
        str(tmp_path / "site"),
        env=env,
    )
    assert out.returncode == 0, out.stderr
    site = S3ObjectStore(s3_client(settings), "huchu-site")
    keys = set(site.list(""))
    assert {"index.html", "en/index.html", "static/app.js", "static/vendor/htmx.min.js"} <= keys
    assert b'content="https://api.example"' in site.get("index.html")
    refused = huchu(
        "frontend",
        "publish",
        "--out",
        str(tmp_path / "site2"),
        env={**env, "HUCHU_S3_SECRET_KEY": "wrong"},
    )
    assert refused.returncode != 0 and "Traceback" not in refused.stderr, refused.stderr
