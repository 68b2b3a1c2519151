"""The ``VectorStore`` contract on Qdrant Edge (the embedded default) and on qdrant-client
(local mode standing in for a Qdrant server)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from huchu.errors import Unavailable
from huchu.stores.edge import EdgeStore
from huchu.stores.ids import new_id
from huchu.stores.vectors import Point, QdrantStore, VectorStore

DIM = 8


def _edge_with(tmp_path: Path, pts: list[Point]) -> EdgeStore:
    """An EdgeStore in ``tmp_path`` whose ``faces`` shard holds ``pts``."""
    s = EdgeStore(tmp_path / "edge")
    s.ensure("faces", DIM)
    s.upsert("faces", pts)
    return s


def _points(n: int, seed: int = 0) -> list[Point]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        v = rng.standard_normal(DIM)
        v /= np.linalg.norm(v)
        payload = {
            "event": "default" if i % 3 else "other",
            "gender": "female" if i % 2 else "male",
            "photo_id": f"p{i // 2}",
            "created_ts": float(i),
            "index": i % 2,
            "bbox": [1.5, 2.0, 30.25, 40.0],  # lists and objects round-trip as they went in
            "landmarks": [[float(i), 2.5]] * 68,
            "meta": {"engine": "dlib", "tags": ["a", "b"]},
        }
        out.append(Point(new_id(1_700_000_000_000 + i), payload, [float(x) for x in v]))
    return out


@pytest.fixture(params=["edge", "qdrant-client"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    s: EdgeStore | QdrantStore = (
        EdgeStore(tmp_path / "edge")
        if request.param == "edge"
        else QdrantStore(None, tmp_path / "q")
    )
    s.ensure("faces", DIM)
    try:
        yield s
    finally:
        s.close()


def test_filters_search_and_pages(store: VectorStore) -> None:
    pts = _points(40)
    store.upsert("faces", pts)
    ev = [p for p in pts if p.payload["event"] == "default"]
    assert store.count("faces", {"event": "default"}) == len(ev)
    assert store.count("faces", {"event": "default", "gender": "male"}) == sum(
        p.payload["gender"] == "male" for p in ev
    )
    assert store.count("faces", {"created_ts": {"gte": 30.0}}) == 10
    assert store.count("faces", {"photo_id": ["p0", "p1"]}) == 4
    assert store.values("faces", "event") == ["default", "other"]

    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = store.scroll("faces", {"event": "default"}, 7, cursor)
        seen += [p.id for p in page]
        if cursor is None:
            break
    assert seen == sorted(p.id for p in ev)  # id order: newest first, no repeats

    q = next(p for p in ev if p.payload["gender"] == "male")
    assert q.vector is not None
    hits = store.search("faces", q.vector, {"event": "default", "gender": "male"}, 5)
    assert hits[0].id == q.id and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert all(h.payload["gender"] == "male" and h.payload["event"] == "default" for h in hits)
    scores = [h.score or 0.0 for h in hits]
    assert scores == sorted(scores, reverse=True)
    sims = {
        p.id: float(np.dot(q.vector, p.vector or [])) for p in ev if p.payload["gender"] == "male"
    }
    best = sorted(sims, key=lambda i: -sims[i])[:5]
    assert [h.id for h in hits] == best
    above = store.search("faces", q.vector, {"event": "default"}, 40, min_score=0.3)
    assert above and all((h.score or 0.0) >= 0.3 for h in above)


def test_retrieve_keeps_order_and_vectors(store: VectorStore) -> None:
    pts = _points(6)
    store.upsert("faces", pts)
    got = store.retrieve(
        "faces", [pts[4].id, pts[1].id, "00000000-0000-0000-0000-000000000000"], True
    )
    assert [p.id for p in got] == [pts[4].id, pts[1].id]
    assert got[0].payload == pts[4].payload
    assert np.allclose(got[0].vector or [], pts[4].vector or [], atol=1e-5)


def test_delete_forgets(store: VectorStore) -> None:
    pts = _points(6)
    store.upsert("faces", pts)
    store.delete("faces", [pts[0].id, pts[1].id])
    assert store.retrieve("faces", [pts[0].id, pts[1].id]) == []
    assert store.count("faces", {}) == 4
    assert all(
        h.id not in (pts[0].id, pts[1].id)
        for h in store.search("faces", pts[0].vector or [], {}, 6)
    )


def test_edge_reopens_with_its_points(tmp_path: Path) -> None:
    pts = _points(10)
    s = EdgeStore(tmp_path / "edge")
    s.ensure("faces", DIM)
    s.upsert("faces", pts)
    s.close()
    again = EdgeStore(tmp_path / "edge")
    try:
        assert again.count("faces", {}) == 10  # opened on first use, no ensure needed
        assert again.retrieve("faces", [pts[3].id])[0].payload == pts[3].payload
    finally:
        again.close()


def test_edge_indexes_in_background(tmp_path: Path) -> None:
    s = EdgeStore(tmp_path / "edge", optimize_after=200, indexing_threshold_kb=1)
    s.ensure("faces", DIM)
    try:
        s.upsert("faces", _points(150))
        s.wait_optimized()
        assert s.indexed("faces") == 0  # below the threshold: plain segments only
        more = _points(100, seed=1)
        s.upsert("faces", more)
        s.wait_optimized()
        assert s.indexed("faces") > 0
        q = more[5].vector or []
        assert s.search("faces", q, {}, 1)[0].id == more[5].id
    finally:
        s.close()


def test_builds_start_new_segments_past_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One HNSW graph over every face gets slower per point as it grows (1M x 128 builds
    outgrow the CPU caches): builds fill segments up to SEGMENT_FACES, then start another,
    so each build stays the size of a segment and a search still sees every face."""
    from huchu.stores import edge

    monkeypatch.setattr(edge, "SEGMENT_FACES", 300)
    s = EdgeStore(tmp_path / "edge", optimize_after=10**9, indexing_threshold_kb=1)
    s.ensure("faces", DIM)
    pts = [p for seed in range(6) for p in _points(200, seed=seed + 10)]
    try:
        for i in range(0, len(pts), 200):
            s.upsert("faces", pts[i : i + 200])
            s.optimize("faces")
        assert s.indexed("faces") == len(pts)
        # 1,200 faces in segments of at most 300 (two builds of 200 do not fit one): the
        # appendable segment and at least four indexed ones
        assert s.segments("faces") >= 5
        for p in pts[::97]:
            assert s.search("faces", p.vector or [], {}, 1)[0].id == p.id
    finally:
        s.close()


def test_second_process_gets_a_clear_refusal(tmp_path: Path) -> None:
    s = EdgeStore(tmp_path / "edge")
    s.ensure("faces", DIM)
    try:
        code = (
            "import sys; from pathlib import Path; from huchu.stores.edge import EdgeStore\n"
            "from huchu.errors import Unavailable\n"
            f"try: EdgeStore(Path({str(tmp_path / 'edge')!r})).count('faces', {{}})\n"
            "except Unavailable as e: print(e.message); sys.exit(3)\n"
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert r.returncode == 3, r.stderr
        assert "open in another process" in r.stdout
    finally:
        s.close()


def test_same_process_shares_the_shard(tmp_path: Path) -> None:
    a, b = EdgeStore(tmp_path / "edge"), EdgeStore(tmp_path / "edge")
    a.ensure("faces", DIM)
    b.ensure("faces", DIM)
    a.upsert("faces", _points(3))
    assert b.count("faces", {}) == 3
    a.close()
    assert b.count("faces", {}) == 3  # still open for b
    b.close()


def test_unknown_collection_is_unavailable(tmp_path: Path) -> None:
    s = EdgeStore(tmp_path / "edge")
    with pytest.raises(Unavailable):
        s.count("nothing", {})
    s.close()


def test_edge_refuses_a_filter_no_index_serves(tmp_path: Path) -> None:
    s = _edge_with(tmp_path, _points(3))
    try:
        with pytest.raises(TypeError, match="not a filterable field"):
            s.count("faces", {"index": 1})  # kept inside the packed JSON field
        assert s.count("faces", {"photo_id": "p0"}) == 2
    finally:
        s.close()


def test_background_build_runs_aside_and_keeps_writes(tmp_path: Path) -> None:
    """The index is built in a child process: this process keeps writing meanwhile, and
    what it wrote (and deleted) during the build is there after the swap."""
    import time

    s = EdgeStore(tmp_path / "edge", optimize_after=3000, indexing_threshold_kb=1)
    s.ensure("faces", DIM)
    try:
        first = _points(3000, seed=4)
        s.upsert("faces", first)
        during: list[Point] = []
        gone: list[str] = []
        n = 0
        while s._shards["faces"].optimizing is not None and n < 1000:
            time.sleep(0.01)  # writes 10 ms apart (logged writes take 0.03 ms each)
            batch = _points(5, seed=100 + n)
            s.upsert("faces", batch)
            during += batch
            s.delete("faces", [first[n].id])
            gone.append(first[n].id)
            n += 1
        assert n >= 3, "the build kept this process from running"
        s.wait_optimized()
        assert s.indexed("faces") > 0
        assert s.count("faces", {}) == 3000 + len(during) - len(gone)
        assert s.retrieve("faces", gone) == []
        assert len(s.retrieve("faces", [p.id for p in during])) == len(during)
        assert not list(tmp_path.glob("edge/*.optimizing")) and not list(
            tmp_path.glob("edge/*.old")
        )
    finally:
        s.close()
    again = EdgeStore(tmp_path / "edge")
    try:
        assert again.count("faces", {}) == 3000 + len(during) - len(gone)
    finally:
        again.close()


def test_compaction_spends_at_most_a_tenth_of_the_time_rewriting(tmp_path: Path) -> None:
    """After a rewrite that took t, a shard that lost points again waits 9t for the next."""
    pts = _points(300)
    s = _edge_with(tmp_path, pts)
    shard = s._shard("faces")
    try:
        s.delete("faces", [pts[0].id])
        s.compact()
        assert not shard.deleted  # rewritten at once: it had never been
        assert shard.next_rewrite > 0
        s.delete("faces", [pts[1].id])
        s.compact()
        assert shard.deleted  # too soon after the last rewrite: left for later
        shard.next_rewrite = 0.0  # that much time has passed
        s.compact()
        assert not shard.deleted
        assert s.count("faces", {}) == 298
    finally:
        s.close()


def test_compaction_rewrites_aside_while_this_process_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bindings hold the interpreter while they work, so a rewrite in this process
    stopped every request for its duration (about a second at 500 faces under load):
    the rewrite runs in a child process on a copy, this process keeps running, and
    writes made meanwhile are kept (a delete among them leaves the shard marked)."""
    import threading
    import time

    s = EdgeStore(tmp_path / "edge")
    s.ensure("faces", DIM)
    first = _points(3000)
    for i in range(0, 3000, 500):
        s.upsert("faces", first[i : i + 500])
    s.delete("faces", [first[0].id])
    during: list[Point] = []
    ticks: list[float] = []
    real_run = subprocess.run

    def run_with_writes(*a: Any, **k: Any) -> Any:
        done = threading.Event()

        def writes() -> None:
            while not done.is_set():
                ticks.append(time.monotonic())
                time.sleep(0.005)

        t = threading.Thread(target=writes)
        t.start()
        try:
            out = real_run(*a, **k)
        finally:
            done.set()
            t.join()
        batch = _points(5, seed=77)
        s.upsert("faces", batch)  # while the child's result waits to be swapped in
        during.extend(batch)
        s.delete("faces", [first[1].id])
        return out

    monkeypatch.setattr(subprocess, "run", run_with_writes)
    shard = s._shard("faces")
    try:
        s.compact()
        assert len(ticks) > 20, "the rewrite kept this process from running"
        assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.5
        assert s.count("faces", {}) == 3000 - 2 + len(during)
        assert s.retrieve("faces", [first[0].id, first[1].id]) == []
        assert len(s.retrieve("faces", [p.id for p in during])) == len(during)
        assert shard.deleted  # the delete made meanwhile is for the next rewrite
        assert not [p for p in (tmp_path / "edge").iterdir() if p.suffix in {".copy", ".old"}]
        assert not list((tmp_path / "edge").glob("*.compacting"))
    finally:
        s.close()


def test_only_fields_that_requests_filter_on_are_indexed(tmp_path: Path) -> None:
    """Every payload index costs each write's flush about 0.7 ms of fsync with the
    interpreter held: the photo id and content hash are filterable without one."""
    pts = _points(10)
    s = _edge_with(tmp_path, pts)
    try:
        schema = s._run("faces", lambda sh: sh.info().payload_schema)
        assert set(schema) == {"event", "gender", "owner_hash", "created_ts"}
        assert s.count("faces", {"photo_id": "p3"}) == 2
        found = s.scroll("faces", {"photo_id": "p1"}, 10)[0]
        assert {p.id for p in found} == {pts[2].id, pts[3].id}
    finally:
        s.close()


def test_logged_writes_survive_kill_9_without_a_flush_each(tmp_path: Path) -> None:
    """A flush fsyncs every segment file holding the interpreter (a third of the server's
    interpreter time under mixed load when each write flushed): writes go to the shard's
    write-ahead log instead, which a killed process does not lose, and reach the disk
    within FLUSH_S."""
    child = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from tests.stores.test_vectors import _points\n"
        "from huchu.stores import edge\n"
        "edge.FLUSH_S = 3600.0\n"
        "s = edge.EdgeStore(Path(sys.argv[1]))\n"
        "s.ensure('faces', 8)\n"
        "pts = _points(40)\n"
        "for p in pts:\n"
        "    s.upsert('faces', [p])\n"
        "s.delete('faces', [pts[0].id])\n"
        "print(s._shards['faces'].unflushed, pts[0].id, pts[5].id, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path / "edge")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == -9, out.stderr
    unflushed, gone, kept = out.stdout.split()
    assert unflushed == "True"  # nothing flushed before the kill
    again = EdgeStore(tmp_path / "edge")
    try:
        assert again.count("faces", {}) == 39
        assert again.retrieve("faces", [gone]) == []
        assert again.retrieve("faces", [kept])[0].payload["landmarks"][0] == [5.0, 2.5]
    finally:
        again.close()


def test_a_rewrite_leaves_a_shard_alone_while_its_index_is_built(tmp_path: Path) -> None:
    """An index build and a rewrite both work on copies and swap them in: the one that
    swapped last would bring back an older folder (deleted bytes, lost writes). A shard
    whose index is being built is rewritten by a later compact()."""
    import threading

    from huchu.stores.edge_optimize import rewrite_aside

    pts = _points(50)
    s = _edge_with(tmp_path, pts)
    shard = s._shard("faces")
    try:
        s.delete("faces", [pts[0].id])
        shard.optimizing = threading.Thread(target=lambda: None)  # a build in flight
        rewrite_aside(shard, None)
        assert shard.deleted and not shard.rewriting and shard.journal is None
        assert not list((tmp_path / "edge").glob("*.copy"))
        shard.optimizing = None
        s.compact()
        assert not shard.deleted
        assert s.count("faces", {}) == 49
    finally:
        s.close()
