"""The share card is drawn once per content, revalidated by ETag, and its drawing is rate-limited."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from functions.cards import CardCache
from huchu.inference.local import LocalInference
from tests.functions.conftest import ADMIN, upload
from tests.functions.served import embedded


def test_a_card_is_drawn_once_and_revalidated(
    tmp_path: Path, inference: LocalInference, photos: dict[str, bytes]
) -> None:
    with (
        embedded(tmp_path, inference, cards_per_minute=3) as app,
        TestClient(app) as client,
    ):
        face = upload(client, photos["biden.jpg"]).json()["faces"][0]["face_id"]
        url = f"/api/faces/{face}/card.png"
        first = client.get(url, params={"lang": "en"})
        assert first.status_code == 200 and first.headers["content-type"] == "image/png"
        etag = first.headers["etag"]
        assert "no-cache" in first.headers["cache-control"]
        # The browser that has it: 304, nothing drawn, nothing sent.
        again = client.get(url, params={"lang": "en"}, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        # Two more cards not seen before spend the client's allowance of three drawings ...
        assert client.get(url, params={"lang": "ko"}).status_code == 200
        assert client.get(f"/api/faces/{face}/card.jpg").status_code == 200
        refused = client.get(f"/api/faces/{face}/card.jpg", params={"lang": "en"})
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # ... and a card already drawn still costs nothing: it comes from the cache.
        cached = client.get(url, params={"lang": "en"})
        assert cached.status_code == 200 and cached.content == first.content
        assert cached.headers["etag"] == etag
        # What the card shows changes (the first average): a new card, a new ETag.
        client.post("/api/averages/recompute", headers={"Authorization": f"Bearer {ADMIN}"})
        cache: CardCache = app.state.cards
        cache.drawing.seen.clear()
        redrawn = client.get(url, params={"lang": "en"}, headers={"If-None-Match": etag})
        assert redrawn.status_code == 200 and redrawn.headers["etag"] != etag


def test_the_cache_keeps_to_its_size() -> None:
    cache = CardCache(per_minute=0, max_bytes=10)
    for i in range(5):
        cache.put(str(i), b"1234")
    assert cache.get("0") is None and cache.get("3") == b"1234" and cache.get("4") == b"1234"
    cache.put("big", b"x" * 11)
    assert cache.get("big") is None
