"""Events, persons on the leaderboard, the share card and the QR code, through the API."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps

from functions.embedded import create_embedded_app
from functions.wiring import assemble
from huchu.context import Context
from huchu.game import state
from huchu.inference.local import LocalInference
from huchu.stores.factory import build_object_store
from huchu.stores.vectors import QdrantStore
from tests.functions.conftest import ADMIN, make_settings, upload

AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture(scope="module")
def shared(
    tmp_path_factory: pytest.TempPathFactory, inference: LocalInference
) -> Iterator[tuple[TestClient, Context]]:
    """One local context for the module: the engine's work is the slow part, done once."""
    tmp = tmp_path_factory.mktemp("events")
    settings = make_settings(tmp, site_url="https://huchu.example")
    vectors = QdrantStore(None, settings.data_dir / "qdrant")
    ctx = assemble(settings, build_object_store(settings), vectors, inference)
    with TestClient(create_embedded_app(ctx, scheduler=False)) as client:
        yield client, ctx
    ctx.close()


def test_events_set_up_read_close_and_unknown(
    shared: tuple[TestClient, Context], photos: dict[str, bytes]
) -> None:
    client, _ = shared
    assert client.get("/api/events/default").json()["open"] is True
    assert client.get("/api/events/spring-party").status_code == 404
    assert client.get("/api/faces", params={"event": "spring-party"}).json()["error"]["code"] == (
        "not_found"
    )
    assert upload(client, photos["obama.jpg"], event="spring-party").status_code == 404
    search = client.post(
        "/api/lookalikes",
        files={"file": ("a.jpg", photos["obama.jpg"], "image/jpeg")},
        data={"event": "spring-party"},
    )
    assert search.status_code == 404 and search.json()["error"]["code"] == "not_found"
    setup = {"name": "봄 파티", "starts_at": "2026-11-26T18:00:00+09:00", "open": True}
    assert client.put("/api/events/spring-party", json=setup).status_code == 403
    bad = client.put("/api/events/spring-party", json={"name": ""}, headers=AUTH)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    made = client.put("/api/events/spring-party", json=setup, headers=AUTH)
    assert made.status_code == 200, made.text
    body = made.json()
    assert body["name"] == "봄 파티" and body["starts_at"] == "2026-11-26T09:00:00Z"
    assert (body["photos"], body["faces"], body["version"]) == (0, 0, 0)
    assert upload(client, photos["obama.jpg"], event="spring-party").status_code == 201
    assert client.get("/api/events/spring-party").json()["photos"] == 1
    closed = client.put("/api/events/spring-party", json={**setup, "open": False}, headers=AUTH)
    assert closed.json()["open"] is False
    refused = upload(client, photos["obama2.jpg"], event="spring-party")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "event_closed"
    assert client.get("/api/events/spring-party").json()["photos"] == 1


def test_qr_code_points_at_the_event_page(shared: tuple[TestClient, Context]) -> None:
    import cv2

    client, _ = shared
    client.put("/api/events/qr-night", json={"name": "QR"}, headers=AUTH)
    answer = client.get("/api/events/qr-night/qr.svg")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
    assert answer.content.lstrip().startswith(b"<svg")
    assert client.get("/api/events/nope/qr.svg").status_code == 404
    png = _svg_to_png(answer.content)
    found, _, _ = cv2.QRCodeDetector().detectAndDecode(png)
    assert found == "https://huchu.example/index.html?event=qr-night"


def _svg_to_png(svg: bytes) -> Any:
    """segno's SVG is one path of horizontal runs: draw them, so OpenCV can read the code."""
    import re

    size = re.search(rb'width="(\d+)"', svg)
    assert size is not None
    return _rasterise(svg.decode(), int(size.group(1)))


def _rasterise(svg: str, size: int) -> Any:
    import re

    grid = np.full((size, size), 255, np.uint8)
    path = re.search(r' d="([^"]+)"', svg)
    assert path is not None
    scale = re.search(r'transform="scale\((\d+)\)"', svg)
    k = int(scale.group(1)) if scale else 1
    x = y = 0.0
    for cmd, a, b in re.findall(r"([Mmhv])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path.group(1)):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        elif cmd == "h":
            nx = x + float(a)
            lo, hi = sorted((x, nx))
            grid[int(y * k - k / 2) : int(y * k + k / 2), int(lo * k) : int(hi * k)] = 0
            x = nx
        elif cmd == "v":
            y += float(a)
    return np.stack([grid] * 3, axis=-1)


def test_one_person_one_entry(shared: tuple[TestClient, Context], photos: dict[str, bytes]) -> None:
    """Three photos of one person and one of another: two people, each weighed once."""
    client, ctx = shared
    client.put("/api/events/persons", json={"name": "Persons"}, headers=AUTH)
    who: dict[str, str] = {}
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        answer = upload(client, photos[name], event="persons")
        assert answer.status_code == 201
        who[answer.json()["faces"][0]["face_id"]] = name[:5]
    client.post("/api/averages/recompute", params={"event": "persons"}, headers=AUTH)
    board = client.get("/api/leaderboard", params={"event": "persons"}).json()
    assert len(board["items"]) == 2
    assert sorted(i["photos"] for i in board["items"]) == [1, 3]
    assert len({i["person_id"] for i in board["items"]}) == 2
    averages = client.get("/api/averages", params={"event": "persons"}).json()
    everyone = next(c for c in averages["cohorts"] if c["cohort"] == "all")
    assert (everyone["count"], everyone["people"]) == (4, 2)
    assert client.get("/api/events/persons").json()["people"] == 2

    vectors: dict[str, list[Any]] = {}
    for p in ctx.vectors.scroll(ctx.faces, {"event": "persons"}, 10, None, vectors=True)[0]:
        v = np.asarray(p.vector, dtype=np.float64)
        vectors.setdefault(who[p.id], []).append(v / np.linalg.norm(v))
    assert sorted(len(v) for v in vectors.values()) == [1, 3]
    means = [np.mean(vs, axis=0) for vs in vectors.values()]
    expected = np.mean(means, axis=0)
    expected /= np.linalg.norm(expected)
    snap = state.current(ctx, "persons")
    assert snap is not None
    got = np.asarray(next(c for c in snap["cohorts"] if c["cohort"] == "all")["mean"])
    assert np.allclose(got, expected, atol=1e-9)
    every_face = np.mean([v for vs in vectors.values() for v in vs], axis=0)
    assert not np.allclose(got, every_face / np.linalg.norm(every_face), atol=1e-3)


def test_share_card_and_standing(
    shared: tuple[TestClient, Context], photos: dict[str, bytes]
) -> None:
    client, _ = shared
    client.put("/api/events/cards", json={"name": "카드 밤"}, headers=AUTH)
    ids = []
    for name in ("obama.jpg", "biden.jpg"):
        ids.append(upload(client, photos[name], event="cards").json()["faces"][0]["face_id"])
    before = client.get(f"/api/faces/{ids[0]}/standing").json()
    assert before["rank"] is None and before["score"] is None
    client.post("/api/averages/recompute", params={"event": "cards"}, headers=AUTH)
    after = client.get(f"/api/faces/{ids[0]}/standing").json()
    assert after["rank"] in (1, 2) and after["people"] == 2 and 0 < after["score"] <= 1
    assert after["lookalikes"][0]["face"]["face_id"] == ids[1]
    rank = after["rank"]
    # Two people: a rank, never "closer than 0% of the others".
    en = "Closest to our average of all 2" if rank == 1 else "#2 of 2 closest to our average"
    for lang, word in (("ko", "카드 밤"), ("en", en)):
        card = client.get(f"/api/faces/{ids[0]}/card.png", params={"lang": lang})
        assert card.status_code == 200 and card.headers["content-type"] == "image/png"
        img = Image.open(io.BytesIO(card.content))
        assert img.size == (1080, 1350)
        assert word in img.info["Description"]
        # What the share button posts: the same card as a JPEG of at most 200 KB.
        jpeg = client.get(f"/api/faces/{ids[0]}/card.jpg", params={"lang": lang})
        assert jpeg.status_code == 200 and jpeg.headers["content-type"] == "image/jpeg"
        assert len(jpeg.content) <= 200_000 < len(card.content), len(jpeg.content)
        small = Image.open(io.BytesIO(jpeg.content))
        assert small.format == "JPEG" and small.size == (1080, 1350)
        assert small.info["comment"].decode() == img.info["Description"]
        drift = np.abs(np.asarray(small, float) - np.asarray(img.convert("RGB"), float))
        assert drift.mean() < 3.0
    # Both faces are men: the card shows the male cohort's template portrait.
    averages = client.get("/api/averages", params={"event": "cards"}).json()
    male = next(c for c in averages["cohorts"] if c["cohort"] == "male")
    assert male["portrait_url"]
    words = img.info["Description"]
    assert "Our average man" in words
    portrait = Image.open(io.BytesIO(client.get(male["portrait_url"]).content)).convert("RGB")
    slot = np.asarray(ImageOps.fit(portrait, (420, 525), Image.Resampling.LANCZOS), float)
    shown = np.asarray(img.convert("RGB"), float)[330 + 40 : 855 - 40, 570 + 40 : 990 - 40]
    assert np.abs(shown - slot[40:-40, 40:-40]).mean() < 4.0
    for kind in ("png", "jpg"):
        missing = f"/api/faces/0123456789abcdef0123456789abcdef/card.{kind}"
        assert client.get(missing).status_code == 404


def test_portraits_carry_the_event_name(
    shared: tuple[TestClient, Context], photos: dict[str, bytes], tmp_path: Path
) -> None:
    client, _ = shared
    client.put("/api/events/named", json={"name": "NAMED EVENT"}, headers=AUTH)
    plain = upload(client, photos["obama.jpg"], event="named").json()["faces"][0]
    client.put("/api/events/named", json={"name": "x"}, headers=AUTH)
    other = upload(client, photos["obama.jpg"], event="named").json()["faces"][0]
    a = np.asarray(Image.open(io.BytesIO(client.get(plain["portrait_url"]).content)))
    b = np.asarray(Image.open(io.BytesIO(client.get(other["portrait_url"]).content)))
    assert a.shape == b.shape
    strip = slice(-40, None)
    assert np.abs(a[strip].astype(int) - b[strip].astype(int)).mean() > 1.0
    assert np.abs(a[:200].astype(int) - b[:200].astype(int)).mean() < 1.0


def test_past_the_grouping_limit_each_face_counts_once(
    shared: tuple[TestClient, Context], photos: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large events keep the O(new) recompute: ranked face by face from the running sums."""
    from huchu.game import ranking

    client, _ = shared
    monkeypatch.setattr(ranking, "PERSONS_MAX", 2)
    client.put("/api/events/huge", json={"name": "Huge"}, headers=AUTH)
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg"):
        assert upload(client, photos[name], event="huge").status_code == 201
    client.post("/api/averages/recompute", params={"event": "huge"}, headers=AUTH)
    board = client.get("/api/leaderboard", params={"event": "huge"}).json()["items"]
    assert [i["photos"] for i in board] == [1, 1, 1]
    everyone = client.get("/api/averages", params={"event": "huge"}).json()["cohorts"]
    assert next(c for c in everyone if c["cohort"] == "all")["people"] == 3
