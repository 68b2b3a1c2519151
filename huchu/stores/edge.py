"""``EdgeStore``: Qdrant's own engine in-process (Qdrant Edge), one shard per collection."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson

from huchu.errors import Unavailable
from huchu.stores.exact import GROUP_BY, ExactCohorts
from huchu.stores.vectors import (
    FILTERABLE,
    HNSW_EF,
    HNSW_EF_CONSTRUCT,
    HNSW_M,
    PAYLOAD_INDEXES,
    Match,
    Point,
    full_scan_kb,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

# A plain (unindexed) segment answers a filtered search by scanning; past this many
# new points an HNSW index pays for itself (measured in benchmarks/scale.py).
OPTIMIZE_AFTER = 20_000
FILL_PAGE = 2048  # points read per hold of the shard's lock while the exact cohorts fill
PACKED = "_json"  # the payload field that carries a point's lists and objects
REWRITE_GAP = 9.0  # compact(): wait 9x a rewrite's duration before the next one
FLUSH_S = 1.0  # logged writes reach the disk within this (a power cut loses at most this)
# A segment holds at most this many faces; past it the builds start a new segment. One
# HNSW graph over 1M 128-d points outgrows the CPU caches and its build grew 7.3x from
# 200k to 1M (N log N: 5.7x); segments of 200k keep each build the size of the 200k one,
# so the builds grow linearly, and a search visits one more segment per 200k faces.
SEGMENT_FACES = 200_000

# Folders this process holds open: a shard folder takes one owner (its lock file), so
# two stores of one process on one data dir share the shard instead of failing.
_OPEN: dict[str, tuple[_Shard, int]] = {}
_OPEN_LOCK = threading.Lock()


class _Shard:
    """One open shard, its lock and its count of points not yet indexed."""

    def __init__(self, path: Path, shard: Any, owner: IO[str]) -> None:
        self.path = path
        self.shard = shard
        self.owner = owner  # an flock on the folder: one process per shard
        self.lock = threading.RLock()
        self.unindexed = int(shard.info().points_count) - int(shard.info().indexed_vectors_count)
        self.optimizing: threading.Thread | None = None
        self.journal: list[Any] | None = None  # writes made while a copy is optimized
        self.dirty = path.parent / f".{path.name}.deleted"  # survives a crash before compact()
        self.next_rewrite = 0.0  # monotonic time before which compact() leaves it alone
        self.rewriting = False  # compact() is rewriting a copy: no index build starts
        self.deletes = 0  # deletes applied since the shard opened (a rewrite compares)
        config = json.loads((path / "edge_config.json").read_text())
        self.logged = bool(config.get("wal_enabled"))  # shards made before 2026-11-26: no
        self.unflushed = False  # written since the last flush (the flusher's to do)
        # Every live vector by (event, gender), searched exactly (huchu/stores/exact.py);
        # filled from the shard in the background, then kept by every write below.
        self.exact = ExactCohorts(int(config["vectors"][""]["size"]))
        self.closed = False
        self.filling = threading.Thread(target=self._fill, name=f"edge-exact-{path.name}")
        self.filling.daemon = True
        self.filling.start()

    def _fill(self) -> None:
        """Read every point's vector and grouping fields into ``exact``, a page per hold of
        the lock: writes between pages update the cohorts themselves (a point deleted
        before its page is not read; one read and then written is written again), so the
        cohorts match the shard when the last page is in."""
        import qdrant_edge as qe

        fields = qe.PayloadSelector.Include(list(GROUP_BY))
        offset = None
        try:
            while True:
                with self.lock:
                    if self.closed or self.exact.disabled:
                        return
                    req = qe.ScrollRequest(
                        offset=offset,
                        limit=FILL_PAGE,
                        filter=None,
                        with_payload=fields,
                        with_vector=True,
                    )
                    recs, offset = self.shard.scroll(req)
                    recs = [r for r in recs if _raw_vector(r) is not None]
                    self.exact.upsert(
                        [str(r.id) for r in recs],
                        [_raw_vector(r) for r in recs],
                        [dict(r.payload or {}) for r in recs],
                    )
                    if offset is None:
                        self.exact.ready = not self.exact.disabled
                        return
        except Exception as exc:  # the index answers every search instead
            log.warning("exact cohorts of %s not filled: %s", self.path, exc)
            with self.lock:
                self.exact.disable()

    @property
    def deleted(self) -> bool:
        return self.dirty.exists()

    @deleted.setter
    def deleted(self, value: bool) -> None:
        if value:
            self.dirty.touch()
        else:
            self.dirty.unlink(missing_ok=True)

    def write(self, *ops: Any) -> None:
        """Apply update operations. They are in the shard's write-ahead log when this
        returns (0.03 ms: the log is memory-mapped, so a killed process loses nothing);
        the flusher puts them on the disk within ``FLUSH_S``, as a Qdrant server does.
        A flush fsyncs every segment file with the interpreter held (5 ms on a quiet
        disk, 25 ms under mixed load, a third of the server's interpreter time when
        every write flushed). A shard made without a log still flushes each write."""
        with self.lock:
            for op in ops:
                self.shard.update(op)
            if self.logged:
                self.unflushed = True
                _start_flusher()
            else:
                self.shard.flush()
            if self.journal is not None:
                self.journal.extend(ops)

    def flush_due(self) -> None:
        with self.lock:
            if self.unflushed:
                self.unflushed = False
                self.shard.flush()


_flusher: threading.Thread | None = None
_FLUSHER_LOCK = threading.Lock()  # not _OPEN_LOCK: writers call this holding a shard's lock


def _start_flusher() -> None:
    """One daemon thread per process flushes the open shards' logged writes every
    FLUSH_S (closing a shard flushes it too)."""
    global _flusher
    if _flusher is not None and _flusher.is_alive():
        return
    with _FLUSHER_LOCK:
        if _flusher is None or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flush_loop, name="edge-flusher", daemon=True)
            _flusher.start()


def _flush_loop() -> None:
    while True:
        time.sleep(FLUSH_S)
        with _OPEN_LOCK:
            shards = [shard for shard, _ in _OPEN.values()]
        for s in shards:
            try:
                s.flush_due()
            except Exception as exc:  # a closed shard: its close flushed it
                log.debug("flush of %s skipped: %s", s.path, exc)


class EdgeStore:
    """Every call holds the interpreter while Qdrant's engine runs it (the bindings keep
    the GIL), so one lock per shard costs no parallelism and keeps calls consistent."""

    local = True

    def __init__(
        self,
        root: Path,
        optimize_after: int = OPTIMIZE_AFTER,
        indexing_threshold_kb: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.optimize_after = optimize_after
        self.indexing_kb = indexing_threshold_kb  # None: Qdrant's default (10 MB of vectors)
        self._shards: dict[str, _Shard] = {}
        self._lock = threading.Lock()
        self._compacting = threading.Lock()  # one compact() at a time (they share folders)

    # -- shards ------------------------------------------------------------------
    def _path(self, collection: str) -> Path:
        return (self.root / collection).resolve()

    def ensure(self, collection: str, dim: int) -> None:
        if collection in self._shards:
            return
        with self._lock:
            if collection in self._shards:
                return
            self._shards[collection] = _acquire(self._path(collection), dim, self.indexing_kb)

    def _shard(self, collection: str) -> _Shard:
        try:
            return self._shards[collection]
        except KeyError:
            path = self._path(collection)
            if not (path / "edge_config.json").exists():
                raise Unavailable(f"vector collection {collection} is not set up") from None
            with self._lock:
                if collection not in self._shards:
                    self._shards[collection] = _acquire(path, None)
            return self._shards[collection]

    def _run(self, collection: str, fn: Callable[[Any], T]) -> T:
        s = self._shard(collection)
        try:
            with s.lock:
                return fn(s.shard)
        except Unavailable:
            raise
        except (TypeError, AttributeError, AssertionError):
            raise
        except Exception as exc:
            raise Unavailable(f"vector store failed: {exc}") from exc

    # -- writes ------------------------------------------------------------------
    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        import qdrant_edge as qe

        if not points:
            return
        batch = [qe.Point(p.id, list(p.vector or []), _pack(p.payload)) for p in points]
        s = self._shard(collection)

        def write(_: Any) -> None:
            s.write(qe.UpdateOperation.upsert_points(batch))
            kept = [p for p in points if p.vector is not None]
            s.exact.upsert(
                [_key(p.id) for p in kept],
                [p.vector or [] for p in kept],
                [p.payload for p in kept],
            )

        self._run(collection, write)
        self._maybe_optimize(collection, len(points))

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        """Forget the points now. Their bytes stay in the segment's files until the optimizer
        rewrites that segment (measured: an appendable segment is not vacuumed, an indexed
        one past 5 % deleted is); there is no write-ahead log to keep them elsewhere."""
        import qdrant_edge as qe

        if not ids:
            return

        s = self._shard(collection)

        def erase(shard: Any) -> None:
            found: list[Any] = [r.id for r in shard.retrieve(list(ids), False, False)]
            if found:
                s.deleted = True  # the next compact() rewrites this shard
                s.deletes += 1
                s.write(
                    qe.UpdateOperation.overwrite_payload(found, {}),
                    qe.UpdateOperation.delete_points(found),
                )
                for pid in found:
                    s.exact.delete(str(pid))

        self._run(collection, erase)

    # -- reads -------------------------------------------------------------------
    def retrieve(self, collection: str, ids: Sequence[str], vectors: bool = False) -> list[Point]:
        if not ids:
            return []
        recs = self._run(collection, lambda s: s.retrieve(list(ids), True, vectors))
        order = {i: n for n, i in enumerate(ids)}
        return sorted((_point(r) for r in recs), key=lambda p: order.get(p.id, len(order)))

    def scroll(
        self,
        collection: str,
        match: Match,
        limit: int,
        offset: str | None = None,
        vectors: bool = False,
    ) -> tuple[list[Point], str | None]:
        import qdrant_edge as qe

        req = qe.ScrollRequest(
            offset=None if offset is None else _pid(offset),
            limit=limit,
            filter=_filter(match),
            with_payload=True,
            with_vector=vectors,
        )
        recs, nxt = self._run(collection, lambda s: s.scroll(req))
        return [_point(r) for r in recs], (None if nxt is None else str(nxt))

    def search(
        self,
        collection: str,
        vector: Sequence[float],
        match: Match,
        limit: int,
        min_score: float | None = None,
    ) -> list[Point]:
        """Exact when the filter names only event and gender (every search the app makes:
        a scan of those cohorts in memory); otherwise the shard's HNSW index."""
        import qdrant_edge as qe

        s = self._shard(collection)

        def query(shard: Any) -> list[Point]:
            keys = s.exact.cohorts(match)
            if keys is not None:
                best = [
                    (_pid(pid), pid, score)
                    for pid, score in s.exact.search(vector, keys, limit, min_score)
                ]
                recs = shard.retrieve([key for key, _, _ in best], True, False)
                found = {r.id: r.payload for r in recs}  # ids as the shard gives them back
                return [
                    Point(id=pid, payload=_unpack(found[key]), score=score)
                    for key, pid, score in best
                    if key in found
                ]
            req = qe.QueryRequest(
                limit=limit,
                query=qe.Query.Nearest([float(v) for v in vector]),
                filter=_filter(match),
                score_threshold=min_score,
                with_payload=True,
                params=qe.SearchParams(hnsw_ef=HNSW_EF),
            )
            return [_point(r) for r in shard.query(req)]

        return self._run(collection, query)

    def count(self, collection: str, match: Match) -> int:
        import qdrant_edge as qe

        req = qe.CountRequest(exact=True, filter=_filter(match))
        return int(self._run(collection, lambda s: s.count(req)))

    def values(self, collection: str, key: str, limit: int = 1000) -> list[str]:
        """Distinct values of a keyword field (the shard's facet), e.g. every event."""
        import qdrant_edge as qe

        if key not in PAYLOAD_INDEXES:
            raise TypeError(f"{key} is not an indexed field (PAYLOAD_INDEXES)")
        req = qe.FacetRequest(key=key, limit=limit, exact=True)
        res = self._run(collection, lambda s: s.facet(req))
        return sorted(str(hit.value) for hit in res.hits)

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for name in list(self._shards):
            self._run(name, lambda s: s.info())

    def indexed(self, collection: str) -> int:
        """How many points an HNSW index covers."""
        return int(self._run(collection, lambda s: s.info().indexed_vectors_count))

    def segments(self, collection: str) -> int:
        """How many segments the shard has (an appendable one included)."""
        return int(self._run(collection, lambda s: s.info().segments_count))

    # -- index maintenance -------------------------------------------------------
    def _maybe_optimize(self, collection: str, added: int) -> None:
        s = self._shards[collection]
        with s.lock:
            s.unindexed += added
            if s.unindexed < self.optimize_after or s.optimizing is not None or s.rewriting:
                return
            s.optimizing = threading.Thread(
                target=self._optimize, args=(s,), name=f"edge-optimize-{collection}", daemon=True
            )
            s.optimizing.start()

    def _optimize(self, s: _Shard) -> None:
        from huchu.stores.edge_optimize import optimize_aside

        try:
            s.unindexed = 0
            optimize_aside(s)
        except Exception as exc:  # the next batch of points tries again
            s.unindexed = self.optimize_after
            log.warning("background index build of %s failed: %s", s.path, exc)
        finally:
            s.optimizing = None

    def optimize(self, collection: str) -> bool:
        """Build the HNSW index now, in this process (blocking, holding the interpreter:
        for tools and benchmarks); ``True`` when segments changed."""
        s = self._shard(collection)
        with s.lock:
            s.unindexed = 0
            changed = bool(s.shard.optimize())
            s.shard.flush()
            return changed

    def compact(self) -> None:
        """Rewrite every shard that lost points since its last rewrite from its live points.

        A deleted point's bytes stay in its segment's files until the engine rewrites the
        segment, and it never vacuums an appendable one: a fresh shard holding only the
        live points drops them for certain (the index is rebuilt in the background).

        The rewrite runs in a child process on a copy (``rewrite_aside``): in this process
        it held the interpreter (the bindings keep it) for about a second at 500 faces,
        and every request waited. Writes made meanwhile are replayed onto the result.
        It still costs CPU, so a shard is rewritten at most a tenth of the time: after a
        rewrite that took t, the next waits 9t (recomputes a second apart would otherwise
        rewrite a large shard every second); it lost points, so a later compact() does."""
        from huchu.stores.edge_optimize import rewrite_aside

        with self._compacting:
            self.wait_optimized()  # a copy being indexed would bring the old bytes back
            for name, s in list(self._shards.items()):
                if s.deleted and time.monotonic() >= s.next_rewrite:
                    started = time.monotonic()
                    rewrite_aside(s, self.indexing_kb)
                    ended = time.monotonic()
                    s.next_rewrite = ended + REWRITE_GAP * (ended - started)
                    self._maybe_optimize(name, 0)

    def exact(self, collection: str) -> bool:
        """Whether searches of ``collection`` filtered by event and gender are exact now."""
        return self._shard(collection).exact.ready

    def wait_exact(self, timeout: float | None = None) -> None:
        """Wait for the exact cohorts to fill (benchmarks, tests)."""
        for s in list(self._shards.values()):
            s.filling.join(timeout)

    def wait_optimized(self, timeout: float | None = None) -> None:
        """Wait for a background index build (benchmarks, tests, shutdown)."""
        for s in list(self._shards.values()):
            t = s.optimizing
            if t is not None:
                t.join(timeout)

    def close(self) -> None:
        with self._compacting:  # a rewrite in flight finishes before its shard closes
            self.wait_optimized()
            with self._lock:
                for s in self._shards.values():
                    _release(s)
                self._shards.clear()


def _config(dim: int, indexing_kb: int | None = None) -> Any:
    import qdrant_edge as qe

    return qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine),
        hnsw_config=qe.HnswIndexConfig(
            m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=full_scan_kb(dim)
        ),
        # A write-ahead log: a write is kept once logged (memory-mapped: it survives a
        # killed process) and flushed within FLUSH_S. The log holds a deleted face's
        # payload until compact() rewrites the shard, as its segments do.
        wal_enabled=True,
        # Vacuum indexed segments past 5 % deleted points, so erased faces leave the disk.
        optimizers=qe.EdgeOptimizersConfig(
            deleted_threshold=0.05,
            vacuum_min_vector_number=1,
            indexing_threshold=indexing_kb,
            max_segment_size=segment_kb(dim),
        ),
    )


def segment_kb(dim: int) -> int:
    """The engine's segment cap (KB of float32 vectors) for SEGMENT_FACES faces of ``dim``,
    with 5 % to spare: at the exact size the engine already starts the next segment
    (measured: a cap of exactly 60,000 128-d faces made segments of 40,000)."""
    return -(-SEGMENT_FACES * dim * 4 * 21 // 20 // 1024)


def _acquire(path: Path, dim: int | None, indexing_kb: int | None = None) -> _Shard:
    import qdrant_edge as qe

    key = str(path)
    with _OPEN_LOCK:
        if key in _OPEN:
            shard, refs = _OPEN[key]
            _OPEN[key] = (shard, refs + 1)
            return shard
        owner = _own(path)
        try:
            if (path / "edge_config.json").exists():
                raw = qe.EdgeShard.load(key)
            else:
                if dim is None:
                    raise Unavailable(f"no vector shard in {path}")
                path.mkdir(parents=True, exist_ok=True)
                raw = qe.EdgeShard.create(key, _config(dim, indexing_kb))
                for field, kind in PAYLOAD_INDEXES.items():
                    schema = getattr(qe.PayloadSchemaType, kind.capitalize())
                    raw.update(qe.UpdateOperation.create_field_index(field, schema))
                raw.flush()
        except Unavailable:
            owner.close()
            raise
        except Exception as exc:
            owner.close()
            raise Unavailable(f"cannot open the vector shard {path}: {exc}") from exc
        shard = _Shard(path, raw, owner)
        _OPEN[key] = (shard, 1)
        return shard


def copy_live(source: Any, fresh_path: Path, dim: int, indexing_kb: int | None) -> None:
    """A new shard at ``fresh_path`` holding only ``source``'s live points (and its payload
    indexes): nothing of a deleted point comes along. Runs in ``rewrite_aside``'s child."""
    import qdrant_edge as qe

    fresh = qe.EdgeShard.create(str(fresh_path), _config(dim, indexing_kb))
    try:
        for field, kind in PAYLOAD_INDEXES.items():
            schema = getattr(qe.PayloadSchemaType, kind.capitalize())
            fresh.update(qe.UpdateOperation.create_field_index(field, schema))
        offset = None
        while True:
            req = qe.ScrollRequest(
                offset=offset, limit=1024, filter=None, with_payload=True, with_vector=True
            )
            recs, offset = source.scroll(req)
            batch = [qe.Point(r.id, _vector(r), dict(r.payload or {})) for r in recs]
            if batch:
                fresh.update(qe.UpdateOperation.upsert_points(batch))
            if offset is None:
                break
        fresh.flush()
    finally:
        fresh.close()


def shard_dim(path: Path) -> int:
    return int(json.loads((path / "edge_config.json").read_text())["vectors"][""]["size"])


def _vector(r: Any) -> list[float]:
    return [float(v) for v in _raw_vector(r) or []]


def _release(s: _Shard) -> None:
    key = str(s.path)
    with _OPEN_LOCK:
        shard, refs = _OPEN.get(key, (s, 1))
        if refs > 1:
            _OPEN[key] = (shard, refs - 1)
            return
        _OPEN.pop(key, None)
        with s.lock:
            s.closed = True  # the filler stops at its next page
            s.shard.flush()
            s.shard.close()
        s.owner.close()


def _own(path: Path) -> IO[str]:
    """Lock the shard folder for this process (the engine itself does not without a WAL)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path.parent / f".{path.name}.owner", "a+")  # noqa: SIM115  # held while open
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise Unavailable(
            f"the vector shard {path} is open in another process: one Huchu process owns "
            "a data dir (stop the other one, or set HUCHU_QDRANT_URL to share a Qdrant server)"
        ) from None
    return fh


def _key(value: str) -> str:
    """A point id as the shard gives it back (a UUID in its canonical form)."""
    return str(_pid(value))


def _pid(value: str) -> Any:
    try:
        return uuid.UUID(value)
    except ValueError:
        return value


def _filter(match: Match) -> Any:
    import qdrant_edge as qe

    must: list[Any] = []
    for key, value in match.items():
        if value is None:
            continue
        if key not in FILTERABLE:  # packed into the JSON field: no filter sees it
            raise TypeError(f"{key} is not a filterable field (FILTERABLE)")
        if isinstance(value, dict):  # {"gte": x, "lt": y}: a numeric range
            must.append(qe.FieldCondition(key=key, range=qe.RangeFloat(**value)))
        elif isinstance(value, (list, tuple, set)):
            must.append(qe.FieldCondition(key=key, match=qe.MatchAny(list(value))))
        else:
            must.append(qe.FieldCondition(key=key, match=qe.MatchValue(value)))
    return qe.Filter(must=must) if must else None


def _pack(payload: dict[str, Any]) -> dict[str, Any]:
    """Indexed fields stay fields (filters and facets use them); everything else travels as
    one JSON string. The bindings convert a payload value by value, about 3.5 us each: a
    face's 68 landmarks alone cost 0.7 ms a point, the string 6 us (benchmarks/scale.py);
    orjson writes it in a few us where ``json.dumps`` took 50 (a float's repr each)."""
    flat = {k: v for k, v in payload.items() if k in FILTERABLE}
    rest = {k: v for k, v in payload.items() if k not in flat}
    if rest:
        flat[PACKED] = orjson.dumps(rest, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    return flat


def _unpack(raw: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(raw or {})
    packed = out.pop(PACKED, None)
    if isinstance(packed, str):
        out.update(orjson.loads(packed))
    return out


def _point(r: Any) -> Point:
    vec = _raw_vector(r)
    return Point(
        id=str(r.id),
        payload=_unpack(r.payload),
        vector=None if vec is None else [float(v) for v in vec],
        score=getattr(r, "score", None),
    )


def _raw_vector(r: Any) -> Any:
    vec = getattr(r, "vector", None)
    if isinstance(vec, dict):  # named vectors: Huchu uses the default one
        vec = vec.get("")
    return vec
