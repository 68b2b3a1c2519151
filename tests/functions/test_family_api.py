"""The look-alike graph over HTTP: hidden families, chains of look-alikes, deletes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from huchu.context import Context
from tests.functions.conftest import ADMIN, upload

ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def _main_faces(
    client: TestClient, photos: dict[str, bytes], names: tuple[str, ...]
) -> dict[str, dict[str, str]]:
    out = {}
    for name in names:
        body = upload(client, photos[name]).json()
        face = max(
            (f for f in body["faces"] if f["accepted"]), key=lambda f: f["bbox"][2] - f["bbox"][0]
        )
        out[name] = {
            "face": face["face_id"],
            "photo": body["photo_id"],
            "owner": body["owner_token"],
        }
    return out


def test_family_path_and_delete(client: TestClient, ctx: Context, photos: dict[str, bytes]) -> None:
    ids = _main_faces(
        client, photos, ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "t1.jpg")
    )
    obama, obama2, obama3 = (ids[n]["face"] for n in ("obama.jpg", "obama2.jpg", "obama3.jpg"))
    r = client.post("/api/averages/recompute", headers=ADMIN_HEADERS)
    assert r.status_code == 200, r.text

    fam = client.get(f"/api/faces/{obama}/family").json()
    members = {f["face_id"] for f in fam["items"]}
    assert fam["face_id"] == obama and obama not in members
    assert {obama2, obama3} <= members
    assert ids["biden.jpg"]["face"] not in members
    assert all({"face_id", "photo_id", "portrait_url", "gender"} <= set(f) for f in fam["items"])

    chain = client.get(f"/api/faces/{obama}/path/{obama3}").json()
    assert [f["face_id"] for f in chain["items"]] == [obama, obama3]  # one link
    assert len(chain["scores"]) == 1 and chain["scores"][0] > 0

    far = client.get(f"/api/faces/{obama}/path/{ids['biden.jpg']['face']}")
    assert far.status_code == 404 and far.json()["error"]["code"] == "no_path"
    assert client.get(f"/api/faces/{obama}/path/nope").json()["error"]["code"] == "not_found"
    assert client.get("/api/faces/nope/family").json()["error"]["code"] == "not_found"

    html = client.get(f"/api/faces/{obama}/family", headers={"HX-Request": "true"})
    assert html.status_code == 200 and obama2 in html.text and "<ol" in html.text
    html = client.get(f"/api/faces/{obama}/path/{obama3}", headers={"HX-Request": "true"})
    assert html.status_code == 200 and 'data-links="1"' in html.text

    g = client.get(f"/api/faces/{obama}/graph").json()
    assert obama2 in {n["id"] for n in g["nodes"]}
    event = client.get("/api/graph").json()
    assert len(event["nodes"]) == ctx.vectors.count(ctx.faces, {})  # every face of the event
    assert any({obama, obama2, obama3} <= set(c["members"]) for c in event["clusters"])
    xml = client.get("/api/graph", params={"format": "graphml"})
    assert xml.status_code == 200 and obama2.encode() in xml.content

    # Deleting a photo takes its face out of the graph, links included.
    gone = client.delete(
        f"/api/photos/{ids['obama2.jpg']['photo']}",
        headers={"X-Huchu-Owner": ids["obama2.jpg"]["owner"]},
    )
    assert gone.status_code == 204
    assert obama2 not in {
        f["face_id"] for f in client.get(f"/api/faces/{obama}/family").json()["items"]
    }
    event = client.get("/api/graph").json()
    assert obama2 not in {n["id"] for n in event["nodes"]}
    assert all(obama2 not in (e["source"], e["target"]) for e in event["edges"])
    assert client.get(f"/api/faces/{obama}/path/{obama3}").status_code == 200


def test_no_answer_names_a_deleted_face(
    client: TestClient, ctx: Context, photos: dict[str, bytes]
) -> None:
    """Families are labelled by no member: right after a delete (no recompute in between)
    the other faces' answers carry no id of the deleted face."""
    ids = _main_faces(client, photos, ("obama.jpg", "obama2.jpg", "obama3.jpg"))
    first = ids["obama.jpg"]
    for other in ("obama2.jpg", "obama3.jpg"):  # joined the first face's family on upload
        fam = client.get(f"/api/faces/{ids[other]['face']}/family").json()
        assert first["face"] in {f["face_id"] for f in fam["items"]}
    gone = client.delete(f"/api/photos/{first['photo']}", headers={"X-Huchu-Owner": first["owner"]})
    assert gone.status_code == 204
    for other in ("obama2.jpg", "obama3.jpg"):
        face = ids[other]["face"]
        for route in ("family", "graph", f"path/{ids['obama3.jpg']['face']}"):
            r = client.get(f"/api/faces/{face}/{route}")
            assert r.status_code == 200, (route, r.text)
            assert first["face"] not in r.text and first["photo"] not in r.text, route
    event = client.get("/api/graph")
    assert first["face"] not in event.text and first["photo"] not in event.text
