"""The event-wide look-alike graph: mutual nearest neighbours, communities, GraphML."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from huchu.context import Context

K = 5
# Past this many faces the graph covers the newest ones: it is a picture, not an index.
MAX_NODES = 2000


def build(
    ctx: Context, event: str, k: int = K, max_nodes: int = MAX_NODES, min_score: float | None = None
) -> dict[str, Any]:
    threshold = ctx.inference.info.thresholds.lookalike if min_score is None else min_score
    points: list[Any] = []
    cursor = None
    while len(points) < max_nodes:
        page, cursor = ctx.vectors.scroll(
            ctx.faces, {"event": event}, min(256, max_nodes - len(points)), cursor, vectors=True
        )
        points += [p for p in page if p.vector is not None]
        if cursor is None:
            break
    nodes = [
        {
            "id": p.id,
            "portrait_url": ctx.url(p.payload.get("portrait_key")),
            "gender": p.payload.get("gender"),
            "label": f"#{p.payload.get('index', 0)}",
            "photo_id": p.payload.get("photo_id"),
        }
        for p in points
    ]
    edges = mutual_edges(
        np.asarray([p.vector for p in points], dtype=np.float32),
        [p.payload.get("photo_id") for p in points],
        k,
        threshold,
    )
    edge_list = [
        {"source": points[i].id, "target": points[j].id, "score": round(s, 4)} for i, j, s in edges
    ]
    clusters = communities(len(points), edges)
    for cid, members in enumerate(clusters):
        for i in members:
            nodes[i]["cluster"] = cid
    return {
        "event": event,
        "min_score": threshold,
        "k": k,
        "truncated": cursor is not None,
        "nodes": nodes,
        "edges": edge_list,
        "clusters": [
            {"id": cid, "size": len(m), "members": [points[i].id for i in m]}
            for cid, m in enumerate(clusters)
            if len(m) > 1
        ],
    }


def mutual_edges(
    vectors: np.ndarray, photo_ids: list[Any], k: int, threshold: float
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


def graphml(graph: dict[str, Any]) -> bytes:
    import networkx as nx

    g = nx.Graph(event=graph["event"], min_score=graph["min_score"])
    for node in graph["nodes"]:
        g.add_node(node["id"], **{k: v for k, v in node.items() if k != "id" and v is not None})
    for e in graph["edges"]:
        g.add_edge(e["source"], e["target"], score=e["score"])
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    return buf.getvalue()
