"""The game's embedding side: exact, incremental, order-free, versioned."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from huchu.context import Context
from huchu.game import recompute as game
from huchu.game import state
from huchu.game.average import GameState
from huchu.stores.ids import new_id
from huchu.stores.objects import ObjectStore
from huchu.stores.vectors import Point
from tests.functions.conftest import ADMIN, upload


def synthetic(ctx: Context, n: int, seed: int, t0: float = 1000.0) -> list[Point]:
    rng = np.random.default_rng(seed)
    points = []
    for i in range(n):
        v = rng.standard_normal(128)
        v /= np.linalg.norm(v)
        fid = new_id()
        points.append(
            Point(
                fid,
                {
                    "face_id": fid,
                    "photo_id": "p",
                    "event": "default",
                    "index": 0,
                    "gender": "female" if i % 3 else "male",
                    "age": float(20 + i % 30),
                    "det_score": 0.9,
                    "created_at": "2026-01-01T00:00:00Z",
                    "created_ts": t0 + i,
                    "portrait_key": None,
                },
                [float(x) for x in v],
            )
        )
    ctx.vectors.upsert(ctx.faces, points)
    return points


def full_rebuild(points: list[Point]) -> GameState:
    state = GameState.empty(128)
    for p in points:
        state.add(
            p.id, np.asarray(p.vector, dtype=np.float32), p.payload["gender"], p.payload["age"]
        )
    return state


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_incremental_equals_full_rebuild_and_order_is_irrelevant(ctx: Context) -> None:
    first = synthetic(ctx, 40, 1)
    game.recompute(ctx, "default")
    second = synthetic(ctx, 25, 2, t0=5000.0)
    game.recompute(ctx, "default")
    incremental = state.load(ctx, "default")[0]
    rebuilt = full_rebuild(first + second)
    shuffled = first + second
    random.Random(3).shuffle(shuffled)
    reordered = full_rebuild(shuffled)
    for c in ("female", "male", "all"):
        assert incremental.cohorts[c].count == rebuilt.cohorts[c].count
        assert (
            np.abs(incremental.cohorts[c].mean - rebuilt.cohorts[c].mean).max() < 1e-6
        )  # float32 storage
        assert np.abs(reordered.cohorts[c].mean - rebuilt.cohorts[c].mean).max() < 1e-6
        assert incremental.cohorts[c].mean_age == pytest.approx(rebuilt.cohorts[c].mean_age)


def test_add_then_delete_returns_previous_state(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    for name in ("obama.jpg", "biden.jpg", "astronaut.png"):
        upload(client, photos[name])
    before = client.post(
        "/api/averages/recompute", headers={"Authorization": f"Bearer {ADMIN}"}
    ).json()
    state_before = state.load(ctx, "default")[0]
    added = upload(client, photos["t1.jpg"]).json()
    mid = client.post(
        "/api/averages/recompute", headers={"Authorization": f"Bearer {ADMIN}"}
    ).json()
    base = {c["cohort"]: c["count"] for c in before["cohorts"]}["all"]
    new = sum(f["accepted"] for f in added["faces"])
    assert {c["cohort"]: c["count"] for c in mid["cohorts"]}["all"] == base + new
    client.delete(
        f"/api/photos/{added['photo_id']}", headers={"X-Huchu-Owner": added["owner_token"]}
    )
    after = client.post(
        "/api/averages/recompute", headers={"Authorization": f"Bearer {ADMIN}"}
    ).json()
    state_after = state.load(ctx, "default")[0]

    def stats(body: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (c["cohort"], c["count"], c["mean_age"], c["spread"], c["closest_face_id"])
            for c in body["cohorts"]
        ]

    assert stats(after) == stats(before)
    for c in ("female", "male", "all"):
        assert np.abs(state_after.cohorts[c].total - state_before.cohorts[c].total).max() < 1e-6
    # mid, the delete's numbers, its pictures drawn after it answered; the last recompute
    # found nothing new.
    assert after["version"] == before["version"] + 3


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_a_delete_publishes_numbers_at_once_and_pictures_after_it_answers(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    from huchu.photos.delete import delete_photo

    auth = {"Authorization": f"Bearer {ADMIN}"}
    for name in ("obama.jpg", "biden.jpg", "astronaut.png"):
        upload(client, photos[name])
    gone = upload(client, photos["obama2.jpg"]).json()
    drawn = client.post("/api/averages/recompute", headers=auth).json()
    assert all(c["image_url"] for c in drawn["cohorts"])

    later = delete_photo(ctx, gone["photo_id"], gone["owner_token"], is_admin=False)
    numbers = client.get("/api/averages").json()
    assert numbers["version"] == drawn["version"] + 1
    count = {c["cohort"]: c["count"] for c in numbers["cohorts"]}
    assert count["all"] == {c["cohort"]: c["count"] for c in drawn["cohorts"]}["all"] - 1
    assert [c["image_url"] for c in numbers["cohorts"]] == [None] * len(numbers["cohorts"])
    assert state.load(ctx, "default")[0].drawn is False

    later()
    pictured = client.get("/api/averages").json()
    assert pictured["version"] == numbers["version"] + 1
    assert all(c["image_url"] for c in pictured["cohorts"])
    assert [c["count"] for c in pictured["cohorts"]] == [c["count"] for c in numbers["cohorts"]]
    assert (
        client.post("/api/averages/recompute", headers=auth).json()["version"]
        == (pictured["version"])
    )  # nothing owed any more


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_pictures_a_delete_owes_are_drawn_by_the_next_recompute(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    """On Lambda nothing runs after the answer: the scheduled recompute draws them."""
    from huchu.photos.delete import delete_photo

    auth = {"Authorization": f"Bearer {ADMIN}"}
    upload(client, photos["obama.jpg"])
    gone = upload(client, photos["biden.jpg"]).json()
    drawn = client.post("/api/averages/recompute", headers=auth).json()
    delete_photo(ctx, gone["photo_id"], None, is_admin=True)  # its ``later`` never called
    assert client.get("/api/averages").json()["cohorts"][0]["image_url"] is None
    redrawn = client.post("/api/averages/recompute", headers=auth).json()
    assert redrawn["version"] == drawn["version"] + 2
    assert all(c["image_url"] for c in redrawn["cohorts"])


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_leaderboard_equals_brute_force(client: TestClient, ctx: Context) -> None:
    points = synthetic(ctx, 60, 5)
    client.post("/api/averages/recompute", headers={"Authorization": f"Bearer {ADMIN}"})
    board = client.get("/api/leaderboard", params={"cohort": "female", "limit": 10}).json()
    females = [p for p in points if p.payload["gender"] == "female"]
    mean = full_rebuild(females).cohorts["female"].mean
    brute = sorted(
        ((round(float(np.dot(p.vector or [], mean)), 4), p.id) for p in females),
        key=lambda t: (-t[0], t[1]),
    )[:10]
    assert [(i["face"]["face_id"]) for i in board["items"]] == [fid for _, fid in brute]
    assert [i["rank"] for i in board["items"]] == list(range(1, 11))
    avg = client.get("/api/averages").json()
    female = next(c for c in avg["cohorts"] if c["cohort"] == "female")
    assert female["closest_face_id"] == board["items"][0]["face"]["face_id"]


class FailingPut:
    """The object store, failing every write whose key ends with ``suffix``."""

    def __init__(self, inner: ObjectStore, suffix: str) -> None:
        self.inner = inner
        self.suffix = suffix

    def put(self, key: str, data: bytes, content_type: str) -> None:
        if key.endswith(self.suffix):
            raise RuntimeError(f"injected failure writing {key}")
        self.inner.put(key, data, content_type)

    def put_if(self, key: str, data: bytes, content_type: str, etag: str | None) -> str:
        if key.endswith(self.suffix):
            raise RuntimeError(f"injected failure writing {key}")
        return self.inner.put_if(key, data, content_type, etag)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_failure_before_pointer_keeps_previous_version(client: TestClient, ctx: Context) -> None:
    synthetic(ctx, 10, 7)
    v1 = game.recompute(ctx, "default")
    synthetic(ctx, 10, 8, t0=9000.0)
    # The new version's sums, snapshot and pictures are written; moving the pointer fails.
    failing = dataclasses.replace(ctx, objects=FailingPut(ctx.objects, "/current.json"))
    with pytest.raises(RuntimeError):
        game.recompute(failing, "default")
    now = client.get("/api/averages").json()
    assert now == v1.model_dump(mode="json")
    history = client.get("/api/averages/history", params={"cohort": "all"}).json()["items"]
    assert [h["version"] for h in history] == [1]
    v2 = game.recompute(ctx, "default")  # publishes the faces again, under a new number
    assert v2.version == 3 and {c.cohort: c.count for c in v2.cohorts}["all"] == 20
    history = client.get("/api/averages/history", params={"cohort": "all"}).json()["items"]
    assert [h["version"] for h in history] == [3, 1]  # the version never made current is gone


def test_averages_empty_before_first_recompute_and_admin_only(client: TestClient) -> None:
    assert client.get("/api/averages").json()["cohorts"] == []
    assert client.post("/api/averages/recompute").status_code == 403


def test_scheduler_paths_cover_every_event(
    client: TestClient, ctx: Context, photos: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from functions import averages

    for team in ("team-a", "team-b"):  # events other than default exist once set up
        auth = {"Authorization": f"Bearer {ADMIN}"}
        assert client.put(f"/api/events/{team}", json={"name": team}, headers=auth).is_success
    upload(client, photos["obama.jpg"], event="team-a")
    upload(client, photos["astronaut.png"], event="team-b")
    assert averages.recompute_all(ctx) == {"team-a": 1, "team-b": 1}
    assert averages.recompute_all(ctx) == {"team-a": 1, "team-b": 1}  # nothing new: same versions

    # The embedded scheduler loop runs the same thing on its timer.
    fast = ctx.settings.model_copy(update={"recompute_seconds": 0.01})
    upload(client, photos["biden.jpg"], event="team-a")

    async def one_tick() -> None:
        task = asyncio.create_task(averages.schedule_loop(replace(ctx, settings=fast)))
        for _ in range(300):
            await asyncio.sleep(0.05)
            if client.get("/api/averages", params={"event": "team-a"}).json()["version"] == 2:
                break
        task.cancel()

    asyncio.run(one_tick())
    assert client.get("/api/averages", params={"event": "team-a"}).json()["version"] == 2

    # EventBridge Scheduler calls the averages function's handler with a plain event.
    from functions import deps

    monkeypatch.setattr(deps, "default_context", lambda: ctx)
    assert averages.handler({"huchu": "recompute", "event": "team-b"}, None) == {
        "versions": {"team-b": 1}
    }
    assert averages.handler({"huchu": "recompute", "event": "*"}, None) == {
        "versions": {"team-a": 2, "team-b": 1}
    }


def test_deletes_arriving_while_pictures_are_drawn_ask_for_one_more_drawing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five deletes during one drawing cost two drawings, not six, and none is lost."""
    import threading

    from huchu.game import erase

    drawing = threading.Event()
    release = threading.Event()
    calls: list[str] = []

    def slow_refresh(ctx: Any, event: str, images: bool, fold: bool) -> None:
        calls.append(event)
        if len(calls) == 1:
            drawing.set()
            assert release.wait(10)

    monkeypatch.setattr(erase, "refresh", slow_refresh)
    eraser = erase.GameEraser()
    ctx: Any = object()
    first = threading.Thread(target=eraser.later, args=(ctx, {"default"}))
    first.start()
    assert drawing.wait(10)
    for _ in range(5):
        eraser.later(ctx, {"default"})  # returns at once: the drawing thread will draw again
    assert calls == ["default"]
    release.set()
    first.join(10)
    assert calls == ["default", "default"]
    eraser.later(ctx, {"default"})  # nothing in flight: draws at once
    assert calls == ["default"] * 3


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_faces_stored_while_a_recompute_warps_wait_for_the_next_one(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state is never locked while pictures are warped: a face that arrives after the
    warps were made is left for the next recompute, and then counted once."""
    first = synthetic(ctx, 5, 1)
    made = game.sum_pictures
    late: list[Point] = []

    def warps_then_an_upload(c: Context, payloads: list[dict[str, Any]]) -> Any:
        out = made(c, payloads)
        if not late:
            late.extend(synthetic(ctx, 1, 9, t0=9000.0))  # stored while the warps were made
        return out

    monkeypatch.setattr(game, "sum_pictures", warps_then_an_upload)
    game.recompute(ctx, "default")
    members = state.load(ctx, "default")[0].members
    assert set(members) == {p.id for p in first}
    game.recompute(ctx, "default")
    after = state.load(ctx, "default")[0]
    assert set(after.members) == {p.id for p in first + late}
    assert after.cohorts["all"].count == 6


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_the_state_is_small_and_names_morph_sums_written_once(ctx: Context) -> None:
    """A change that leaves the morph sums alone neither reads nor writes them; one that
    changes them writes a fresh object and removes the one it replaced."""
    import io
    import json

    from huchu.game.render.morph import MorphState

    def morphs() -> list[str]:
        return ctx.objects.list(f"{state.prefix('default')}/morph/")

    synthetic(ctx, 4, 1)
    game.recompute(ctx, "default")
    named = state.load_stats(ctx, "default")[1]
    assert morphs() == [named]
    assert len(ctx.objects.get(state.state_key("default"))) < 20_000  # statistics only

    def flag(s: GameState, m: MorphState | None) -> bool:
        assert m is None  # not read
        s.drawn = False
        return True

    state.update(ctx, "default", flag, morph=False)
    assert morphs() == [named] and state.load_stats(ctx, "default")[1] == named

    def touch(s: GameState, m: MorphState | None) -> bool:
        assert m is not None
        m.skipped += 1
        return True

    done = state.update(ctx, "default", touch)
    assert done is not None and done[2] != named
    assert morphs() == [done[2]]  # the replaced sums are gone

    # A legacy state (sums and morph sums in one object) is read, and moves out on the
    # first change of its morph sums.
    s, m, _ = state.load(ctx, "default")
    legacy = f"{state.prefix('default')}/state.npz"
    buf = io.BytesIO()
    np.savez(
        buf,
        state=np.frombuffer(json.dumps(s.to_json()).encode(), dtype=np.uint8),
        morph=np.frombuffer(m.to_bytes(), dtype=np.uint8),
    )
    ctx.objects.delete([state.state_key("default"), *morphs()])
    ctx.objects.put(legacy, buf.getvalue(), "application/x-npz")
    assert state.load(ctx, "default")[0].members == s.members
    assert state.load(ctx, "default")[1].skipped == m.skipped
    state.update(ctx, "default", touch)
    assert legacy not in ctx.objects.list(f"{state.prefix('default')}/")
    assert state.load(ctx, "default")[1].skipped == m.skipped + 1

    # Sums a crashed writer left behind (named by no state) go once old enough.
    stray = f"{state.prefix('default')}/morph/{new_id(1_000)}.npz"  # made in 1970
    ctx.objects.put(stray, b"x", "application/x-npz")
    assert state.clear_morph(ctx, "default") == 1
    assert morphs() == [state.load_stats(ctx, "default")[1]]


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_a_face_deleted_while_a_recompute_warps_is_not_counted(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Faces found before the lock are checked again under it: one marked ``deleting``
    in between (its delete found nothing to subtract yet) stays out of the sums."""
    faces = synthetic(ctx, 4, 1)
    made = game.sum_pictures

    def warps_then_a_delete(c: Context, payloads: list[dict[str, Any]]) -> Any:
        out = made(c, payloads)
        gone = faces[0]
        ctx.vectors.upsert(ctx.faces, [replace(gone, payload={**gone.payload, "deleting": True})])
        return out

    monkeypatch.setattr(game, "sum_pictures", warps_then_a_delete)
    game.recompute(ctx, "default")
    assert set(state.load_stats(ctx, "default")[0].members) == {p.id for p in faces[1:]}
    assert state.load(ctx, "default")[1].skipped == 3  # its (missing) picture left out too


def test_a_burst_of_deletes_is_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deletes that arrive while the first one's pictures wait to be drawn are drawn by
    that same drawing."""
    import threading

    from huchu.game import erase

    calls: list[str] = []
    monkeypatch.setattr(erase, "SETTLE_S", 0.3)
    monkeypatch.setattr(erase, "refresh", lambda ctx, event, images, fold: calls.append(event))
    eraser = erase.GameEraser()
    ctx: Any = object()
    first = threading.Thread(target=eraser.later, args=(ctx, {"default"}))
    first.start()
    for _ in range(5):
        eraser.later(ctx, {"default"})  # during the settling: returns at once
    first.join(10)
    assert calls == ["default"]


@pytest.mark.parametrize("ctx", ["local"], indirect=True)
def test_persons_read_only_the_faces_not_seen_before(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A face's vector, gender and age never change: grouping persons again (each delete
    publishes new numbers) reads only faces it has not seen, not the whole event (that
    read and its unpacking took a tenth of the API's interpreter time under mixed load),
    and groups them as a fresh read does."""
    from huchu.game import ranking

    synthetic(ctx, 12, 1)
    game.recompute(ctx, "default", images=False)
    state_now = state.load_stats(ctx, "default")[0]
    first = ranking.people(ctx, "default", state_now)

    read: list[str] = []
    scroll, retrieve = ctx.vectors.scroll, ctx.vectors.retrieve

    def counted_scroll(*a: Any, **k: Any) -> Any:
        points, cursor = scroll(*a, **k)
        read.extend(p.id for p in points)
        return points, cursor

    def counted_retrieve(*a: Any, **k: Any) -> Any:
        points = retrieve(*a, **k)
        read.extend(p.id for p in points)
        return points

    monkeypatch.setattr(ctx.vectors, "scroll", counted_scroll)
    monkeypatch.setattr(ctx.vectors, "retrieve", counted_retrieve)
    again = ranking.people(ctx, "default", state_now)
    assert read == []
    assert again.to_json() == first.to_json()

    new = synthetic(ctx, 2, 7, t0=5000.0)
    gone = next(iter(state_now.members))
    state_now.members.pop(gone)
    for p in new:
        state_now.members[p.id] = state_now.version
    grown = ranking.people(ctx, "default", state_now)
    assert sorted(read) == sorted(p.id for p in new)
    assert gone not in {p.id for p in grown.faces}
    monkeypatch.setattr(ranking, "_SEEN", type(ranking._SEEN)())  # a fresh process
    assert ranking.people(ctx, "default", state_now).to_json() == grown.to_json()
