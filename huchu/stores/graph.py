"""``GraphStore``: the look-alike graph in FalkorDB (faces as nodes, ``LOOKS_LIKE`` links).

One graph per face collection and event. A link is symmetric: it is stored as a pair of
relationships with the same score, so directed traversals (FalkorDB's ``shortestPath``)
and the community algorithms see it from both ends.
"""

from __future__ import annotations

import io
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from huchu.errors import Unavailable

T = TypeVar("T")

MAX_HOPS = 12  # "six degrees of look-alike", with room to spare
FRONTIER_MAX = 20_000  # faces one level of a two-sided path search brings back at most
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class GraphFace:
    """A face as the graph keeps it, with its links to faces already in the graph."""

    id: str
    photo_id: str
    gender: str | None = None
    index: int = 0
    portrait_key: str | None = None
    links: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Family:
    family_id: str
    members: list[str]


@dataclass(frozen=True)
class Chain:
    ids: list[str]
    scores: list[float]


@dataclass
class Subgraph:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)


def new_family() -> str:
    """A fresh family label: random, so that it names no face."""
    return "f" + secrets.token_hex(8)


def graph_name(collection: str, event: str) -> str:
    """One graph per engine collection and event: algorithms run on one event only."""
    return f"huchu:{collection}:{event}"


class GraphStore(Protocol):
    def add_faces(self, graph: str, faces: Sequence[GraphFace]) -> None: ...
    def remove_faces(self, graph: str, ids: Sequence[str]) -> int: ...
    def refresh_families(self, graph: str) -> int: ...
    def family(self, graph: str, face_id: str, limit: int) -> Family | None: ...
    def path(self, graph: str, a: str, b: str) -> Chain | None: ...
    def neighbourhood(self, graph: str, face_id: str, min_score: float, limit: int) -> Subgraph: ...
    def export(self, graph: str, limit: int | None = None) -> Subgraph: ...
    def has(self, graph: str, ids: Sequence[str]) -> set[str]: ...
    def node_ids(self, graph: str, after: str, limit: int) -> list[str]: ...
    def size(self, graph: str) -> int: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


_NODE = (
    "n.id AS id, n.photo_id AS photo_id, n.gender AS gender, n.idx AS index, "
    "n.portrait_key AS portrait_key, n.family AS family"
)
_NODE_KEYS = ("id", "photo_id", "gender", "index", "portrait_key", "family")


class FalkorGraph:
    """A FalkorDB reached by URL (``redis://`` or ``unix://``); ``on_close`` stops the
    embedded server this store started, if any."""

    def __init__(
        self,
        url: str,
        on_close: Callable[[], None] | None = None,
        prefix: str = "",
        password: str | None = None,
    ) -> None:
        from falkordb import FalkorDB

        self.url = url
        self.prefix = prefix  # keeps the graphs of several users of one server apart
        # Requests wait at most TIMEOUT_S on the database; the families' recompute (a whole
        # event through label propagation) has its own connection without that limit.
        auth = {"password": password} if password else {}
        self._db = FalkorDB.from_url(
            url, socket_timeout=TIMEOUT_S, socket_connect_timeout=5, **auth
        )
        self._slow = FalkorDB.from_url(url, socket_timeout=None, socket_connect_timeout=5, **auth)
        self._on_close = on_close
        self._indexed: set[str] = set()
        self._lock = threading.Lock()

    def _graph(self, graph: str) -> Any:
        g = self._db.select_graph(self.prefix + graph)
        if graph not in self._indexed:
            with self._lock:
                for prop in ("id", "family", "photo_id"):
                    try:
                        g.query(f"CREATE INDEX FOR (f:Face) ON (f.{prop})")
                    except Exception as exc:
                        if "already indexed" not in str(exc):
                            raise
                self._indexed.add(graph)
        return g

    def _run(self, graph: str, fn: Callable[[Any], T], slow: bool = False) -> T:
        import redis

        try:
            g = self._graph(graph)
            return fn(self._slow.select_graph(self.prefix + graph) if slow else g)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            raise Unavailable(f"graph database failed: {exc.__class__.__name__}") from exc

    def add_faces(self, graph: str, faces: Sequence[GraphFace]) -> None:
        """Nodes first, then links (a batch may link faces to one another), then each new
        face joins the family of its closest linked face until the next refresh."""
        if not faces:
            return
        rows = [
            {
                "id": f.id,
                "photo_id": f.photo_id,
                "gender": f.gender,
                "index": f.index,
                "portrait_key": f.portrait_key,
            }
            for f in faces
        ]
        links = [[f.id, to, float(s)] for f in faces for to, s in f.links if to != f.id]
        # A face with no linked family starts its own, under a label that is no face id
        # (a family named after a member would show that member's id after its delete).
        fresh = [[f.id, new_family()] for f in faces]

        def write(g: Any) -> None:
            g.query(
                "UNWIND $rows AS f MERGE (n:Face {id: f.id}) SET n.photo_id = f.photo_id, "
                "n.gender = f.gender, n.idx = f.index, n.portrait_key = f.portrait_key "
                "MERGE (n)-[:SELF]->(n)",
                {"rows": rows},
            )
            if links:
                g.query(
                    "UNWIND $links AS l MATCH (a:Face {id: l[0]}), (b:Face {id: l[1]}) "
                    "MERGE (a)-[r:LOOKS_LIKE]->(b) SET r.score = l[2] "
                    "MERGE (b)-[q:LOOKS_LIKE]->(a) SET q.score = l[2]",
                    {"links": links},
                )
            g.query(
                "UNWIND $fresh AS i MATCH (n:Face {id: i[0]}) WHERE n.family IS NULL "
                "OPTIONAL MATCH (n)-[r:LOOKS_LIKE]->(m:Face) WHERE m.family IS NOT NULL "
                "WITH n, i, m, r ORDER BY r.score DESC "
                "WITH n, i, collect(m.family) AS fams "
                "SET n.family = coalesce(fams[0], i[1])",
                {"fresh": fresh},
            )

        self._run(graph, write)

    def remove_faces(self, graph: str, ids: Sequence[str]) -> int:
        """Delete the faces with their links, then rewrite the append-only log so that the
        deleted nodes leave the disk too (the log otherwise keeps every past write)."""
        if not ids:
            return 0

        def delete(g: Any) -> int:
            res = g.query(
                "UNWIND $ids AS i MATCH (n:Face {id: i}) DETACH DELETE n", {"ids": list(ids)}
            )
            return int(res.nodes_deleted)

        gone = self._run(graph, delete)
        if gone:
            self.compact()
        return gone

    def compact(self) -> None:
        import contextlib

        import redis

        # A rewrite already running is no failure: the next delete schedules another.
        with contextlib.suppress(redis.ResponseError):
            self._db.connection.bgrewriteaof()

    def refresh_families(self, graph: str) -> int:
        """Label propagation over the links, computed by the database; returns how many
        families (communities) the event has. Each face's ``SELF`` loop makes it count its
        own label too: without it two faces linked only to each other swap labels at every
        round and end in two families (measured on the celebrity sample)."""

        def run(g: Any) -> int:
            kinds = {row[0] for row in g.ro_query("CALL db.relationshipTypes()").result_set}
            if "LOOKS_LIKE" not in kinds:  # no link yet (the algorithm refuses unknown types)
                res = g.query("MATCH (n:Face) SET n.family = 'f' + toString(id(n)) RETURN count(n)")
            else:
                res = g.query(
                    "CALL algo.labelPropagation({nodeLabels: ['Face'], relationshipTypes: "
                    "['LOOKS_LIKE', 'SELF'], maxIterations: 20}) YIELD node, communityId "
                    "SET node.family = 'f' + toString(communityId) "
                    "RETURN count(DISTINCT communityId)"
                )
            return int(res.result_set[0][0]) if res.result_set else 0

        return self._run(graph, run, slow=True)

    def family(self, graph: str, face_id: str, limit: int) -> Family | None:
        res = self._run(
            graph,
            lambda g: g.ro_query(
                "MATCH (f:Face {id: $id}) OPTIONAL MATCH (m:Face) "
                "WHERE m.family = f.family AND m.id <> f.id "
                "RETURN f.family, m.id ORDER BY m.id LIMIT $limit",
                {"id": face_id, "limit": limit},
            ),
        )
        if not res.result_set:
            return None
        return Family(
            family_id=str(res.result_set[0][0]),
            members=[row[1] for row in res.result_set if row[1] is not None],
        )

    def path(self, graph: str, a: str, b: str) -> Chain | None:
        """A shortest chain of look-alikes from ``a`` to ``b`` (at most MAX_HOPS links).

        Searched from both ends, one level of the smaller side at a time: the database's
        ``shortestPath`` walks from one end, and between faces 12 links apart or more
        (most pairs in a large event) it explored far enough that it grew 8.5x from 200k to
        1M faces; two searches of half the depth each stay near the two faces. A side whose
        next level passes ``FRONTIER_MAX`` faces hands the query to the database."""
        if a == b:
            return Chain([a], []) if self.has(graph, [a]) else None
        return self._run(graph, lambda g: _two_sided_path(g, a, b))

    def neighbourhood(self, graph: str, face_id: str, min_score: float, limit: int) -> Subgraph:
        """The face, its strongest links above ``min_score`` and every link among them."""

        def read(g: Any) -> Subgraph:
            near = g.ro_query(
                "MATCH (f:Face {id: $id})-[r:LOOKS_LIKE]->(m:Face) WHERE r.score >= $min "
                "RETURN m.id ORDER BY r.score DESC LIMIT $limit",
                {"id": face_id, "min": min_score, "limit": limit},
            )
            ids = [face_id, *(row[0] for row in near.result_set)]
            return _subgraph(g, "WHERE n.id IN $ids", {"ids": ids, "min": min_score})

        return self._run(graph, read)

    def export(self, graph: str, limit: int | None = None) -> Subgraph:
        """Every face of the event (or the newest ``limit``) and every link among them."""
        cap = "" if limit is None else f"WITH n ORDER BY n.id LIMIT {int(limit)} "
        return self._run(graph, lambda g: _subgraph(g, "", {"min": -1.0}, cap))

    def has(self, graph: str, ids: Sequence[str]) -> set[str]:
        res = self._run(
            graph,
            lambda g: g.ro_query(
                "UNWIND $ids AS i MATCH (n:Face {id: i}) RETURN n.id", {"ids": list(ids)}
            ),
        )
        return {row[0] for row in res.result_set}

    def node_ids(self, graph: str, after: str, limit: int) -> list[str]:
        """The graph's face ids in order, ``limit`` at a time from after ``after``."""
        res = self._run(
            graph,
            lambda g: g.ro_query(
                "MATCH (n:Face) WHERE n.id > $after RETURN n.id ORDER BY n.id LIMIT $limit",
                {"after": after, "limit": limit},
            ),
        )
        return [str(row[0]) for row in res.result_set]

    def size(self, graph: str) -> int:
        """How many faces the graph holds."""
        res = self._run(graph, lambda g: g.ro_query("MATCH (n:Face) RETURN count(n)"))
        return int(res.result_set[0][0])

    def links(self, graph: str, face_id: str) -> list[tuple[str, float]]:
        """The face's links, strongest first (tests and tools)."""
        res = self._run(
            graph,
            lambda g: g.ro_query(
                "MATCH (:Face {id: $id})-[r:LOOKS_LIKE]-(m:Face) "
                "RETURN DISTINCT m.id, r.score ORDER BY r.score DESC",
                {"id": face_id},
            ),
        )
        return [(row[0], float(row[1])) for row in res.result_set]

    def drop(self, graph: str) -> None:
        import contextlib

        with contextlib.suppress(Exception):
            self._db.select_graph(self.prefix + graph).delete()
        self._indexed.discard(graph)

    def ping(self) -> None:
        import redis

        try:
            self._db.connection.ping()
        except (redis.RedisError, OSError) as exc:
            raise Unavailable(f"graph database does not answer: {exc.__class__.__name__}") from exc

    def close(self) -> None:
        try:
            self._db.connection.close()
            self._slow.connection.close()
        finally:
            if self._on_close is not None:
                self._on_close()
                self._on_close = None


def _subgraph(g: Any, where: str, params: dict[str, Any], cap: str = "") -> Subgraph:
    nodes = g.ro_query(f"MATCH (n:Face) {where} {cap}RETURN {_NODE}", params)
    ids = [row[0] for row in nodes.result_set]
    among = "a.id IN $ids AND b.id IN $ids AND " if where or cap else ""
    edges = g.ro_query(
        "MATCH (a:Face)-[r:LOOKS_LIKE]->(b:Face) "
        f"WHERE {among}a.id < b.id AND r.score >= $min RETURN a.id, b.id, r.score",
        {**params, "ids": ids},
    )
    return Subgraph(
        nodes=[dict(zip(_NODE_KEYS, row, strict=True)) for row in nodes.result_set],
        edges=[
            {"source": a, "target": b, "score": round(float(s), 4)} for a, b, s in edges.result_set
        ],
    )


def to_graphml(sub: Subgraph, **attrs: Any) -> bytes:
    """GraphML of a subgraph (Gephi, Cytoscape, networkx read it)."""
    import networkx as nx

    g = nx.Graph(**{k: v for k, v in attrs.items() if v is not None})
    for node in sub.nodes:
        g.add_node(node["id"], **{k: v for k, v in node.items() if k != "id" and v is not None})
    for e in sub.edges:
        g.add_edge(e["source"], e["target"], score=e["score"])
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    return buf.getvalue()


_EXPAND = (
    "UNWIND $ids AS i MATCH (n:Face {id: i})-[r:LOOKS_LIKE]->(m:Face) RETURN n.id, m.id, r.score"
)


def _two_sided_path(g: Any, a: str, b: str) -> Chain | None:
    """Breadth-first from both ends; each side keeps, per face reached, the face it came
    from and the link's score (links are stored both ways with one score)."""
    known = g.ro_query("UNWIND $ids AS i MATCH (n:Face {id: i}) RETURN n.id", {"ids": [a, b]})
    if len(known.result_set) < 2:
        return None
    came: list[dict[str, tuple[str, float] | None]] = [{a: None}, {b: None}]
    depth: list[dict[str, int]] = [{a: 0}, {b: 0}]
    fronts: list[list[str]] = [[a], [b]]
    level = [0, 0]
    while level[0] + level[1] < MAX_HOPS and fronts[0] and fronts[1]:
        side = 0 if len(fronts[0]) <= len(fronts[1]) else 1
        if len(fronts[side]) > FRONTIER_MAX:
            return _database_path(g, a, b)
        mine, other = came[side], came[1 - side]
        level[side] += 1
        rows = g.ro_query(_EXPAND, {"ids": fronts[side]}).result_set
        nxt: list[str] = []
        best: tuple[int, str] | None = None
        for n, m, score in rows:
            if m in mine:
                continue
            mine[m] = (n, float(score))
            depth[side][m] = level[side]
            nxt.append(m)
            if m in other and (best is None or depth[1 - side][m] < best[0]):
                best = (depth[1 - side][m], m)
        if best is not None:
            return _chain(came, best[1])
        fronts[side] = nxt
    return None


def _chain(came: list[dict[str, tuple[str, float] | None]], meet: str) -> Chain:
    """The faces from ``a`` to ``meet`` (side 0) and on to ``b`` (side 1), with scores."""
    ids, scores = [meet], list[float]()
    node = meet
    while (step := came[0][node]) is not None:
        node, score = step
        ids.insert(0, node)
        scores.insert(0, score)
    node = meet
    while (step := came[1][node]) is not None:
        node, score = step
        ids.append(node)
        scores.append(score)
    return Chain(ids, scores)


def _database_path(g: Any, a: str, b: str) -> Chain | None:
    res = g.ro_query(
        "MATCH (a:Face {id: $a}), (b:Face {id: $b}) "
        f"WITH shortestPath((a)-[:LOOKS_LIKE*1..{MAX_HOPS}]->(b)) AS p "
        "WHERE p IS NOT NULL "
        "RETURN [n IN nodes(p) | n.id], [r IN relationships(p) | r.score]",
        {"a": a, "b": b},
    )
    if not res.result_set:
        return None
    ids, scores = res.result_set[0]
    return Chain([str(i) for i in ids], [float(s) for s in scores])
