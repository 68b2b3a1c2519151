"""Scale: Huchu's stores at 20k, 200k (and 1M) faces, beside numpy brute force in the same run.

Synthetic unit vectors with the payload an upload writes, clustered into "people" (a few
photos each) so that the look-alike graph has the shape of a real event, in two shapes:

- ``cone``: 128-d in a narrow cone, as the bundled engine's (dlib) vectors lie: strangers
  about 0.85 cosine, photos of one person above 0.92;
- ``arcface``: 512-d spread over the sphere, as ArcFace's: strangers near 0, one person
  about 0.8.

Measured through Huchu's own stores (EdgeStore, FalkorGraph, huchu.stores.lookalikes):

- upserts/s (batches of 1000, each flushed);
- the HNSW index builds, as the store runs them: one each time OPTIMIZE_AFTER new points
  have arrived (here in the foreground, so that they are timed; the server runs them in
  a child process), filling segments of at most SEGMENT_FACES faces;
- filtered search (event + gender, 12 results) p50/p95 and recall@12, beside numpy brute
  force over the same vectors in the same loop (a matrix per filter prepared beforehand:
  numpy's best case); the HNSW index's own recall on the same queries, for comparison;
- graph links' recall: each face's k nearest faces of its event above the look-alike
  threshold, as ``link_faces`` searches them, against numpy's;
- the exact cohorts' warm-up: reopening the store and filling them from the shard;
- adding 100 new faces with their graph links (a k-nearest search each, then the writes);
- refreshing the families (label propagation in the database), family and path p95.

    python benchmarks/scale.py                      # 20k and 200k, both shapes
    python benchmarks/scale.py --million            # adds 1M (long: the index builds)
    python benchmarks/scale.py --sizes 200000 --shapes cone --no-index --no-graph
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from huchu.stores.edge import OPTIMIZE_AFTER, EdgeStore
from huchu.stores.falkordb_server import EmbeddedFalkorDB
from huchu.stores.graph import FalkorGraph, _database_path, graph_name
from huchu.stores.ids import new_id
from huchu.stores.lookalikes import link_faces
from huchu.stores.vectors import Point

FACES = "faces_bench"
EVENTS = ("default", "hall-b")  # 90 % / 10 %: the filter keeps ~45 % of all points
BATCH = 1000
QUERIES = 200
K = 5
PER_PERSON = 4
SHAPES = {"cone": 128, "arcface": 512}
# "look-alike" for these synthetic people: arcface same person ~0.8, strangers ~0; cone
# same person ~0.95, strangers ~0.85
THRESHOLDS = {"cone": 0.9, "arcface": 0.5}


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def people(n: int, shape: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` unit vectors: faces of n / PER_PERSON people, photos of one person near."""
    dim = SHAPES[shape]
    rng = np.random.default_rng(seed)
    who = np.arange(n) // PER_PERSON
    centres = rng.standard_normal((who[-1] + 1, dim)).astype(np.float32)
    if shape == "cone":  # about one direction: strangers ~0.85, photos of one person ~0.95
        centres = 1.0 + 0.34 * centres
        photo_noise = 0.23
    else:
        photo_noise = 0.55
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    v = np.empty((n, dim), dtype=np.float32)
    for i in range(0, n, 50_000):  # in chunks: 1M x 512 floats would double in memory
        noise = rng.standard_normal((min(50_000, n - i), dim)).astype(np.float32)
        chunk = centres[who[i : i + 50_000]] + photo_noise * noise / np.sqrt(dim)
        v[i : i + 50_000] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return v, who


def payload(i: int, ids: list[str], who: np.ndarray, ts: float) -> dict[str, Any]:
    """What an upload stores with a face (tests/photos: huchu/photos/upload.py)."""
    photo = f"photo-{who[i]}-{i % PER_PERSON}"
    return {
        "face_id": ids[i],
        "index": 0,
        "det_score": 0.93,
        "gender": "female" if who[i] % 2 else "male",
        "age": 31.5,
        "photo_id": photo,
        "event": EVENTS[0] if i % 10 else EVENTS[1],
        "owner_hash": f"{who[i]:064x}",
        "created_at": "2026-11-26T10:00:00Z",
        "created_ts": ts + i * 0.001,
        "portrait_key": f"events/default/{photo}/faces/{ids[i]}.jpg",
        "image_key": f"events/default/{photo}/original.jpg",
        "bbox": [120.5, 80.2, 380.1, 410.7],
        "kps": [[200.1, 210.2]] * 5,
        "landmarks": [[200.12, 210.34]] * 68,
        "face_px": 260,
        "sharpness": 412.5,
        "engine": "bench",
        "model_id": "bench-v1",
        "i": i,  # the benchmark's own row number (packed with the rest)
    }


def bench_vectors(
    folder: Path,
    v: np.ndarray,
    who: np.ndarray,
    ids: list[str],
    shape: str,
    every: int = OPTIMIZE_AFTER,
    index: bool = True,
) -> tuple[dict[str, Any], EdgeStore]:
    """The figures, and the store (reopened, open: the caller closes it)."""
    n, dim = v.shape
    # Background builds off: the benchmark runs the same builds in the foreground to time them.
    store = EdgeStore(folder, optimize_after=10**12)
    store.ensure(FACES, dim)
    ts = time.time()
    upsert_s = 0.0  # the store's time only: building the synthetic payloads is not counted
    optimize_s = 0.0
    for i in range(0, n, BATCH):
        rows = v[i : i + BATCH].tolist()
        batch = [
            Point(ids[j], payload(j, ids, who, ts), rows[j - i])
            for j in range(i, min(n, i + BATCH))
        ]
        t0 = time.perf_counter()
        store.upsert(FACES, batch)
        upsert_s += time.perf_counter() - t0
        done = min(n, i + BATCH)
        if index and ((every and done % every == 0) or done == n):
            t0 = time.perf_counter()
            store.optimize(FACES)
            optimize_s += time.perf_counter() - t0

    # The exact cohorts' warm-up: the store reopened fills them from the shard.
    store.close()
    t0 = time.perf_counter()
    store = EdgeStore(folder, optimize_after=10**12)
    store.ensure(FACES, dim)
    store.wait_exact()
    warmup_s = time.perf_counter() - t0
    assert store.exact(FACES)

    rng = np.random.default_rng(1)
    genders = np.where(who % 2, "female", "male")
    events = np.where(np.arange(n) % 10, EVENTS[0], EVENTS[1])
    mats = {
        g: np.ascontiguousarray(v[(events == EVENTS[0]) & (genders == g)])
        for g in ("male", "female")
    }
    queries = rng.integers(0, n, QUERIES)
    edge_t: list[float] = []
    np_t: list[float] = []
    recall = 0.0
    worst = {}  # per query: numpy's 12th best score
    for q in queries:
        g = str(genders[q])
        t = time.perf_counter()
        hits = store.search(FACES, v[q].tolist(), {"event": EVENTS[0], "gender": g}, 12)
        edge_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        sims = mats[g] @ v[q]
        top = np.argpartition(-sims, 12)[:12]
        best = sims[top[np.argsort(-sims[top])]]
        np_t.append(time.perf_counter() - t)
        worst[int(q)] = float(best[-1])
        got = np.asarray([h.score or 0.0 for h in hits])
        recall += float(np.mean(got >= best[-1] - 1e-5))

    index_recall = None
    if index:  # the same queries through the HNSW index: what the cohorts replace
        shard = store._shards[FACES]
        shard.exact.ready = False
        index_recall = 0.0
        for q in queries:
            hits = store.search(
                FACES, v[q].tolist(), {"event": EVENTS[0], "gender": str(genders[q])}, 12
            )
            got = np.asarray([h.score or 0.0 for h in hits])
            index_recall += float(np.mean(got >= worst[int(q)] - 1e-5))
        shard.exact.ready = True
        index_recall = round(index_recall / QUERIES, 3)

    figures = {
        "n": n,
        "dim": dim,
        "shape": shape,
        "upserts_per_s": round(n / upsert_s),
        "optimize_s": round(optimize_s, 1) if index else None,
        "segments": store.segments(FACES),
        "exact_warmup_s": round(warmup_s, 1),
        "search_p50_ms": round(pct(edge_t, 50), 2),
        "search_p95_ms": round(pct(edge_t, 95), 2),
        "numpy_p50_ms": round(pct(np_t, 50), 2),
        "numpy_p95_ms": round(pct(np_t, 95), 2),
        "search_vs_numpy_p95": round(pct(edge_t, 95) / pct(np_t, 95), 2),
        "recall_at_12": round(recall / QUERIES, 3),
        "index_recall_at_12": index_recall,
        "link_recall": link_recall(store, v, events, queries, THRESHOLDS[shape]),
    }
    return figures, store


def link_recall(
    store: EdgeStore, v: np.ndarray, events: np.ndarray, queries: np.ndarray, threshold: float
) -> float:
    """Of each face's true K nearest faces of its event scoring at least ``threshold``
    (numpy), the share that ``link_faces``'s search returns (every synthetic face is its
    own photo: only the face itself is left out)."""
    rows = np.flatnonzero(events == EVENTS[0])
    mat = np.ascontiguousarray(v[rows])
    found = wanted = 0
    for q in queries:
        if events[q] != EVENTS[0]:
            continue
        sims = mat @ v[q]
        sims[rows == q] = -2.0
        top = np.argsort(-sims)[:K]
        true = {int(rows[i]) for i in top if sims[i] >= threshold}
        hits = store.search(FACES, v[q].tolist(), {"event": EVENTS[0]}, K + 1, threshold)
        got = [h.payload["i"] for h in hits if h.payload["i"] != int(q)][:K]
        wanted += len(true)
        found += len(true & set(got))
    return round(found / wanted, 3) if wanted else 1.0


def load_graph(graph: FalkorGraph, name: str, ids: list[str], who: np.ndarray) -> float:
    """Set-up, not measured as a step: every face linked to the other photos of its person,
    plus one link per person to a random stranger, so that paths cross the whole event."""
    g: Any = graph._graph(name)
    rng = np.random.default_rng(2)
    n = len(ids)
    t0 = time.perf_counter()
    for i in range(0, n, 20_000):
        rows = [
            {
                "id": ids[j],
                "photo_id": f"photo-{who[j]}-{j % PER_PERSON}",
                "gender": "x",
                "index": 0,
            }
            for j in range(i, min(n, i + 20_000))
        ]
        g.query(
            "UNWIND $rows AS f CREATE (n:Face {id: f.id, photo_id: f.photo_id, gender: f.gender, "
            "idx: f.index}) CREATE (n)-[:SELF]->(n)",
            {"rows": rows},
        )
    links: list[list[Any]] = []
    for j in range(n):
        for m in range(j + 1, min(n, (j // PER_PERSON + 1) * PER_PERSON)):
            links.append([ids[j], ids[m], 0.8])
        if j % PER_PERSON == 0:
            links.append([ids[j], ids[int(rng.integers(0, n))], 0.51])
    for i in range(0, len(links), 20_000):
        g.query(
            "UNWIND $links AS l MATCH (a:Face {id: l[0]}), (b:Face {id: l[1]}) "
            "CREATE (a)-[:LOOKS_LIKE {score: l[2]}]->(b), (b)-[:LOOKS_LIKE {score: l[2]}]->(a)",
            {"links": links[i : i + 20_000]},
        )
    return time.perf_counter() - t0


def bench_graph(
    store: EdgeStore,
    graph: FalkorGraph,
    v: np.ndarray,
    who: np.ndarray,
    ids: list[str],
    threshold: float,
) -> dict[str, Any]:
    n, dim = v.shape
    name = graph_name(FACES, EVENTS[0])
    graph.drop(name)
    graph._graph(name)  # indexes first, as in production
    load_s = load_graph(graph, name, ids, who)

    # 100 new faces: photos of existing people, stored then linked as an upload does.
    rng = np.random.default_rng(3)
    base = rng.integers(0, n, 100)
    fresh = v[base] + 0.3 * rng.standard_normal((100, dim)).astype(np.float32) / np.sqrt(dim)
    fresh /= np.linalg.norm(fresh, axis=1, keepdims=True)
    new_ids = [new_id() for _ in range(100)]
    pts = [
        Point(
            new_ids[i],
            {
                **payload(int(base[i]), ids, who, time.time()),
                "event": EVENTS[0],
                "face_id": new_ids[i],
                "photo_id": f"new-{i}",
            },
            fresh[i].tolist(),
        )
        for i in range(100)
    ]
    store.upsert(FACES, pts)
    t0 = time.perf_counter()
    for p in pts:  # one upload at a time: each face searched, then written with its links
        link_faces(store, graph, FACES, [p], threshold, K)
    add_s = time.perf_counter() - t0
    linked = sum(1 for p in pts if graph.links(name, p.id))

    t0 = time.perf_counter()
    families = graph.refresh_families(name)
    refresh_s = time.perf_counter() - t0

    fam_t: list[float] = []
    sizes = []
    for q in rng.integers(0, n, QUERIES):
        t = time.perf_counter()
        fam = graph.family(name, ids[q], 50)
        fam_t.append(time.perf_counter() - t)
        sizes.append(len(fam.members) if fam else 0)
    path_t: list[float] = []
    db_t: list[float] = []  # the database's own shortestPath, same pairs: the baseline
    lengths = []
    g: Any = graph._graph(name)
    for a, b in rng.integers(0, n, (QUERIES, 2)):
        t = time.perf_counter()
        chain = graph.path(name, ids[a], ids[b])
        path_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        theirs = _database_path(g, ids[a], ids[b])
        db_t.append(time.perf_counter() - t)
        assert (chain is None) == (theirs is None)
        lengths.append(len(chain.ids) - 1 if chain else -1)
    found = [x for x in lengths if x >= 0]
    graph.drop(name)
    return {
        "graph_load_s": round(load_s, 1),
        "add_100_faces_s": round(add_s, 3),
        "added_with_links": linked,
        "refresh_families_s": round(refresh_s, 2),
        "families": families,
        "family_p50_ms": round(pct(fam_t, 50), 2),
        "family_p95_ms": round(pct(fam_t, 95), 2),
        "family_mean_size": round(float(np.mean(sizes)), 1),
        "path_p50_ms": round(pct(path_t, 50), 2),
        "path_p95_ms": round(pct(path_t, 95), 2),
        "db_shortest_path_p50_ms": round(pct(db_t, 50), 2),
        "db_shortest_path_p95_ms": round(pct(db_t, 95), 2),
        "paths_found": f"{len(found)}/{len(lengths)}",
        "path_mean_links": round(float(np.mean(found)), 1) if found else None,
    }


def run(
    n: int,
    shape: str,
    graph: FalkorGraph | None,
    root: Path,
    every: int = OPTIMIZE_AFTER,
    index: bool = True,
) -> dict[str, Any]:
    v, who = people(n, shape, seed=n + SHAPES[shape])
    ids = [new_id() for _ in range(n)]
    folder = root / f"edge-{n}-{shape}"
    store = None
    try:
        out, store = bench_vectors(folder, v, who, ids, shape, every, index)
        print(json.dumps(out), flush=True)
        if graph is not None:
            g = bench_graph(store, graph, v, who, ids, THRESHOLDS[shape])
            print(json.dumps(g), flush=True)
            out.update(g)
    finally:
        if store is not None:
            store.close()
        shutil.rmtree(folder, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="20000,200000")
    ap.add_argument("--shapes", default="cone,arcface", help=f"of {', '.join(SHAPES)}")
    ap.add_argument("--million", action="store_true", help="also 1M faces of each shape")
    ap.add_argument("--no-graph", action="store_true")
    ap.add_argument("--no-index", action="store_true", help="skip the HNSW builds")
    ap.add_argument(
        "--build-every",
        type=int,
        default=OPTIMIZE_AFTER,
        help="build the index each time this many points arrived (0: once, at the end)",
    )
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    shapes = args.shapes.split(",")
    sizes = [*map(int, args.sizes.split(",")), *([1_000_000] if args.million else [])]
    cases = [(n, shape) for shape in shapes for n in sizes]
    root = Path(tempfile.mkdtemp(prefix="huchu-scale-"))
    server = None if args.no_graph else EmbeddedFalkorDB(root / "graph")
    graph = None if server is None else FalkorGraph(server.start(), on_close=server.stop)
    results = []
    try:
        for n, shape in cases:
            print(f"== {n} faces, {shape} ({SHAPES[shape]}-d)", flush=True)
            results.append(run(n, shape, graph, root, args.build_every, not args.no_index))
    finally:
        if graph is not None:
            graph.close()
        shutil.rmtree(root, ignore_errors=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
