"""``VectorStore``: Qdrant local mode in the data dir, or a Qdrant server by URL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from huchu.errors import Unavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

# The fields requests filter on get a payload index. Each index costs every write's flush
# about 0.7 ms of fsync (measured on Qdrant Edge: 1.5 ms with none, 4.9 ms with five),
# which the bindings spend holding the interpreter, so fields filtered on only by tools
# stay plain fields: filterable, scanned instead of looked up.
PAYLOAD_INDEXES = {
    "event": "keyword",
    "gender": "keyword",
    "owner_hash": "keyword",
    "created_ts": "float",
}
FILTERABLE = (*PAYLOAD_INDEXES, "photo_id", "content_hash")

# One HNSW configuration for the embedded store and a Qdrant server. ef_construct 64
# (Qdrant's default is 100): the index builds about a third faster, and searches keep
# their recall through HNSW_EF, the candidates a search keeps.
HNSW_M = 16
HNSW_EF_CONSTRUCT = 64
HNSW_EF = 128
# Below this many faces a filtered search scans instead of walking the graph: an index
# pays for itself past it (measured on Qdrant Edge, benchmarks/scale.py). The embedded
# store answers event/gender searches from memory at any size (huchu/stores/exact.py);
# a server gets the threshold, in its unit (KB of vectors).
EXACT_BELOW = 20_000


def full_scan_kb(dim: int) -> int:
    return EXACT_BELOW * dim * 4 // 1024


@dataclass(frozen=True)
class Point:
    id: str
    payload: dict[str, Any]
    vector: list[float] | None = None
    score: float | None = None


Match = dict[str, Any]  # field -> value (equality); a list means "any of"; a dict a range


class VectorStore(Protocol):
    def ensure(self, collection: str, dim: int) -> None: ...
    def upsert(self, collection: str, points: Sequence[Point]) -> None: ...
    def delete(self, collection: str, ids: Sequence[str]) -> None: ...
    def retrieve(
        self, collection: str, ids: Sequence[str], vectors: bool = False
    ) -> list[Point]: ...
    def scroll(
        self,
        collection: str,
        match: Match,
        limit: int,
        offset: str | None = None,
        vectors: bool = False,
    ) -> tuple[list[Point], str | None]: ...
    def search(
        self,
        collection: str,
        vector: Sequence[float],
        match: Match,
        limit: int,
        min_score: float | None = None,
    ) -> list[Point]: ...
    def count(self, collection: str, match: Match) -> int: ...
    def values(self, collection: str, key: str, limit: int = 1000) -> list[str]: ...
    def ping(self) -> None: ...
    def compact(self) -> None:
        """Make deleted points leave the disk now, where the store keeps them until later."""
        ...

    def close(self) -> None: ...


class QdrantStore:
    """One client; local mode serialises every call (one process owns the folder)."""

    def __init__(self, url: str | None, path: Path | None, api_key: str | None = None) -> None:
        from qdrant_client import QdrantClient

        self.local = url is None
        self._path: Path | None = None
        if url is not None:
            self._client = QdrantClient(url=url, api_key=api_key, timeout=10)
        elif path is not None and str(path) == ":memory:":
            self._client = QdrantClient(location=":memory:")
        else:
            assert path is not None
            Path(path).mkdir(parents=True, exist_ok=True)
            self._client = QdrantClient(path=str(path))
            self._path = Path(path)
        self._lock = threading.RLock()
        self._known: set[str] = set()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        if self.local:
            with self._lock:
                yield
        else:
            yield

    def _run(self, fn: Callable[[], T]) -> T:
        try:
            with self._guard():
                return fn()
        except Unavailable:
            raise
        except Exception as exc:
            if _is_client_bug(exc):
                raise
            raise Unavailable(f"vector store failed: {exc.__class__.__name__}") from exc

    def ensure(self, collection: str, dim: int) -> None:
        if collection in self._known:
            return
        from qdrant_client import models as qm

        def create() -> None:
            if not self._client.collection_exists(collection):
                self._client.create_collection(
                    collection,
                    vectors_config=qm.VectorParams(size=dim, distance=qm.Distance.COSINE),
                    hnsw_config=qm.HnswConfigDiff(
                        m=HNSW_M,
                        ef_construct=HNSW_EF_CONSTRUCT,
                        full_scan_threshold=full_scan_kb(dim),
                    ),
                )
                if not self.local:  # local mode ignores payload indexes
                    for field, kind in PAYLOAD_INDEXES.items():
                        self._client.create_payload_index(collection, field, field_schema=kind)  # type: ignore[arg-type]

        self._run(create)
        self._known.add(collection)

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        from qdrant_client import models as qm

        structs = [
            qm.PointStruct(id=p.id, vector=p.vector or [], payload=p.payload) for p in points
        ]
        self._run(lambda: self._client.upsert(collection, points=structs, wait=True))

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        from qdrant_client import models as qm

        selector = qm.PointIdsList(points=list(ids))
        self._run(lambda: self._client.delete(collection, points_selector=selector, wait=True))

    def retrieve(self, collection: str, ids: Sequence[str], vectors: bool = False) -> list[Point]:
        if not ids:
            return []
        recs = self._run(
            lambda: self._client.retrieve(
                collection, ids=list(ids), with_payload=True, with_vectors=vectors
            )
        )
        return [_point(r) for r in recs]

    def scroll(
        self,
        collection: str,
        match: Match,
        limit: int,
        offset: str | None = None,
        vectors: bool = False,
    ) -> tuple[list[Point], str | None]:
        recs, nxt = self._run(
            lambda: self._client.scroll(
                collection,
                scroll_filter=_filter(match),
                limit=limit,
                offset=offset,
                with_payload=True,
                with_vectors=vectors,
            )
        )
        return [_point(r) for r in recs], (None if nxt is None else str(nxt))

    def search(
        self,
        collection: str,
        vector: Sequence[float],
        match: Match,
        limit: int,
        min_score: float | None = None,
    ) -> list[Point]:
        from qdrant_client import models as qm

        res = self._run(
            lambda: self._client.query_points(
                collection,
                query=list(vector),
                query_filter=_filter(match),
                limit=limit,
                score_threshold=min_score,
                with_payload=True,
                search_params=qm.SearchParams(hnsw_ef=HNSW_EF),
            )
        )
        return [_point(r) for r in res.points]

    def count(self, collection: str, match: Match) -> int:
        res = self._run(
            lambda: self._client.count(collection, count_filter=_filter(match), exact=True)
        )
        return int(res.count)

    def values(self, collection: str, key: str, limit: int = 1000) -> list[str]:
        """Distinct values of a keyword field (Qdrant's facet), e.g. every event."""
        res = self._run(lambda: self._client.facet(collection, key=key, limit=limit, exact=True))
        return sorted(str(hit.value) for hit in res.hits)

    def ping(self) -> None:
        self._run(lambda: self._client.get_collections())

    def compact(self) -> None:
        """A server vacuums deleted points by its optimizer settings (docs/reliability.md);
        local mode keeps each point as one SQLite row, so the file is vacuumed."""
        if not self.local:
            return
        import sqlite3

        if self._path is None:
            return
        for db in self._path.rglob("storage.sqlite"):
            try:
                with self._lock, sqlite3.connect(db) as conn:
                    conn.execute("VACUUM")
            except sqlite3.OperationalError as exc:  # busy: the next recompute tries again
                log.warning("vacuum of %s failed: %s", db, exc)

    def close(self) -> None:
        with self._guard():
            self._client.close()


def _is_client_bug(exc: Exception) -> bool:
    return isinstance(exc, (TypeError, AttributeError, AssertionError))


def _filter(match: Match) -> Any:
    from qdrant_client import models as qm

    must: list[Any] = []
    for key, value in match.items():
        if value is None:
            continue
        if isinstance(value, dict):  # {"gte": x, "lt": y}: a numeric range
            must.append(qm.FieldCondition(key=key, range=qm.Range(**value)))
        elif isinstance(value, (list, tuple, set)):
            must.append(qm.FieldCondition(key=key, match=qm.MatchAny(any=list(value))))
        else:
            must.append(qm.FieldCondition(key=key, match=qm.MatchValue(value=value)))
    return qm.Filter(must=must) if must else None


def _point(r: Any) -> Point:
    vec = getattr(r, "vector", None)
    return Point(
        id=str(r.id),
        payload=dict(r.payload or {}),
        vector=None if vec is None else [float(v) for v in vec],
        score=getattr(r, "score", None),
    )
