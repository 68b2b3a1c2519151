"""Recompute cost at 1k, 10k and 100k synthetic faces, and morph accumulation per real face.

The 100k figures need an indexed vector store: Qdrant local mode is pure Python and
meant for up to about 20k points (it filters point by point), and a Qdrant server
cannot run on this machine. So the game runs against ``IndexedStore`` below, an
in-memory store with the VectorStore interface and a server's asymptotics (indexed
filters, vectorised search); Qdrant local mode is measured beside it at 1k and 10k.

    .venv/bin/python benchmarks/averages.py [--data DIR]
"""

from __future__ import annotations

import argparse
import bisect
import io
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import photos, sample_dir
from huchu.config import Settings
from huchu.context import Context
from huchu.engines.base import EngineInfo, Thresholds
from huchu.game import recompute as game
from huchu.stores.ids import new_id
from huchu.stores.objects import LocalObjectStore, UrlSigner
from huchu.stores.vectors import Point, QdrantStore

DIM = 128
INFO = EngineInfo("dlib", ("synthetic",), DIM, "cosine", Thresholds(0.92, 0.88))


class InfoOnly:
    """Recompute with images off needs only the engine's description."""

    def info(self) -> EngineInfo:
        return INFO

    backend = "none"

    def close(self) -> None:
        pass


class IndexedStore:
    """Points in numpy arrays with a created_ts index: what a Qdrant server's indexes give."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.vecs = np.zeros((0, DIM), np.float32)
        self.payloads: list[dict[str, Any]] = []
        self.ts: list[float] = []
        self.order: list[int] = []
        self.gender = np.zeros(0, dtype="<U6")

    def compact(self) -> None:
        pass  # in memory: nothing stays on a disk

    def retrieve(self, collection: str, ids: Sequence[str], vectors: bool = False) -> list[Point]:
        at = {pid: i for i, pid in enumerate(self.ids)}
        return [
            Point(pid, self.payloads[at[pid]], self.vecs[at[pid]].tolist() if vectors else None)
            for pid in ids
            if pid in at
        ]

    def count(self, collection: str, match: dict[str, Any]) -> int:
        """Points of the event (all of them: the benchmark has one)."""
        return len(self.ids)

    def ensure(self, collection: str, dim: int) -> None:
        pass

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        base = len(self.ids)
        self.ids += [p.id for p in points]
        self.payloads += [p.payload for p in points]
        v = np.asarray([p.vector for p in points], np.float32)
        self.vecs = np.vstack([self.vecs, v / np.linalg.norm(v, axis=1, keepdims=True)])
        self.gender = np.concatenate([self.gender, [p.payload.get("gender") or "" for p in points]])
        for i, p in enumerate(points):
            at = bisect.bisect(self.ts, p.payload["created_ts"])
            self.ts.insert(at, p.payload["created_ts"])
            self.order.insert(at, base + i)

    def scroll(
        self,
        collection: str,
        match: dict[str, Any],
        limit: int,
        offset: str | None = None,
        vectors: bool = False,
    ) -> tuple[list[Point], str | None]:
        since = match.get("created_ts", {}).get("gte", float("-inf"))  # a backfill reads all
        start = bisect.bisect_left(self.ts, since) + (int(offset) if offset else 0)
        idx = self.order[start : start + limit]
        nxt = str(int(offset or 0) + limit) if start + limit < len(self.order) else None
        return [Point(self.ids[i], self.payloads[i], self.vecs[i].tolist()) for i in idx], nxt

    def search(
        self,
        collection: str,
        vector: Sequence[float],
        match: dict[str, Any],
        limit: int,
        min_score: float | None = None,
    ) -> list[Point]:
        mask = (
            np.ones(len(self.ids), bool)
            if "gender" not in match
            else self.gender == match["gender"]
        )
        cand = np.nonzero(mask)[0]
        scores = self.vecs[cand] @ np.asarray(vector, np.float32)
        top = cand[np.argsort(-scores)[:limit]]
        return [
            Point(self.ids[i], self.payloads[i], None, float(self.vecs[i] @ np.asarray(vector)))
            for i in top
        ]


def synthetic(n: int, t0: float, rng: np.random.Generator) -> list[Point]:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    out = []
    for i in range(n):
        fid = new_id()
        out.append(
            Point(
                fid,
                {
                    "face_id": fid,
                    "event": "default",
                    "gender": "female" if i % 2 else "male",
                    "age": 30.0,
                    "created_ts": t0 + i,
                },
                v[i].tolist(),
            )
        )
    return out


def context(vectors: Any) -> Context:
    tmp = Path(tempfile.mkdtemp(prefix="huchu-avg-"))
    objects = LocalObjectStore(tmp / "objects", UrlSigner(b"k" * 32))
    settings = Settings().model_copy(update={"data_dir": tmp})
    return Context(settings, objects, vectors, InfoOnly())  # type: ignore[arg-type]


def recompute_times(store_factory: Any, n: int) -> tuple[float, float]:
    rng = np.random.default_rng(n)
    ctx = context(store_factory())
    ctx.vectors.ensure(ctx.faces, DIM)
    ctx.vectors.upsert(ctx.faces, synthetic(n, 1_000.0, rng))
    t = time.perf_counter()
    game.recompute(ctx, "default", images=False)
    full = time.perf_counter() - t
    ctx.vectors.upsert(ctx.faces, synthetic(100, 1_000.0 + n + 600, rng))  # ten minutes later
    t = time.perf_counter()
    game.recompute(ctx, "default", images=False)
    return full, time.perf_counter() - t


def morph_per_face(sample: Path, n: int) -> float:
    from PIL import Image, ImageOps

    from huchu.analysis import analyze_rgb
    from huchu.engines.bundled import BundledEngine
    from huchu.game.render.morph import MorphState
    from huchu.imaging.decode import decode_image, encode_jpeg

    engine = BundledEngine()
    items = []
    for data in photos(sample).values():
        for variant in (
            data,
            encode_jpeg(np.asarray(ImageOps.mirror(Image.open(io.BytesIO(data)).convert("RGB")))),
        ):
            rgb = decode_image(variant).rgb
            items += [
                (variant, [list(p) for p in f.landmarks], f.gender)
                for f in analyze_rgb(engine, rgb)
                if f.det_score >= 0.75
            ]
    work = (items * (n // len(items) + 1))[:n]
    state = MorphState()
    t = time.perf_counter()
    for data, lm, gender in work:  # what a recompute does per new face: decode, warp, add
        state.add(decode_image(data).rgb, lm, gender)
    return (time.perf_counter() - t) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--quick", action="store_true", help="the smallest sizes only (a smoke run)")
    args = ap.parse_args()
    print(f"{'store':22} {'faces':>7} {'full recompute s':>17} {'us/face':>8} {'+100 new s':>11}")
    for name, factory, sizes in (
        ("indexed (server-like)", IndexedStore, (1_000, 10_000, 100_000)),
        ("qdrant local mode", lambda: QdrantStore(None, ":memory:"), (1_000, 10_000)),  # type: ignore[arg-type]
    ):
        for n in sizes[:1] if args.quick else sizes:
            full, inc = recompute_times(factory, n)
            print(f"{name:22} {n:7d} {full:17.3f} {full / n * 1e6:8.1f} {inc:11.3f}")
    sample = sample_dir(args.data)
    for n in (10,) if args.quick else (10, 100):
        print(f"morph accumulation, {n:3d} real faces: {morph_per_face(sample, n):.4f} s/face")


if __name__ == "__main__":
    main()
