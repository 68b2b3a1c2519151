"""A standing at once, and only counted faces in the game (faces stored before the gate too)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from huchu.context import Context
from huchu.engines.base import FaceEngine
from huchu.game.recompute import recompute
from huchu.imaging.render import RenderSpec
from huchu.stores.vectors import Point
from tests.functions.conftest import upload
from tests.game.test_gate import crowd
from tests.scenes import encode

PEOPLE = ("t1.jpg", "obama.jpg", "biden.jpg", "astronaut.png", "Tom_Hanks_54745.png")


def _ids(body: dict[str, Any]) -> list[str]:
    return [f["face_id"] for f in body["faces"] if f["face_id"]]


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_a_new_face_has_its_standing_at_once(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    first = upload(client, photos["t1.jpg"])
    assert first.status_code == 201
    assert all(f["standing"] is None for f in first.json()["faces"])  # no average yet
    for name in PEOPLE[1:]:
        assert upload(client, photos[name]).status_code == 201
    recompute(ctx, "default")
    late = upload(client, photos["obama2.jpg"]).json()
    face = late["faces"][0]
    got = face["standing"]
    assert got is not None and got["provisional"] is True, face
    assert got["cohort"] == "all" and 1 <= got["rank"] <= got["of"]
    share = (got["of"] - got["rank"]) / (got["of"] - 1)
    assert got["closer_than"] == (None if got["of"] < 10 else round(share, 2))
    detail = client.get(f"/api/faces/{face['face_id']}").json()
    assert detail["standing"] == got
    recompute(ctx, "default")
    counted = client.get(f"/api/faces/{face['face_id']}").json()["standing"]
    assert counted["provisional"] is False and counted["cohort"] == got["cohort"]
    assert abs(counted["rank"] - got["rank"]) <= 2, (got, counted)
    assert counted["of"] == got["of"]  # obama2 joined obama: one person, counted once


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_only_counted_faces_take_part_and_old_ones_are_judged_again(
    client: TestClient,
    ctx: Context,
    bundled_engine: FaceEngine,
    photos: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = crowd(bundled_engine, photos, "obama.jpg", "biden.jpg", "shrunk")
    # As before the gate: only the detection score decided.
    old_rule = lambda self, rgb, faces: [  # noqa: E731
        None if f.det_score >= self.min_score else "low_score" for f in faces
    ]
    with monkeypatch.context() as m:
        m.setattr(RenderSpec, "judge", old_rule)
        old = upload(client, encode(s.rgb), name="old.png").json()
    assert [f["accepted"] for f in old["faces"]] == [True, True]
    points = ctx.vectors.retrieve(ctx.faces, _ids(old), vectors=True)
    # Records as the previous release wrote them: no gate version.
    ctx.vectors.upsert(
        ctx.faces,
        [Point(p.id, {k: v for k, v in p.payload.items() if k != "gate"}, p.vector or []) for p in points],
    )
    photo = ctx.vectors.retrieve(ctx.photos, [old["photo_id"]])[0]
    ctx.vectors.upsert(
        ctx.photos, [Point(photo.id, {k: v for k, v in photo.payload.items() if k != "gate"}, [1.0])]
    )
    new = upload(client, photos["astronaut.png"]).json()
    participant, stranger = old["faces"]
    # Before the recompute the stranger is in the game, as it was before the gate.
    similar = client.get(f"/api/faces/{participant['face_id']}/similar").json()["items"]
    assert stranger["face_id"] in {i["face"]["face_id"] for i in similar}
    portrait = ctx.vectors.retrieve(ctx.faces, [stranger["face_id"]])[0].payload["portrait_key"]
    recompute(ctx, "default")
    assert portrait not in ctx.objects.list(portrait.rsplit("/", 1)[0] + "/")
    # The stranger left the game: its vector, its portrait and its row's attributes.
    assert ctx.vectors.retrieve(ctx.faces, [stranger["face_id"]]) == []
    row = next(f for f in client.get(f"/api/photos/{old['photo_id']}").json()["faces"] if f["index"] == stranger["index"])
    assert row["accepted"] is False and row["reason"] == "background" and row["face_id"] is None
    counted = {participant["face_id"], *_ids(new)}
    board = client.get("/api/leaderboard", params={"cohort": "all"}).json()["items"]
    assert {i["face"]["face_id"] for i in board} == counted
    listed = {f["face_id"] for f in client.get("/api/faces").json()["items"]}
    assert listed == counted
    similar = client.get(f"/api/faces/{participant['face_id']}/similar").json()["items"]
    assert {i["face"]["face_id"] for i in similar} == counted - {participant["face_id"]}
    graph = client.get("/api/graph").json()
    assert {n["id"] for n in graph["nodes"]} <= counted
    averages = client.get("/api/averages").json()
    everyone = next(c for c in averages["cohorts"] if c["cohort"] == "all")
    assert everyone["count"] == len(counted)
    # The big screen's grid of new faces is this same listing (fragment of /api/faces).
    grid = client.get("/api/faces", headers={"HX-Request": "true"}).text
    assert stranger["face_id"] not in grid and participant["face_id"] in grid
