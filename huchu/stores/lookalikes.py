"""Keep the look-alike graph in step with the vector store: link on store, unlink on delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from huchu.stores.graph import GraphFace, GraphStore, graph_name
from huchu.stores.vectors import Point, VectorStore

K = 5  # links a new face makes: its nearest faces of other photos above the threshold
PAGE = 512


def graph_face(p: Point, links: Sequence[tuple[str, float]] = ()) -> GraphFace:
    return GraphFace(
        id=p.id,
        photo_id=str(p.payload.get("photo_id", "")),
        gender=p.payload.get("gender"),
        index=int(p.payload.get("index", 0)),
        portrait_key=p.payload.get("portrait_key"),
        links=tuple(links),
    )


def link_faces(
    vectors: VectorStore,
    graph: GraphStore,
    collection: str,
    points: Sequence[Point],
    threshold: float,
    k: int = K,
) -> None:
    """Add stored faces (with vectors) to their events' graphs, each linked to its ``k``
    nearest faces of other photos scoring at least ``threshold``."""
    by_event: dict[str, list[GraphFace]] = {}
    for p in points:
        if p.vector is None:
            continue
        event = str(p.payload["event"])
        # Over-fetch by the batch size: faces of the same photo come back first, then go.
        hits = vectors.search(collection, p.vector, {"event": event}, k + len(points), threshold)
        photo = p.payload.get("photo_id")
        links = [
            (h.id, float(h.score or 0.0))
            for h in hits
            if h.id != p.id and h.payload.get("photo_id") != photo
        ][:k]
        by_event.setdefault(event, []).append(graph_face(p, links))
    for event, faces in by_event.items():
        graph.add_faces(graph_name(collection, event), faces)


def unlink_faces(graph: GraphStore, collection: str, payloads: Sequence[dict[str, Any]]) -> int:
    """Remove deleted faces (payloads carry ``face_id`` and ``event``) with their links."""
    by_event: dict[str, list[str]] = {}
    for p in payloads:
        by_event.setdefault(str(p["event"]), []).append(str(p["face_id"]))
    return sum(graph.remove_faces(graph_name(collection, ev), ids) for ev, ids in by_event.items())


def _live(points: Sequence[Point]) -> set[str]:
    """Faces that exist and are not being deleted."""
    return {p.id for p in points if not p.payload.get("deleting")}


def backfill(
    vectors: VectorStore,
    graph: GraphStore,
    collection: str,
    event: str,
    threshold: float,
    k: int = K,
    full: bool = False,
) -> int:
    """Reconcile the event's graph with the vector store, both ways: link every live face
    the graph lacks (faces stored before the graph existed, or while it was down), and
    remove every node whose face is gone or being deleted. Returns how many faces were
    added. Without ``full``, equal counts mean nothing to do (the usual case: no scan)."""
    name = graph_name(collection, event)
    if not full and graph.size(name) == vectors.count(collection, {"event": event}):
        return 0
    added = 0
    cursor = None
    while True:
        page, cursor = vectors.scroll(collection, {"event": event}, PAGE, cursor)
        live = _live(page)
        known = graph.has(name, [p.id for p in page])
        dying = [p.id for p in page if p.id in known and p.id not in live]
        if dying:  # their delete unlinks them too; either may come first
            graph.remove_faces(name, dying)
        missing = [p.id for p in page if p.id in live and p.id not in known]
        if missing:
            points = vectors.retrieve(collection, missing, vectors=True)
            alive = _live(points)
            link_faces(
                vectors, graph, collection, [p for p in points if p.id in alive], threshold, k
            )
            # A delete that began after the scroll above may have unlinked a face before
            # it was linked here: look again, now that the links are written.
            again = _live(vectors.retrieve(collection, missing))
            raced = [i for i in missing if i not in again]
            if raced:
                graph.remove_faces(name, raced)
            added += len(missing) - len(raced)
        if cursor is None:
            break
    after = ""
    while ids := graph.node_ids(name, after, PAGE):
        gone = [i for i in ids if i not in _live(vectors.retrieve(collection, ids))]
        if gone:  # the face went while the graph was away, or a delete raced a link
            graph.remove_faces(name, gone)
        after = ids[-1]
    return added


def refresh(
    vectors: VectorStore,
    graph: GraphStore,
    collection: str,
    event: str,
    threshold: float,
    k: int = K,
) -> int:
    """At each recompute: fill gaps, then recompute the hidden families in the database."""
    backfill(vectors, graph, collection, event, threshold, k)
    return graph.refresh_families(graph_name(collection, event))
