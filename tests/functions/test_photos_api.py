"""Upload, read and delete through HTTP on real photos, with both object stores."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from huchu.context import Context
from tests import malformed
from tests.functions.conftest import ADMIN, counts, upload


def fetch(client: TestClient, url: str) -> bytes:
    r = client.get(url) if url.startswith("/") else httpx.get(url)
    assert r.status_code == 200, url
    return r.content


def test_upload_group_photo(client: TestClient, ctx: Context, photos: dict[str, bytes]) -> None:
    setup = client.put(
        "/api/events/acme-2026", json={"name": "ACME"}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert setup.status_code == 200  # events other than default exist once set up
    r = upload(client, photos["t1.jpg"], title="Team", event="acme-2026")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["event"] == "acme-2026" and body["title"] == "Team"
    assert body["owner_token"] and body["created_at"].endswith("Z")
    accepted = [f for f in body["faces"] if f["accepted"]]
    assert len(accepted) == 6
    # Numbered from 1 on the picture; the main face (the largest that counts) listed first.
    assert sorted(f["index"] for f in body["faces"]) == list(range(1, len(body["faces"]) + 1))
    sizes = {f["index"]: min(f["bbox"][2] - f["bbox"][0], f["bbox"][3] - f["bbox"][1]) for f in accepted}
    assert body["faces"][0]["accepted"] and sizes[body["faces"][0]["index"]] == max(sizes.values())
    assert [f["index"] for f in body["faces"][1:]] == sorted(f["index"] for f in body["faces"][1:])
    for f in body["faces"]:
        assert set(f) >= {
            "face_id",
            "bbox",
            "det_score",
            "gender",
            "age",
            "accepted",
            "reason",
            "portrait_url",
            "standing",
        }
        if f["accepted"]:
            assert f["face_id"] and f["reason"] is None and f["gender"] in ("female", "male")
            Image.open(io.BytesIO(fetch(client, f["portrait_url"]))).verify()
        else:
            assert f["face_id"] is None and f["reason"] is not None
    annotated = Image.open(io.BytesIO(fetch(client, body["annotated_url"])))
    original = Image.open(io.BytesIO(fetch(client, body["image_url"])))
    assert annotated.size == original.size == Image.open(io.BytesIO(photos["t1.jpg"])).size
    assert counts(ctx) == (2 + 6, 6, 1)
    again = client.get(f"/api/photos/{body['photo_id']}").json()["faces"]

    def unsigned(faces: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in f.items() if k != "portrait_url"} for f in faces]

    assert unsigned(again) == unsigned(body["faces"])  # URLs are re-signed on each read


def test_owner_token_is_kept_and_only_hashed(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    first = upload(client, photos["obama.jpg"]).json()
    token = first["owner_token"]
    second = upload(client, photos["obama2.jpg"], owner=token)
    assert second.status_code == 201 and "owner_token" not in second.json()
    stored = ctx.vectors.retrieve(ctx.photos, [first["photo_id"]])[0].payload
    assert token not in str(stored) and len(stored["owner_hash"]) == 64
    mine = client.get(
        "/api/photos", params={"mine": "true"}, headers={"X-Huchu-Owner": token}
    ).json()
    assert {p["photo_id"] for p in mine["items"]} == {first["photo_id"], second.json()["photo_id"]}
    assert client.get("/api/photos", params={"mine": "true"}).status_code == 400


def test_stored_original_has_no_gps(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    phone = malformed.phone_photo(photos["obama.jpg"])
    assert Image.open(io.BytesIO(phone)).getexif().get_ifd(0x8825)  # the input does carry GPS
    body = upload(client, phone).json()
    stored = Image.open(io.BytesIO(fetch(client, body["image_url"])))
    exif = stored.getexif()
    assert not exif and not exif.get_ifd(0x8825)
    assert stored.size == Image.open(io.BytesIO(photos["obama.jpg"])).size  # upright


BAD_FORMS: list[tuple[str, dict[str, Any], str]] = [
    ("no consent", {"consent": "false"}, "bad_request"),
    ("bad event", {"event": "Not A Slug!"}, "bad_request"),
    ("long title", {"title": "x" * 101}, "bad_request"),
    ("title not UTF-8", {"title": b"caf\xe9 \xff"}, "bad_request"),  # never stored as mojibake
]


def test_bad_input_gets_its_code_and_stores_nothing(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    upload(client, photos["obama.jpg"])
    before = counts(ctx)
    for name, (data, code) in malformed.broken(photos["obama.jpg"]).items():
        r = upload(client, data, name=name)
        assert r.json()["error"]["code"] == code, name
        assert (
            r.status_code == {"unsupported_media_type": 415, "too_large": 413, "no_face": 422}[code]
        )
    r = upload(client, photos["chelsea.png"], name="cat.png")
    assert (r.status_code, r.json()["error"]["code"]) == (422, "no_face")
    for name, form, code in BAD_FORMS:
        r = upload(client, photos["obama.jpg"], **form)
        assert (r.status_code, r.json()["error"]["code"]) == (400, code), name
    r = client.post("/api/photos", data={"consent": "true"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_request")
    r = client.post("/api/photos", files={"file": ("a.jpg", photos["obama.jpg"], "image/jpeg")})
    assert r.json()["error"]["code"] == "bad_request"
    assert counts(ctx) == before


def test_odd_but_valid_encodings_are_accepted(client: TestClient, photos: dict[str, bytes]) -> None:
    for name, data in malformed.variants(photos["obama.jpg"]).items():
        r = upload(client, data, name=name)
        assert r.status_code == 201, (name, r.text)


def test_too_large_upload_is_refused_early(client: TestClient, ctx: Context) -> None:
    before = counts(ctx)
    big = b"\xff\xd8" + b"0" * (ctx.settings.max_upload_bytes + 1)
    r = upload(client, big)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "too_large")
    assert counts(ctx) == before


class Broken(Exception):
    pass


def test_store_failure_mid_upload_leaves_nothing(
    client: TestClient, ctx: Context, photos: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    upload(client, photos["obama.jpg"])
    before = counts(ctx)
    real_put = ctx.objects.put
    calls = {"n": 0}

    def flaky_put(key: str, data: bytes, content_type: str) -> None:
        calls["n"] += 1
        if calls["n"] == 4:  # original, annotated, two portraits... then down
            raise Broken("disk gone")
        real_put(key, data, content_type)

    monkeypatch.setattr(ctx.objects, "put", flaky_put)
    r = upload(client, photos["t1.jpg"])
    assert (r.status_code, r.json()["error"]["code"]) == (503, "unavailable")
    assert counts(ctx) == before
    monkeypatch.setattr(ctx.objects, "put", real_put)

    real_upsert = ctx.vectors.upsert

    def failing_photo_record(collection: str, points: Any) -> None:
        if collection == ctx.photos:
            raise Broken("qdrant gone")
        real_upsert(collection, points)

    monkeypatch.setattr(ctx.vectors, "upsert", failing_photo_record)
    r = upload(client, photos["t1.jpg"])
    assert r.status_code == 503
    assert counts(ctx) == before


def test_delete_removes_everything(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    keep = upload(client, photos["obama.jpg"]).json()
    before = counts(ctx)
    body = upload(client, photos["t1.jpg"]).json()
    token = body["owner_token"]
    stranger = upload(client, photos["biden.jpg"]).json()["owner_token"]
    r = client.delete(f"/api/photos/{body['photo_id']}", headers={"X-Huchu-Owner": stranger})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    assert client.delete(f"/api/photos/{body['photo_id']}").status_code == 403
    r = client.delete(f"/api/photos/{body['photo_id']}", headers={"X-Huchu-Owner": token})
    assert r.status_code == 204
    assert client.get(f"/api/photos/{body['photo_id']}").status_code == 404
    for f in body["faces"]:
        if f["face_id"]:
            assert client.get(f"/api/faces/{f['face_id']}").status_code == 404
    objects, faces, photos_n = counts(ctx)
    assert (objects, faces, photos_n) == (before[0] + 3, before[1] + 1, before[2] + 1)  # biden only
    prefix = f"events/default/photos/{body['photo_id']}"
    assert ctx.objects.list(prefix) == []
    r = client.delete(
        f"/api/photos/{keep['photo_id']}", headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert r.status_code == 204


def test_listing_250_faces_page_by_page(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    import numpy as np

    from huchu.stores.ids import new_id
    from huchu.stores.vectors import Point

    for name in ("t1.jpg", "obama.jpg", "biden.jpg"):
        upload(client, photos[name])
    rng = np.random.default_rng(1)
    extra = 250 - ctx.vectors.count(ctx.faces, {})
    points = []
    for i in range(extra):
        v = rng.standard_normal(128)
        fid = new_id(now_ms=1_700_000_000_000 + i)
        points.append(
            Point(
                fid,
                {
                    "face_id": fid,
                    "photo_id": "synthetic",
                    "event": "default",
                    "index": 0,
                    "gender": "female" if i % 2 else "male",
                    "age": 30.0,
                    "det_score": 0.9,
                    "created_at": "2026-01-01T00:00:00Z",
                    "created_ts": 0.0,
                    "portrait_key": None,
                },
                [float(x) for x in v / np.linalg.norm(v)],
            )
        )
    ctx.vectors.upsert(ctx.faces, points)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 40} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/faces", params=params).json()
        seen += [f["face_id"] for f in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 250 and len(set(seen)) == 250 and pages == 7
    females = client.get("/api/faces", params={"gender": "female", "limit": 100}).json()["items"]
    assert all(f["gender"] == "female" for f in females)
    assert client.get("/api/faces", params={"limit": 1000}).status_code == 400
    assert client.get("/api/faces", params={"cursor": "nope"}).status_code == 400


def test_similar_graph_and_lookalikes(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    same = client.get("/api/engine").json()["thresholds"]["same_person"]
    ids = {}
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "t1.jpg"):
        body = upload(client, photos[name]).json()
        ids[name] = max(
            (f for f in body["faces"] if f["accepted"]), key=lambda f: f["bbox"][2] - f["bbox"][0]
        )
    obama = ids["obama.jpg"]["face_id"]
    r = client.get(f"/api/faces/{obama}/similar", params={"limit": 5}).json()
    assert r["face_id"] == obama
    got = [i["face"]["face_id"] for i in r["items"]]
    assert obama not in got
    assert set(got[:2]) == {ids["obama2.jpg"]["face_id"], ids["obama3.jpg"]["face_id"]}
    assert all(i["score"] > same for i in r["items"][:2])
    assert [i["score"] for i in r["items"]] == sorted(
        (i["score"] for i in r["items"]), reverse=True
    )
    t1 = ids["t1.jpg"]["face_id"]
    flags = {
        i["same_photo"]
        for i in client.get(f"/api/faces/{t1}/similar", params={"limit": 10}).json()["items"]
    }
    assert flags == {True, False}
    r = client.get(f"/api/faces/{obama}/similar", params={"min_score": same}).json()
    assert len(r["items"]) == 2

    g = client.get(f"/api/faces/{obama}/graph").json()
    node_ids = {n["id"] for n in g["nodes"]}
    assert obama in node_ids and ids["obama2.jpg"]["face_id"] in node_ids
    assert all(e["score"] >= g["min_score"] for e in g["edges"])
    assert all({"id", "portrait_url", "gender", "label"} <= set(n) for n in g["nodes"])

    before = counts(ctx)
    r = client.post(
        "/api/lookalikes", files={"file": ("x.jpg", photos["obama2.jpg"], "image/jpeg")}
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["items"][0]["face"]["face_id"] == ids["obama2.jpg"]["face_id"]
    )  # itself, stored earlier
    assert counts(ctx) == before
    face = client.get(f"/api/faces/{obama}").json()
    assert face["photo"]["photo_id"] == face["photo_id"]


def test_admin_embedding_export(client: TestClient, ctx: Context, photos: dict[str, bytes]) -> None:
    face = next(f for f in upload(client, photos["obama.jpg"]).json()["faces"] if f["accepted"])
    url = f"/api/admin/faces/{face['face_id']}/embedding"
    assert client.get(url).json()["error"]["code"] == "forbidden"
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    r = client.get(url, headers={"Authorization": f"Bearer {ADMIN}"}).json()
    assert r["engine"] == "dlib" and len(r["embedding"]) == 128


def test_operations_and_cors(
    client: TestClient, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/docs").status_code == 200
    r = client.options(
        "/api/photos",
        headers={
            "Origin": "http://site.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "hx-request,x-huchu-owner",
        },
    )
    assert (
        r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://site.example"
    )
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "hx-request" in allowed and "x-huchu-owner" in allowed

    def down() -> None:
        from huchu.errors import Unavailable

        raise Unavailable("vector store is down")

    monkeypatch.setattr(ctx.vectors, "ping", down)
    r = client.get("/readyz")
    assert r.status_code == 503 and "vectors" in r.json()["missing"][0]
