"""Ranking: faces by closeness to their cohort's average, and the event's look-alike graph.

The leaderboard breaks ties by face id; the graph links mutual nearest neighbours above
the engine's look-alike threshold and clusters them into "hidden families" (Louvain).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from numpy.typing import NDArray

from huchu.context import Context
from huchu.game.state import current
from huchu.photos.catalog import graph_node
from huchu.photos.records import face_model
from huchu.schemas import Cluster, Cohort, EventGraph, GraphEdge, Leaderboard, LeaderboardItem
from huchu.stores.vectors import Point


def ranked(
    ctx: Context, event: str, cohort: str, mean: NDArray[np.float64], limit: int
) -> list[tuple[str, float, dict[str, Any]]]:
    match: dict[str, Any] = {"event": event}
    if cohort != "all":
        match["gender"] = cohort
    # A few extra hits so equal scores at the cut are ordered by id, not by index luck.
    hits = ctx.vectors.search(ctx.faces, [float(v) for v in mean], match, limit + 8)
    rows = sorted(
        ((h.id, round(float(h.score or 0.0), 6), h.payload) for h in hits),
        key=lambda t: (-t[1], t[0]),
    )
    return rows[:limit]


def leaderboard(ctx: Context, event: str, cohort: Cohort, limit: int) -> Leaderboard:
    snap = current(ctx, event)
    version = 0 if snap is None else int(snap["version"])
    for c in [] if snap is None else snap["cohorts"]:
        if c["cohort"] == cohort:
            rows = ranked(ctx, event, cohort, np.asarray(c["mean"]), limit)
            items = [
                LeaderboardItem(rank=i + 1, face=face_model(ctx, p), score=s)
                for i, (_, s, p) in enumerate(rows)
            ]
            return Leaderboard(version=version, cohort=cohort, items=items)
    return Leaderboard(version=version, cohort=cohort, items=[])


K = 5
# Past this many faces the graph covers the newest ones: it is a picture, not an index.
MAX_NODES = 2000


def build(
    ctx: Context, event: str, k: int = K, max_nodes: int = MAX_NODES, min_score: float | None = None
) -> EventGraph:
    threshold = ctx.info.thresholds.lookalike if min_score is None else min_score
    points: list[Point] = []
    cursor = None
    while len(points) < max_nodes:
        page, cursor = ctx.vectors.scroll(
            ctx.faces, {"event": event}, min(256, max_nodes - len(points)), cursor, vectors=True
        )
        points += [p for p in page if p.vector is not None]
        if cursor is None:
            break
    edges = mutual_edges(
        np.asarray([p.vector for p in points], dtype=np.float32),
        [p.payload.get("photo_id") for p in points],
        k,
        threshold,
    )
    clusters = communities(len(points), edges)
    cluster_of = {i: cid for cid, members in enumerate(clusters) for i in members}
    return EventGraph(
        event=event,
        min_score=threshold,
        k=k,
        truncated=cursor is not None,
        nodes=[
            graph_node(ctx, p).model_copy(update={"cluster": cluster_of.get(i)})
            for i, p in enumerate(points)
        ],
        edges=[GraphEdge(source=points[i].id, target=points[j].id, score=s) for i, j, s in edges],
        clusters=[
            Cluster(id=cid, size=len(m), members=[points[i].id for i in m])
            for cid, m in enumerate(clusters)
            if len(m) > 1
        ],
    )


def mutual_edges(
    vectors: NDArray[np.float32], photo_ids: list[Any], k: int, threshold: float
) -> list[tuple[int, int, float]]:
    """Pairs among each other's k nearest, above the threshold, never from one photo."""
    n = len(vectors)
    if n < 2:
        return []
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    same = np.asarray(photo_ids, dtype=object)
    sims[same[:, None] == same[None, :]] = -np.inf
    kk = min(k, n - 1)
    top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    near = np.zeros((n, n), dtype=bool)
    near[np.repeat(np.arange(n), kk), top.ravel()] = True
    mutual = near & near.T & (sims >= threshold)
    ii, jj = np.nonzero(np.triu(mutual, 1))
    return [(int(i), int(j), float(sims[i, j])) for i, j in zip(ii, jj, strict=True)]


def communities(n: int, edges: list[tuple[int, int, float]]) -> list[list[int]]:
    """Look-alike clusters ("hidden families"): Louvain on the mutual graph, seeded."""
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(edges)
    found = nx.community.louvain_communities(g, weight="weight", seed=7)
    return sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))


def graphml(graph: EventGraph) -> bytes:
    import networkx as nx

    g = nx.Graph(event=graph.event, min_score=graph.min_score)
    for node in graph.model_dump(mode="json")["nodes"]:
        g.add_node(node["id"], **{k: v for k, v in node.items() if k != "id" and v is not None})
    for e in graph.model_dump(mode="json")["edges"]:
        g.add_edge(e["source"], e["target"], score=e["score"])
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    return buf.getvalue()
