"""Delete leaves no trace: on disk, in the history, in the current averages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from huchu.context import Context
from tests.functions.conftest import ADMIN, upload

AUTH = {"Authorization": f"Bearer {ADMIN}"}


def traces(root: Path, needles: dict[str, bytes]) -> list[str]:
    """Every file under ``root`` (binary included) that holds one of the needles."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(root)}: {name}" for name, n in needles.items() if n in data]
    return found


def needles_of(ctx: Context, photo: dict[str, object], face_id: str) -> dict[str, bytes]:
    vector = np.asarray(ctx.vectors.retrieve(ctx.faces, [face_id], vectors=True)[0].vector)
    return {
        "face id": face_id.encode(),
        "face id (hex)": face_id.replace("-", "").encode(),
        "photo id": str(photo["photo_id"]).encode(),
        "photo id (hex)": str(photo["photo_id"]).replace("-", "").encode(),
        "embedding (float32)": vector.astype("<f4").tobytes()[:64],
        "embedding (float64)": vector.astype("<f8").tobytes()[:64],
        "embedding (float32, big-endian)": vector.astype(">f4").tobytes()[:64],
        # pickle writes each float as its own opcode: one component is 2**-64 unlikely by chance
        "embedding (pickled float)": b"G" + vector.astype(">f8")[:1].tobytes(),
    }


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_delete_leaves_no_trace_on_disk(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    kept = upload(client, photos["biden.jpg"]).json()
    gone = upload(client, photos["obama.jpg"]).json()
    face_id = gone["faces"][0]["face_id"]
    needles = needles_of(ctx, gone, face_id)
    first = client.post("/api/averages/recompute", headers=AUTH).json()
    assert {c["cohort"]: c["count"] for c in first["cohorts"]}["all"] == 2
    alive = " ".join(traces(Path(ctx.settings.data_dir), needles))
    assert "face id" in alive and "photo id" in alive and "embedding" in alive  # seen while alive

    r = client.delete(
        f"/api/photos/{gone['photo_id']}", headers={"X-Huchu-Owner": gone["owner_token"]}
    )
    assert r.status_code == 204
    # The averages changed by the delete's answer, before any recompute: the delete
    # published the numbers (first + 1), then drew the pictures once it had answered
    # (first + 2; the test client waits for that background work too).
    now = client.get("/api/averages").json()
    assert now["version"] == first["version"] + 2
    assert all(c["image_url"] for c in now["cohorts"])
    assert {c["cohort"]: c["count"] for c in now["cohorts"]}["all"] == 1
    assert face_id not in str(now)
    board = client.get("/api/leaderboard").json()
    assert [i["face"]["photo_id"] for i in board["items"]] == [kept["photo_id"]]

    client.post("/api/averages/recompute", headers=AUTH)
    # The history keeps the first version's numbers, without its pictures.
    history = client.get("/api/averages/history").json()["items"]
    assert [h["version"] for h in history] == [now["version"], now["version"] - 1, first["version"]]
    assert [h["count"] for h in history] == [1, 1, 2]
    assert history[1]["image_url"] is None and history[2]["image_url"] is None
    graph = client.get("/api/graph").json()
    assert face_id not in str(graph) and gone["photo_id"] not in str(graph)

    data = Path(ctx.settings.data_dir)
    assert traces(data, needles) == []
    empty = [p for p in data.rglob("*") if p.is_dir() and not any(p.iterdir())]
    assert [p for p in empty if "photos" in p.parts] == []
    assert [p for p in data.rglob(".tmp-*")] == []


def test_delete_leaves_no_trace_in_the_embedded_databases(
    tmp_path: Path, photos: dict[str, bytes]
) -> None:
    """The same, on what `huchu serve` runs: a Qdrant Edge shard and its own FalkorDB."""
    from functions.embedded import create_embedded_app
    from functions.wiring import build_context
    from huchu.stores.edge import EdgeStore
    from tests.functions.conftest import make_settings

    ctx = build_context(make_settings(tmp_path).model_copy(update={"engine": "dlib"}))
    assert isinstance(ctx.vectors, EdgeStore)
    try:
        with TestClient(create_embedded_app(ctx, scheduler=False)) as client:
            upload(client, photos["biden.jpg"])
            gone = upload(client, photos["obama.jpg"]).json()
            upload(client, photos["obama2.jpg"])
            face_id = gone["faces"][0]["face_id"]
            needles = needles_of(ctx, gone, face_id)
            client.post("/api/averages/recompute", headers=AUTH)
            assert client.get(f"/api/faces/{face_id}/family").status_code == 200
            alive = " ".join(traces(Path(ctx.settings.data_dir), needles))
            assert "face id" in alive and "embedding" in alive
            owner = {"X-Huchu-Owner": gone["owner_token"]}
            assert (
                client.delete(f"/api/photos/{gone['photo_id']}", headers=owner).status_code == 204
            )
            client.post("/api/averages/recompute", headers=AUTH)
            assert client.get(f"/api/faces/{face_id}/family").status_code == 404
    finally:
        ctx.close()  # flushes the shard and stops FalkorDB (its files stay in the data dir)
    assert traces(Path(ctx.settings.data_dir), needles) == []


def test_a_delete_that_races_a_recompute_leaves_no_trace_in_the_graph(
    tmp_path: Path, photos: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recompute's backfill runs while a delete is in flight (the face already marked
    and unlinked, its files and vector not yet gone): no node, link or label of the face
    is left, in any answer or in FalkorDB's files."""
    from functions.embedded import create_embedded_app
    from functions.wiring import build_context
    from huchu.photos import family
    from tests.functions.conftest import make_settings

    ctx = build_context(make_settings(tmp_path).model_copy(update={"engine": "dlib"}))
    try:
        with TestClient(create_embedded_app(ctx, scheduler=False)) as client:
            gone = upload(client, photos["obama.jpg"]).json()
            kept = [upload(client, photos[n]).json() for n in ("obama2.jpg", "obama3.jpg")]
            face_id = gone["faces"][0]["face_id"]
            needles = needles_of(ctx, gone, face_id)
            graph_dir = Path(ctx.settings.data_dir) / "graph"
            assert "face id" in " ".join(traces(graph_dir, needles))
            real = ctx.objects.delete

            def delete_during_a_recompute(keys: list[str]) -> None:
                family.refresh(ctx, "default")  # what the scheduled recompute runs first
                real(keys)

            monkeypatch.setattr(ctx.objects, "delete", delete_during_a_recompute)
            owner = {"X-Huchu-Owner": gone["owner_token"]}
            r = client.delete(f"/api/photos/{gone['photo_id']}", headers=owner)
            assert r.status_code == 204
            monkeypatch.setattr(ctx.objects, "delete", real)
            for k in kept:  # right after the delete's answer
                other = k["faces"][0]["face_id"]
                for route in ("family", "graph"):
                    answer = client.get(f"/api/faces/{other}/{route}")
                    assert answer.status_code == 200 and face_id not in answer.text, route
            assert face_id not in client.get("/api/graph").text
            assert ctx.graph.has(graph_name_of(ctx), [face_id]) == set()
            client.post("/api/averages/recompute", headers=AUTH)
            assert ctx.graph.has(graph_name_of(ctx), [face_id]) == set()
            wait_for_rewrite(ctx)
            assert traces(graph_dir, needles) == []  # while the server still runs
    finally:
        ctx.close()
    assert traces(Path(ctx.settings.data_dir), needles) == []


def graph_name_of(ctx: Context) -> str:
    from huchu.stores.graph import graph_name

    return graph_name(ctx.faces, "default")


def wait_for_rewrite(ctx: Context) -> None:
    """Until FalkorDB's append-only file rewrite (started by the delete) is done."""
    import time

    from huchu.stores.graph import FalkorGraph

    graph = ctx.graph
    assert isinstance(graph, FalkorGraph)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = graph._db.connection.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.1)
    raise AssertionError("the append-only file was not rewritten")
