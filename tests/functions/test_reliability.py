"""Failures leave things whole or gone: deletes, concurrent writers, full disks, empty events."""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing as mp
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from huchu.context import Context
from huchu.errors import Unavailable
from huchu.inference.local import LocalInference
from huchu.stores.falkordb_server import EmbeddedFalkorDB
from huchu.stores.objects import Conflict, LocalObjectStore, ObjectStore, UrlSigner
from tests.conftest import graph_store
from tests.functions.conftest import ADMIN, counts, upload

AUTH = {"Authorization": f"Bearer {ADMIN}"}


class ReadOnly:
    """The object store after its disk went read-only: reads work, every write fails."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner

    def put(self, key: str, data: bytes, content_type: str) -> None:
        raise Unavailable("object store write failed: read-only file system")

    def put_if(self, key: str, data: bytes, content_type: str, etag: str | None) -> str:
        raise Unavailable("object store write failed: read-only file system")

    def delete(self, keys: list[str]) -> None:
        raise Unavailable("object store delete failed: read-only file system")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def numbers(averages: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The averages without their (freshly signed) URLs."""
    return [averages["version"]] + [
        (c["cohort"], c["count"], c["closest_face_id"]) for c in averages["cohorts"]
    ]


def visible(client: TestClient, photo_id: str) -> tuple[bool, bool, bool]:
    """(listed, readable, its faces listed)."""
    listed = photo_id in str(client.get("/api/photos").json())
    readable = client.get(f"/api/photos/{photo_id}").status_code == 200
    faces = photo_id in str(client.get("/api/faces").json())
    return listed, readable, faces


@pytest.mark.parametrize("counted", [True, False], ids=["in-averages", "not-yet-counted"])
def test_delete_on_a_read_only_store_leaves_the_photo_whole_and_a_retry_finishes(
    client: TestClient, ctx: Context, photos: dict[str, bytes], counted: bool
) -> None:
    body = upload(client, photos["obama.jpg"]).json()
    if counted:
        client.post("/api/averages/recompute", headers=AUTH)
    owner = {"X-Huchu-Owner": body["owner_token"]}
    before = counts(ctx)
    averages = numbers(client.get("/api/averages").json())

    broken = dataclasses.replace(ctx, objects=ReadOnly(ctx.objects))
    client.app.state.context = broken  # type: ignore[attr-defined]
    r = client.delete(f"/api/photos/{body['photo_id']}", headers=owner)
    assert (r.status_code, r.json()["error"]["code"]) == (503, "unavailable")
    client.app.state.context = ctx  # type: ignore[attr-defined]
    assert visible(client, body["photo_id"]) == (True, True, True)  # whole
    assert counts(ctx) == before
    assert numbers(client.get("/api/averages").json()) == averages
    for face in body["faces"]:
        url = face["portrait_url"]
        served = client.get(url) if url.startswith("/") else httpx.get(url)
        assert served.status_code == 200

    assert client.delete(f"/api/photos/{body['photo_id']}", headers=owner).status_code == 204
    assert visible(client, body["photo_id"]) == (False, False, False)
    assert counts(ctx)[1:] == (0, 0)


def test_delete_failing_late_hides_the_photo_and_a_retry_finishes(
    client: TestClient, ctx: Context, photos: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = upload(client, photos["obama.jpg"]).json()
    owner = {"X-Huchu-Owner": body["owner_token"]}
    real = ctx.vectors.delete

    def fails(collection: str, ids: Any) -> None:
        raise Unavailable("vector store is down")

    monkeypatch.setattr(ctx.vectors, "delete", fails)  # after the files went: past undoing
    assert client.delete(f"/api/photos/{body['photo_id']}", headers=owner).status_code == 503
    assert visible(client, body["photo_id"]) == (False, False, False)  # gone for every reader
    monkeypatch.setattr(ctx.vectors, "delete", real)
    assert client.delete(f"/api/photos/{body['photo_id']}", headers=owner).status_code == 204
    assert counts(ctx) == (0, 0, 0) or counts(ctx)[1:] == (0, 0)
    assert [k for k in ctx.objects.list("") if "/photos/" in k] == []


def test_recompute_of_an_event_without_photos_writes_nothing(
    client: TestClient, ctx: Context
) -> None:
    r = client.post("/api/averages/recompute", params={"event": "nobody"}, headers=AUTH)
    assert r.status_code == 404  # an event no admin set up
    r = client.post("/api/averages/recompute", headers=AUTH)  # "default" exists, no photo yet
    assert r.status_code == 200 and r.json()["version"] == 0
    assert ctx.objects.list("events/") == []
    assert client.get("/api/averages").json()["version"] == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs of our own (root can mount one; CI runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_readyz_is_503_on_a_full_or_read_only_disk(
    small_disk: Path, tmp_path: Path, inference: LocalInference, graph_server: EmbeddedFalkorDB
) -> None:
    from functions.embedded import create_embedded_app
    from functions.wiring import assemble
    from huchu.stores.factory import build_object_store
    from huchu.stores.vectors import QdrantStore
    from tests.functions.conftest import make_settings

    settings = make_settings(small_disk, min_free_bytes=0)  # the write itself is checked
    settings = settings.model_copy(update={"data_dir": small_disk})
    vectors = QdrantStore(None, tmp_path / "qdrant")  # open files would block the remount
    # Databases with open files live off the small disk (they would block the remount).
    graph = graph_store(graph_server)
    ctx = assemble(settings, build_object_store(settings), vectors, inference, graph)
    with TestClient(create_embedded_app(ctx, scheduler=False)) as client:
        assert client.get("/readyz").status_code == 200
        filler = small_disk / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        r = client.get("/readyz")
        assert r.status_code == 503 and any("volume" in m for m in r.json()["missing"])
        filler.unlink()
        assert client.get("/readyz").status_code == 200
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        r = client.get("/readyz")
        assert r.status_code == 503 and any("volume" in m for m in r.json()["missing"])
    ctx.close()
    assert list(small_disk.rglob(".ready-*")) == []


def test_readyz_is_503_when_the_volume_refuses_writes(
    client: TestClient, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    def full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    r = client.get("/readyz")
    assert r.status_code == 503 and "volume" in r.json()["missing"][0]
    assert list(Path(ctx.settings.data_dir).glob(".ready-*")) == []  # nothing left behind


def _bump(root: str, key: str, rounds: int) -> None:
    store = LocalObjectStore(Path(root), UrlSigner(b"k" * 32))
    for _ in range(rounds):
        while True:
            data, tag = store.get_tagged(key)
            try:
                store.put_if(key, str(int(data) + 1).encode(), "text/plain", tag)
                break
            except Conflict:
                continue


def test_conditional_writes_lose_no_update_across_processes(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, UrlSigner(b"k" * 32))
    store.put_if("counter", b"0", "text/plain", None)
    with pytest.raises(Conflict):
        store.put_if("counter", b"0", "text/plain", None)  # exists already
    spawn = mp.get_context("spawn")
    workers = [spawn.Process(target=_bump, args=(str(tmp_path), "counter", 40)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert store.get("counter") == b"160"
    assert list(tmp_path.rglob(".tmp-*")) == []


def test_conditional_writes_on_s3(ctx: Context) -> None:
    if not hasattr(ctx.objects, "bucket"):
        pytest.skip("the S3 variant only")
    tag = ctx.objects.put_if("c", b"1", "text/plain", None)
    with pytest.raises(Conflict):
        ctx.objects.put_if("c", b"2", "text/plain", None)
    ctx.objects.put_if("c", b"2", "text/plain", tag)
    with pytest.raises(Conflict):
        ctx.objects.put_if("c", b"3", "text/plain", tag)  # stale tag
    assert ctx.objects.get("c") == b"2"


def test_a_failed_write_leaves_no_temporary_file_or_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    store = LocalObjectStore(tmp_path, UrlSigner(b"k" * 32))

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(Unavailable):
        store.put("events/e/photos/p/original.jpg", b"x" * 100_000, "image/jpeg")
    assert list(tmp_path.rglob(".tmp-*")) == []
    assert list(tmp_path.rglob("*")) == []  # the folders it made are gone too
