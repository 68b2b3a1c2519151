"""``ExactCohorts``: every live vector of a collection in memory, grouped as the app searches.

Every search Huchu makes is filtered by event, and often by gender (look-alikes, graph
links, the leaderboard). HNSW answers those searches about as fast as a brute-force scan
at 200k faces but misses one true neighbour in five (recall@12 0.79: the engine's vectors
lie in a narrow cone, the worst shape for a graph index). So the embedded store keeps,
beside the shard, one contiguous float32 matrix per (event, gender) and answers such a
search by a scan of the cohorts the filter names: exact by construction, at the cost of
numpy's own brute force (benchmarks/scale.py). Any other filter goes to the shard's index.

The shard stays the store of record: the matrices are filled from it when it opens (in
the background; searches use the index until then) and follow every write the store
makes, under the shard's lock. They hold the vectors a second time in memory (200k x 128:
100 MB; 1M x 512: 2 GB), so a collection past ``MAX_BYTES`` is not mirrored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

MAX_BYTES = 4 << 30  # past this many bytes of vectors a collection uses the index alone
GROUP_BY = ("event", "gender")  # the filters a search is answered exactly for
Key = tuple[Any, Any]


class _Block:
    """The vectors of one (event, gender), rows 0..n-1 live; removal moves the last row in."""

    __slots__ = ("ids", "n", "vecs")

    def __init__(self, dim: int) -> None:
        self.vecs: NDArray[np.float32] = np.empty((64, dim), dtype=np.float32)
        self.ids: list[str] = []
        self.n = 0

    def add(self, pid: str, vec: NDArray[np.float32]) -> int:
        if self.n == len(self.vecs):  # grow by half: amortised O(1) per add
            grown = np.empty((len(self.vecs) * 3 // 2 + 64, self.vecs.shape[1]), np.float32)
            grown[: self.n] = self.vecs[: self.n]
            self.vecs = grown
        self.vecs[self.n] = vec
        self.ids.append(pid)
        self.n += 1
        return self.n - 1

    def remove(self, row: int) -> str | None:
        """Drop ``row``; returns the id of the point moved into it (None if it was last)."""
        last = self.n - 1
        moved = None
        if row != last:
            self.vecs[row] = self.vecs[last]
            self.ids[row] = self.ids[last]
            moved = self.ids[row]
        self.ids.pop()
        self.n = last
        return moved

    def top(
        self, q: NDArray[np.float32], limit: int, min_score: float | None
    ) -> list[tuple[float, str]]:
        if self.n == 0:
            return []
        sims = self.vecs[: self.n] @ q
        cut = self.n - limit  # the best ``limit`` sit past the cut (no negated copy)
        part = np.argpartition(sims, cut)[cut:] if cut > 0 else range(self.n)
        out = [(float(sims[i]), self.ids[i]) for i in part]
        if min_score is not None:
            out = [hit for hit in out if hit[0] >= min_score]
        return out


class ExactCohorts:
    """The mirror of one collection. Not thread-safe: its shard's lock guards every call."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.blocks: dict[Key, _Block] = {}
        self.where: dict[str, tuple[Key, int]] = {}  # point id -> (block, row)
        self.ready = False  # filled from the shard: until then searches use the index
        self.disabled = False  # past MAX_BYTES: dropped, the index answers

    def __len__(self) -> int:
        return len(self.where)

    @property
    def nbytes(self) -> int:
        return len(self.where) * self.dim * 4

    # -- writes ------------------------------------------------------------------
    def upsert(
        self,
        ids: Sequence[str],
        vectors: Sequence[Sequence[float]],
        payloads: Sequence[dict[str, Any]],
    ) -> None:
        """Add or replace points (a point whose event or gender changed leaves its block).
        The vectors convert in one go: per point, the conversion cost more than the add."""
        if self.disabled or not ids:
            return
        mat = np.asarray(vectors, dtype=np.float32)
        if mat.shape != (len(ids), self.dim):
            raise ValueError(f"vectors of {mat.shape} for {len(ids)} {self.dim}-d points")
        norms = np.linalg.norm(mat, axis=1, keepdims=True)
        mat = (mat / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)  # cosine
        for pid, vec, payload in zip(ids, mat, payloads, strict=True):
            self.delete(pid)
            key = (payload.get("event"), payload.get("gender"))
            block = self.blocks.get(key)
            if block is None:
                block = self.blocks[key] = _Block(self.dim)
            self.where[pid] = (key, block.add(pid, vec))
        if self.nbytes > MAX_BYTES:
            self.disable()

    def delete(self, pid: str) -> None:
        found = self.where.pop(pid, None)
        if found is None:
            return
        key, row = found
        block = self.blocks[key]
        moved = block.remove(row)
        if moved is not None:
            self.where[moved] = (key, row)
        if block.n == 0:
            del self.blocks[key]

    def disable(self) -> None:
        self.disabled = True
        self.ready = False
        self.blocks.clear()
        self.where.clear()

    # -- reads -------------------------------------------------------------------
    def cohorts(self, match: dict[str, Any]) -> list[Key] | None:
        """The blocks a filter covers, or None when it filters on anything but
        ``GROUP_BY`` equalities (then the shard's index answers)."""
        if not self.ready:
            return None
        wanted: dict[str, Any] = {}
        for field, value in match.items():
            if value is None:
                continue
            if field not in GROUP_BY or isinstance(value, (dict, list, tuple, set)):
                return None
            wanted[field] = value
        return [
            key
            for key in self.blocks
            if all(key[GROUP_BY.index(f)] == v for f, v in wanted.items())
        ]

    def search(
        self,
        vector: Sequence[float],
        keys: Iterable[Key],
        limit: int,
        min_score: float | None = None,
    ) -> list[tuple[str, float]]:
        """The ``limit`` best (id, cosine) of the named blocks, best first."""
        q = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(q))
        if norm > 0:
            q = q / norm
        hits: list[tuple[float, str]] = []
        for key in keys:
            hits.extend(self.blocks[key].top(q, limit, min_score))
        hits.sort(key=lambda h: (-h[0], h[1]))
        return [(pid, score) for score, pid in hits[:limit]]
