"""Exact look-alikes: searches filtered by event and gender return numpy's own top k, in the
narrow cone the bundled engine's vectors lie in, through writes, deletes and reopening."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from huchu.stores import edge, exact
from huchu.stores.edge import EdgeStore
from huchu.stores.ids import new_id
from huchu.stores.vectors import Point, QdrantStore

DIM = 32
EVENTS = ("default", "hall-b")
GENDERS = ("female", "male")


def cone(n: int, seed: int = 0, spread: float = 0.4) -> np.ndarray:
    """Unit vectors about a common direction (strangers about 0.85 cosine, as dlib's)."""
    rng = np.random.default_rng(seed)
    axis = np.ones(DIM) / np.sqrt(DIM)
    v = axis + spread * rng.standard_normal((n, DIM)) / np.sqrt(DIM)
    out: np.ndarray = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    return out


def points(v: np.ndarray, start: int = 0) -> list[Point]:
    return [
        Point(
            new_id(),
            {
                "event": EVENTS[(start + i) % 3 == 0],
                "gender": GENDERS[(start + i) % 2],
                "photo_id": f"p{start + i}",
                "landmarks": [[1.5, 2.5]] * 68,
            },
            [float(x) for x in row],
        )
        for i, row in enumerate(v)
    ]


def truth(
    pts: dict[str, Point], q: np.ndarray, event: str, gender: str | None, k: int
) -> list[tuple[str, float]]:
    """numpy brute force over the live points the filter keeps."""
    keep = [
        p
        for p in pts.values()
        if p.payload["event"] == event and (gender is None or p.payload["gender"] == gender)
    ]
    mat = np.asarray([p.vector for p in keep], dtype=np.float32)
    sims = mat @ (q / np.linalg.norm(q))
    order = np.argsort(-sims)[:k]
    return [(keep[i].id, float(sims[i])) for i in order]


def check_exact(store: EdgeStore, pts: dict[str, Point], queries: np.ndarray, k: int = 12) -> None:
    for n, q in enumerate(queries):
        event = EVENTS[n % 2]
        gender = None if n % 3 == 0 else GENDERS[n % 2]
        match = {"event": event} if gender is None else {"event": event, "gender": gender}
        got = store.search("faces", q.tolist(), match, k)
        want = truth(pts, q, event, gender, k)
        assert [h.id for h in got] == [i for i, _ in want], (match, n)
        assert np.allclose([h.score or 0.0 for h in got], [s for _, s in want], atol=1e-5)
        assert all(h.payload["photo_id"] == pts[h.id].payload["photo_id"] for h in got)


@pytest.fixture
def narrow(tmp_path: Path) -> Iterator[tuple[EdgeStore, dict[str, Point]]]:
    store = EdgeStore(tmp_path / "edge")
    store.ensure("faces", DIM)
    pts = points(cone(3000))
    for i in range(0, len(pts), 500):
        store.upsert("faces", pts[i : i + 500])
    store.optimize("faces")  # an HNSW index exists: the cohorts must still answer
    yield store, {p.id: p for p in pts}
    store.close()


def test_event_and_gender_searches_return_the_exact_top_k(
    narrow: tuple[EdgeStore, dict[str, Point]],
) -> None:
    store, pts = narrow
    assert store.exact("faces")
    check_exact(store, pts, cone(60, seed=1))


def test_writes_deletes_and_moves_between_cohorts_stay_exact(
    narrow: tuple[EdgeStore, dict[str, Point]],
) -> None:
    store, pts = narrow
    ids = list(pts)
    gone = ids[::7]
    store.delete("faces", gone)
    for pid in gone:
        del pts[pid]
    moved = [  # same id, other gender and event, new vector: it leaves its old cohort
        Point(pid, {**pts[pid].payload, "gender": "male", "event": "hall-b"}, row.tolist())
        for pid, row in zip(ids[1::11], cone(len(ids[1::11]), seed=5), strict=True)
        if pid in pts
    ]
    store.upsert("faces", moved)
    pts.update({p.id: p for p in moved})
    fresh = points(cone(200, seed=6), start=3000)
    store.upsert("faces", fresh)
    pts.update({p.id: p for p in fresh})
    check_exact(store, pts, cone(60, seed=2))


def test_reopened_store_fills_its_cohorts_from_the_shard(tmp_path: Path) -> None:
    store = EdgeStore(tmp_path / "edge")
    store.ensure("faces", DIM)
    pts = points(cone(1500, seed=3))
    store.upsert("faces", pts)
    store.delete("faces", [p.id for p in pts[:100]])
    store.close()

    again = EdgeStore(tmp_path / "edge")
    try:
        again.wait_exact(30)  # nothing opened yet: returns at once
        again.search("faces", pts[0].vector or [], {"event": "default"}, 3)  # opens the shard
        again.wait_exact(30)
        assert again.exact("faces")
        check_exact(again, {p.id: p for p in pts[100:]}, cone(30, seed=4))
    finally:
        again.close()


def test_writes_while_the_cohorts_fill_are_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filler reads a page per hold of the lock; writes between pages (new points,
    deletes of points read and of points not yet read) end in the cohorts as in the shard."""
    store = EdgeStore(tmp_path / "edge")
    store.ensure("faces", DIM)
    pts = points(cone(2000, seed=7))
    store.upsert("faces", pts)
    store.close()

    monkeypatch.setattr(edge, "FILL_PAGE", 8)
    again = EdgeStore(tmp_path / "edge")
    live = {p.id: p for p in pts}
    try:
        again.ensure("faces", DIM)  # opens the shard: the filler starts
        writer_done = threading.Event()

        def write() -> None:
            for i in range(0, 400, 20):
                again.delete("faces", [p.id for p in pts[i * 5 : i * 5 + 20]])
                again.upsert("faces", points(cone(10, seed=100 + i), start=10_000 + i * 10))
            writer_done.set()

        t = threading.Thread(target=write)
        t.start()
        t.join(60)
        assert writer_done.is_set()
        again.wait_exact(60)
        assert again.exact("faces")
        for i in range(0, 400, 20):
            for p in pts[i * 5 : i * 5 + 20]:
                live.pop(p.id, None)
        shard = again._shards["faces"]
        stored, offset = [], None
        while True:
            page, offset = again.scroll("faces", {}, 500, offset, vectors=True)
            stored.extend(page)
            if offset is None:
                break
        assert {pid for pid in shard.exact.where} == {p.id for p in stored}
        assert len(stored) == len(live) + 200
    finally:
        again.close()


def test_other_filters_and_oversized_collections_use_the_index(
    narrow: tuple[EdgeStore, dict[str, Point]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, pts = narrow
    some = next(iter(pts.values()))
    photo = store.search("faces", some.vector or [], {"photo_id": some.payload["photo_id"]}, 5)
    assert [h.id for h in photo] == [some.id]  # a filter the cohorts do not cover

    monkeypatch.setattr(exact, "MAX_BYTES", DIM * 4 * 10)
    store.upsert("faces", points(cone(1, seed=9), start=5000))  # past the cap: dropped
    assert not store.exact("faces")
    hits = store.search("faces", some.vector or [], {"event": some.payload["event"]}, 3)
    assert hits and hits[0].id == some.id  # the index answers


@pytest.mark.filterwarnings("ignore:Local mode performs exact")
def test_server_store_sends_the_collection_and_search_parameters(tmp_path: Path) -> None:
    """The server path creates collections with the embedded store's HNSW parameters and a
    full-scan threshold that makes a cohort under EXACT_BELOW faces an exact scan; qdrant-client
    validates both (local mode stands in for the server and is exact itself)."""
    from huchu.stores import vectors

    store = QdrantStore(None, tmp_path / "q")
    sent: list[dict[str, Any]] = []
    client: Any = store._client
    create, query = client.create_collection, client.query_points

    def spy_create(*a: Any, **kw: Any) -> Any:
        sent.append(kw)
        return create(*a, **kw)

    def spy_query(*a: Any, **kw: Any) -> Any:
        sent.append(kw)
        return query(*a, **kw)

    client.create_collection, client.query_points = spy_create, spy_query
    try:
        store.ensure("faces", DIM)
        pts = points(cone(400, seed=11))
        store.upsert("faces", pts)
        q = cone(1, seed=12)[0]
        got = store.search("faces", q.tolist(), {"event": "default", "gender": "male"}, 12)
        want = truth({p.id: p for p in pts}, q, "default", "male", 12)
        assert [h.id for h in got] == [i for i, _ in want]
        hnsw = sent[0]["hnsw_config"]
        assert (hnsw.m, hnsw.ef_construct) == (vectors.HNSW_M, vectors.HNSW_EF_CONSTRUCT)
        assert hnsw.full_scan_threshold == vectors.full_scan_kb(DIM)
        assert sent[1]["search_params"].hnsw_ef == vectors.HNSW_EF
    finally:
        store.close()
