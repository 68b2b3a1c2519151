"""The look-alike graph's use cases: hidden families, chains of look-alikes, exports.

The graph lives in FalkorDB (``ctx.graph``); faces join it when stored and leave it when
deleted (``huchu.stores.lookalikes``), and the families are recomputed with the averages.
"""

from __future__ import annotations

from typing import Any

from huchu.context import Context
from huchu.errors import NoPath, NotFound
from huchu.photos import graph_owed
from huchu.photos.catalog import visible
from huchu.photos.records import face_model
from huchu.resemblance import resemblance
from huchu.schemas import (
    Cluster,
    EventGraph,
    Face,
    FaceGraph,
    FacePath,
    Family,
    GraphEdge,
    GraphNode,
)
from huchu.stores import lookalikes
from huchu.stores.graph import Subgraph, graph_name, to_graphml
from huchu.stores.ids import is_id
from huchu.stores.vectors import Point


def link(ctx: Context, faces: list[Point]) -> None:
    """Stored faces join their event's graph, linked to their nearest look-alikes."""
    lookalikes.link_faces(ctx.vectors, ctx.graph, ctx.faces, faces, ctx.info.thresholds.lookalike)


def unlink(ctx: Context, payloads: list[dict[str, Any]]) -> None:
    """The faces leave the graph with every link they had."""
    lookalikes.unlink_faces(ctx.graph, ctx.faces, payloads)


class GraphEraser:
    """The graph's part of a delete (a ``DeleteWatcher`` on the ``Context``)."""

    def before(
        self, ctx: Context, payloads: list[dict[str, Any]], vectors: list[list[float]]
    ) -> bool:
        try:
            unlink(ctx, payloads)
        except Exception as exc:  # the delete goes on; the graph catches up on next use
            graph_owed.owe(ctx, {str(p["event"]) for p in payloads}, exc)
        # Undoable: if the delete stops and the photo stays, the next recompute links its
        # faces again (``refresh`` fills what the graph lacks).
        return False

    def after(self, ctx: Context, events: set[str]) -> None:
        return None

    def later(self, ctx: Context, events: set[str]) -> None:
        return None


def refresh(ctx: Context, event: str) -> int:
    """At each recompute: every face of the event in the graph, families recomputed."""
    threshold = ctx.info.thresholds.lookalike
    graph_owed.settle(ctx, event)
    return lookalikes.refresh(ctx.vectors, ctx.graph, ctx.faces, event, threshold)


def _face(ctx: Context, face_id: str) -> Point:
    if not is_id(face_id):
        raise NotFound("no such face")
    found = visible(ctx.vectors.retrieve(ctx.faces, [face_id]))
    if not found:
        raise NotFound("no such face")
    return found[0]


def _faces(ctx: Context, ids: list[str]) -> list[Face]:
    return [face_model(ctx, p.payload) for p in visible(ctx.vectors.retrieve(ctx.faces, ids))]


def family(ctx: Context, face_id: str, limit: int) -> Family:
    p = _face(ctx, face_id)
    graph_owed.settle(ctx, p.payload["event"])
    name = graph_name(ctx.faces, p.payload["event"])
    fam = ctx.graph.family(name, face_id, limit)
    if fam is None:  # stored before the graph existed: link it now
        link(ctx, ctx.vectors.retrieve(ctx.faces, [face_id], vectors=True))
        fam = ctx.graph.family(name, face_id, limit)
    if fam is None:
        raise NotFound("the face is not in the look-alike graph yet")
    return Family(face_id=face_id, family_id=fam.family_id, items=_faces(ctx, fam.members))


def path(ctx: Context, a: str, b: str) -> FacePath:
    pa, pb = _face(ctx, a), _face(ctx, b)
    if pa.payload["event"] != pb.payload["event"]:
        raise NoPath("the two faces belong to different events")
    graph_owed.settle(ctx, pa.payload["event"])
    chain = ctx.graph.path(graph_name(ctx.faces, pa.payload["event"]), a, b)
    if chain is None:
        raise NoPath("no chain of look-alikes joins these two faces")
    scale = ctx.info.thresholds
    return FacePath(
        items=_faces(ctx, chain.ids),
        scores=chain.scores,
        resemblances=[resemblance(s, scale) for s in chain.scores],
    )


def face_graph(ctx: Context, face_id: str, min_score: float | None, limit: int) -> FaceGraph:
    """The face, its strongest links above ``min_score`` and the links among them."""
    threshold = ctx.info.thresholds.lookalike if min_score is None else min_score
    p = _face(ctx, face_id)
    graph_owed.settle(ctx, p.payload["event"])
    sub = ctx.graph.neighbourhood(
        graph_name(ctx.faces, p.payload["event"]), face_id, threshold, limit
    )
    nodes, edges = _parts(ctx, sub)
    return FaceGraph(nodes=nodes, edges=edges, min_score=threshold)


def event_graph(ctx: Context, event: str) -> EventGraph:
    """Every face of the event and every link, with the families as clusters."""
    graph_owed.settle(ctx, event)
    sub = ctx.graph.export(graph_name(ctx.faces, event))
    if not sub.nodes:
        raise NotFound("no face in this event's graph yet")
    nodes, edges = _parts(ctx, sub)
    families: dict[str, list[str]] = {}
    for n in nodes:
        families.setdefault(n.family or n.id, []).append(n.id)
    ranked = sorted(families.values(), key=lambda m: (-len(m), m[0]))
    cluster_of = {i: cid for cid, members in enumerate(ranked) for i in members}
    return EventGraph(
        event=event,
        min_score=ctx.info.thresholds.lookalike,
        k=lookalikes.K,
        truncated=False,
        nodes=[n.model_copy(update={"cluster": cluster_of[n.id]}) for n in nodes],
        edges=edges,
        clusters=[
            Cluster(id=cid, size=len(m), members=m) for cid, m in enumerate(ranked) if len(m) > 1
        ],
    )


def event_graphml(ctx: Context, event: str) -> bytes:
    g = event_graph(ctx, event)
    sub = Subgraph(
        nodes=[n.model_dump(exclude_none=True) for n in g.nodes],
        edges=[e.model_dump() for e in g.edges],
    )
    return to_graphml(sub, event=event, min_score=g.min_score)


def _parts(ctx: Context, sub: Subgraph) -> tuple[list[GraphNode], list[GraphEdge]]:
    nodes = [
        GraphNode(
            id=n["id"],
            portrait_url=ctx.url(n.get("portrait_key")),
            gender=n.get("gender"),
            label=f"#{n.get('index') or 0}",
            photo_id=n.get("photo_id"),
            family=n.get("family"),
        )
        for n in sub.nodes
    ]
    edges = [GraphEdge(source=e["source"], target=e["target"], score=e["score"]) for e in sub.edges]
    return nodes, edges
