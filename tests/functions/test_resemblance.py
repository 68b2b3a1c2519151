"""One resemblance scale for both engines: what pages, the share card and the JSON show."""

from __future__ import annotations

import io
import re
import statistics
from collections.abc import Iterator
from itertools import pairwise

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from frontend.i18n import TEXT
from functions.embedded import create_embedded_app
from functions.wiring import assemble
from huchu.context import Context
from huchu.engines.base import Thresholds
from huchu.engines.infos import LOOKALIKE, SAME_PERSON
from huchu.engines.insight import THRESHOLDS as INSIGHT
from huchu.inference.local import LocalInference
from huchu.resemblance import closer_than, resemblance, resemblance_of
from huchu.stores.factory import build_object_store
from huchu.stores.vectors import QdrantStore
from tests.functions.conftest import ADMIN, make_settings, upload

AUTH = {"Authorization": f"Bearer {ADMIN}"}
HX = {"HX-Request": "true"}
BUNDLED = Thresholds(same_person=SAME_PERSON, lookalike=LOOKALIKE)
# TESTDATA.md's photos with a human face, by who is on them (32bit.png shows Obama).
WHO = {
    "obama.jpg": "obama",
    "obama2.jpg": "obama",
    "obama3.jpg": "obama",
    "obama_partial_face.jpg": "obama",
    "obama_partial_face2.jpg": "obama",
    "32bit.png": "obama",
    "biden.jpg": "biden",
    "Tom_Hanks_54745.png": "hanks",
    "astronaut.png": "astronaut",
    "t1.jpg": "t1",  # six people, each a stranger to every other face
}


@pytest.mark.parametrize("scale", [BUNDLED, INSIGHT], ids=["bundled", "insightface"])
def test_the_scale_reads_the_engines_calibration_alike(scale: Thresholds) -> None:
    """Strangers low, the same person high, the look-alike threshold in between."""
    gap = scale.same_person - scale.lookalike
    stranger = scale.lookalike - gap  # bundled 0.842 (its strangers' median), insightface 0
    assert resemblance(stranger, scale) <= 25
    assert 60 <= resemblance(scale.lookalike, scale) <= 70
    assert resemblance(scale.same_person, scale) >= 85
    assert resemblance(scale.same_person + gap, scale) >= 95
    cosines = [-1 + i / 500 for i in range(1001)]
    shown = [resemblance_of(c, scale) for c in cosines]
    assert all(a <= b for a, b in pairwise(shown))  # never decreases
    assert min(shown) >= 0 and max(shown) <= 100


def test_the_published_figures_read_as_people_expect() -> None:
    """docs/engines.md: bundled strangers around 0.85, 95th percentile 0.88, same person from
    0.92; insightface strangers near 0, same person from 0.4."""
    assert resemblance(0.85, BUNDLED) <= 30
    assert resemblance(0.9211, BUNDLED) >= 90  # the closest same-person pair of the sample
    assert resemblance(0.0, INSIGHT) <= 25
    assert resemblance(0.4, INSIGHT) >= 85
    # The raw cosine read as a percentage would call a bundled stranger 85% alike.
    assert resemblance(0.85, BUNDLED) < 0.85 * 100 - 50


def test_closer_than_is_a_standing() -> None:
    assert closer_than(1, 10) == 100
    assert closer_than(10, 10) == 0
    assert closer_than(2, 12) == 91
    assert closer_than(1, 1) is None and closer_than(1, 0) is None
    # Under ten people a share reads as a verdict: the rank alone is shown.
    assert closer_than(4, 4) is None and closer_than(1, 9) is None


@pytest.fixture(scope="module")
def event(
    tmp_path_factory: pytest.TempPathFactory,
    inference: LocalInference,
    photos: dict[str, bytes],
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """One event with every face of TESTDATA.md's photos, recomputed; face id to person."""
    tmp = tmp_path_factory.mktemp("resemblance")
    settings = make_settings(tmp)
    vectors = QdrantStore(None, settings.data_dir / "qdrant")
    ctx: Context = assemble(settings, build_object_store(settings), vectors, inference)
    with TestClient(create_embedded_app(ctx, scheduler=False)) as client:
        client.put("/api/events/scale", json={"name": "Scale"}, headers=AUTH)
        person: dict[str, str] = {}
        for name, who in WHO.items():
            answer = upload(client, photos[name], name=name, event="scale")
            assert answer.status_code == 201, answer.text
            for i, face in enumerate(f for f in answer.json()["faces"] if f["accepted"]):
                person[face["face_id"]] = who if who != "t1" else f"t1-{i}"
        assert client.post("/api/averages/recompute", params={"event": "scale"}, headers=AUTH)
        yield client, person
    ctx.close()


SHOWN = re.compile(
    r'<li data-face-id="([0-9a-f-]+)".*?<span class="resemblance"[^>]*>([^<]*)</span>', re.S
)


def _shown(html: str, lang: str) -> dict[str, int]:
    """Face id to the whole percentage the fragment shows for it."""
    pattern = re.escape(TEXT[lang]["resemblance_n"]).replace(r"\{pct\}", r"(\d+)")
    out = {}
    for face_id, text in SHOWN.findall(html):
        m = re.fullmatch(pattern, text.strip())
        assert m, text
        out[face_id] = int(m.group(1))
    return out


def test_pages_show_same_person_high_and_strangers_low(
    event: tuple[TestClient, dict[str, str]],
) -> None:
    """The look-alike lists as rendered: every same-person pair at least 80, the median
    stranger at most 50 (bundled engine, every pair of faces of TESTDATA.md's photos)."""
    client, person = event
    same: list[int] = []
    strangers: list[int] = []
    raw: dict[frozenset[str], float] = {}
    for face_id in person:
        url = f"/api/faces/{face_id}/similar"
        body = client.get(url, params={"limit": 50}).json()
        assert len(body["items"]) == len(person) - 1
        for item in body["items"]:
            other = item["face"]["face_id"]
            assert item["resemblance"] == resemblance(item["score"], BUNDLED)
            raw[frozenset((face_id, other))] = item["score"]
        for lang in ("ko", "en"):
            html = client.get(url, params={"limit": 50, "lang": lang}, headers=HX).text
            shown = _shown(html, lang)
            assert set(shown) == {i["face"]["face_id"] for i in body["items"]}
            for item in body["items"]:
                assert shown[item["face"]["face_id"]] == item["resemblance"]
        for other, pct in shown.items():
            if face_id < other:
                (same if person[face_id] == person[other] else strangers).append(pct)
    assert len(same) == 15 and len(strangers) == len(raw) - 15
    assert min(same) >= 80, sorted(same)
    assert statistics.median(strangers) <= 50, sorted(strangers)
    # The raw cosine is kept in the JSON and is not what the page shows.
    assert statistics.median(raw.values()) * 100 > 80


def test_standing_leaderboard_and_card_show_a_standing(
    event: tuple[TestClient, dict[str, str]],
) -> None:
    """Closeness to the average reads as the share of the others farther from it."""
    client, person = event
    people = len(set(person.values()))
    board = client.get("/api/leaderboard", params={"event": "scale", "limit": 20}).json()
    assert len(board["items"]) == people
    assert [i["closer_than"] for i in board["items"]] == [
        closer_than(i["rank"], people) for i in board["items"]
    ]
    html = client.get(
        "/api/leaderboard", params={"event": "scale", "limit": 20, "lang": "en"}, headers=HX
    ).text
    assert people >= 10  # enough people for a share
    for item in board["items"]:
        assert TEXT["en"]["closer_short"].format(pct=item["closer_than"]) in html
        assert f"{round(item['score'] * 100)}%" not in html

    face_id = board["items"][-1]["face"]["face_id"]
    standing = client.get(f"/api/faces/{face_id}/standing").json()
    assert standing["closer_than"] == closer_than(standing["rank"], standing["people"])
    assert standing["rank"] == standing["people"] > 1
    assert 0 < standing["score"] <= 1  # the raw cosine stays
    for lang in ("ko", "en"):
        html = client.get(f"/api/faces/{face_id}/standing", params={"lang": lang}, headers=HX).text
        # The last place reads "#N of N", never "closer than 0% of the others".
        n = standing["people"]
        assert TEXT[lang]["rank_hash_of"].format(rank=n, people=n) in html
        assert TEXT[lang]["closer_than"].format(pct=0) not in html
        assert f"{round(standing['score'] * 100)}%" not in html
        shown = _shown(html, lang)
        assert shown == {i["face"]["face_id"]: i["resemblance"] for i in standing["lookalikes"]}

    best = board["items"][0]["face"]["face_id"]
    top = client.get(f"/api/faces/{best}/standing").json()
    card = client.get(f"/api/faces/{best}/card.png", params={"lang": "en"})
    words = Image.open(io.BytesIO(card.content)).info["Description"]
    assert f"Closest to our average of all {people}" in words and top["rank"] == 1
    assert f"{top['lookalikes'][0]['resemblance']}% alike" in words
    assert f"{round(top['score'] * 100)}%" not in words
