"""The look-alike graph on real photos, filled the way uploads fill it: each face stored in
Qdrant Edge, then linked to its nearest faces of other photos in FalkorDB."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from huchu.analysis import analyze_bytes
from huchu.engines.base import FaceEngine
from huchu.stores.edge import EdgeStore
from huchu.stores.graph import FalkorGraph, GraphFace, graph_name
from huchu.stores.ids import new_id
from huchu.stores.lookalikes import link_faces, refresh, unlink_faces
from huchu.stores.vectors import Point

FACES = "faces_test"
CELEBRITIES = Path("/work/shared/datasets/celebrity-sample")
# Registry photos any machine gets (tests/conftest.py): three of one person, and others.
REGISTRY = (
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "biden.jpg",
    "Tom_Hanks_54745.png",
    "astronaut.png",
    "t1.jpg",
)


@dataclass
class Event:
    vectors: EdgeStore
    graph: FalkorGraph
    name: str
    ids: dict[str, str]  # photo file -> its main face's id
    threshold: float

    def family_of(self, photo: str) -> set[str]:
        fam = self.graph.family(self.name, self.ids[photo], 100)
        assert fam is not None
        back = {v: k for k, v in self.ids.items()}
        return {back[m] for m in fam.members if m in back}


def _upload_all(
    engine: FaceEngine, photos: dict[str, bytes], vectors: EdgeStore, graph: FalkorGraph, event: str
) -> dict[str, str]:
    """Every accepted face of each photo, one photo at a time (as uploads arrive)."""
    vectors.ensure(FACES, engine.info.embedding_dim)
    ids: dict[str, str] = {}
    for name, data in photos.items():
        faces = [f for f in analyze_bytes(engine, data).faces if f.det_score >= 0.75]
        photo_id = new_id()
        points = [
            Point(
                new_id(),
                {
                    "event": event,
                    "photo_id": photo_id,
                    "index": i,
                    "gender": f.gender,
                    "face_id": "",
                    "created_ts": time.time(),
                },
                [float(v) for v in f.embedding],
            )
            for i, f in enumerate(faces)
        ]
        points = [Point(p.id, {**p.payload, "face_id": p.id}, p.vector) for p in points]
        vectors.upsert(FACES, points)
        link_faces(vectors, graph, FACES, points, engine.info.thresholds.lookalike)
        main = max(range(len(faces)), key=lambda i: faces[i].face_px)
        ids[name] = points[main].id
    return ids


@pytest.fixture
def registry_event(
    bundled_engine: FaceEngine, photos: dict[str, bytes], falkor: FalkorGraph, tmp_path: Path
) -> Iterator[Event]:
    vectors = EdgeStore(tmp_path / "edge")
    event = f"photos-{tmp_path.name[-12:].strip('_').lower()}"
    ids = _upload_all(bundled_engine, {n: photos[n] for n in REGISTRY}, vectors, falkor, event)
    name = graph_name(FACES, event)
    refresh(vectors, falkor, FACES, event, bundled_engine.info.thresholds.lookalike)
    try:
        yield Event(vectors, falkor, name, ids, bundled_engine.info.thresholds.lookalike)
    finally:
        falkor.drop(name)
        vectors.close()


def test_one_person_is_one_family(registry_event: Event) -> None:
    ev = registry_event
    assert {"obama2.jpg", "obama3.jpg"} <= ev.family_of("obama.jpg")
    assert "biden.jpg" not in ev.family_of("obama.jpg")
    assert "obama.jpg" not in ev.family_of("Tom_Hanks_54745.png")


def test_two_photos_of_one_person_are_one_link_apart(registry_event: Event) -> None:
    ev = registry_event
    chain = ev.graph.path(ev.name, ev.ids["obama.jpg"], ev.ids["obama3.jpg"])
    assert chain is not None and len(chain.ids) == 2
    assert chain.scores[0] >= ev.threshold


def test_every_face_of_the_event_is_in_the_graph(registry_event: Event) -> None:
    ev = registry_event
    assert ev.graph.size(ev.name) == ev.vectors.count(FACES, {}) >= len(REGISTRY) + 5  # t1: 6


def test_a_deleted_face_leaves_with_its_links(registry_event: Event) -> None:
    ev = registry_event
    gone = ev.ids["obama2.jpg"]
    assert ev.graph.links(ev.name, gone)  # linked to the other photos of him
    payload = ev.vectors.retrieve(FACES, [gone])[0].payload
    ev.vectors.delete(FACES, [gone])
    assert unlink_faces(ev.graph, FACES, [payload]) == 1
    assert ev.graph.has(ev.name, [gone]) == set()
    for other in ("obama.jpg", "obama3.jpg"):
        assert gone not in dict(ev.graph.links(ev.name, ev.ids[other]))
    assert all(e["source"] != gone and e["target"] != gone for e in ev.graph.export(ev.name).edges)


def test_backfill_links_faces_the_graph_missed(registry_event: Event) -> None:
    ev = registry_event
    event = ev.name.rsplit(":", 1)[1]
    ev.graph.drop(ev.name)  # as if the graph database had been empty
    assert ev.graph.size(ev.name) == 0
    refresh(ev.vectors, ev.graph, FACES, event, ev.threshold)
    assert ev.graph.size(ev.name) == ev.vectors.count(FACES, {})
    assert {"obama2.jpg", "obama3.jpg"} <= ev.family_of("obama.jpg")


@pytest.mark.skipif(not CELEBRITIES.is_dir(), reason="the celebrity sample is not on this machine")
def test_celebrities_land_in_their_families(
    bundled_engine: FaceEngine, falkor: FalkorGraph, tmp_path: Path
) -> None:
    with open(CELEBRITIES / "labels.csv") as fh:
        who = {row["file"]: row["identity"] for row in csv.DictReader(fh)}
    photos = {f: (CELEBRITIES / f).read_bytes() for f in who}
    vectors = EdgeStore(tmp_path / "edge")
    try:
        ids = _upload_all(bundled_engine, photos, vectors, falkor, "celebrities")
        name = graph_name(FACES, "celebrities")
        refresh(vectors, falkor, FACES, "celebrities", bundled_engine.info.thresholds.lookalike)
        ev = Event(vectors, falkor, name, ids, bundled_engine.info.thresholds.lookalike)
        for person in set(who.values()):
            mine = sorted(f for f, p in who.items() if p == person)
            for f in mine[1:]:
                assert f in ev.family_of(mine[0]), (person, f, ev.family_of(mine[0]))
    finally:
        falkor.drop(graph_name(FACES, "celebrities"))
        vectors.close()


def _event(ev: Event) -> str:
    return ev.name.rsplit(":", 1)[1]


def _mark_deleting(ev: Event, face: str) -> dict[str, object]:
    """What a delete does first: the face marked ``deleting``, then unlinked."""
    p = ev.vectors.retrieve(FACES, [face], vectors=True)[0]
    ev.vectors.upsert(FACES, [Point(p.id, {**p.payload, "deleting": True}, p.vector or [])])
    return p.payload


def test_backfill_skips_a_face_being_deleted(registry_event: Event) -> None:
    ev = registry_event
    gone = ev.ids["obama2.jpg"]
    unlink_faces(ev.graph, FACES, [_mark_deleting(ev, gone)])
    refresh(ev.vectors, ev.graph, FACES, _event(ev), ev.threshold)  # the delete is in flight
    assert ev.graph.has(ev.name, [gone]) == set()


def test_backfill_removes_nodes_whose_face_is_gone(registry_event: Event) -> None:
    ev = registry_event
    gone = ev.ids["obama2.jpg"]
    ev.vectors.delete(FACES, [gone])  # the graph was away when the face was deleted
    refresh(ev.vectors, ev.graph, FACES, _event(ev), ev.threshold)
    assert ev.graph.has(ev.name, [gone]) == set()
    assert ev.graph.size(ev.name) == ev.vectors.count(FACES, {})
    assert all(gone not in (e["source"], e["target"]) for e in ev.graph.export(ev.name).edges)


def test_a_delete_that_starts_while_backfill_links_leaves_no_node(
    registry_event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Backfill read the face while it was whole; its delete begins (mark, unlink) just
    before backfill writes the links: backfill looks again and takes it out."""
    ev = registry_event
    gone = ev.ids["obama2.jpg"]
    ev.graph.remove_faces(ev.name, [gone])  # a face the graph missed
    real = ev.graph.add_faces

    def add_faces(graph: str, faces: Sequence[GraphFace]) -> None:
        if any(f.id == gone for f in faces):
            unlink_faces(ev.graph, FACES, [_mark_deleting(ev, gone)])
        real(graph, faces)

    monkeypatch.setattr(ev.graph, "add_faces", add_faces)
    refresh(ev.vectors, ev.graph, FACES, _event(ev), ev.threshold)
    assert ev.graph.has(ev.name, [gone]) == set()
    ev.vectors.delete(FACES, [gone])  # the delete finishes
    assert ev.graph.size(ev.name) == ev.vectors.count(FACES, {})
