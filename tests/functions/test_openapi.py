"""OpenAPI describes what the code does: models, error statuses, request constraints."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.embedded import create_embedded_app
from huchu.config import EVENT_PATTERN, MAX_PAGE
from huchu.context import Context

JSON = "application/json"
# Statuses a route answers beyond 500/503, by (method, path); checked both ways below.
ERRORS = {
    ("POST", "/api/photos"): {400, 403, 404, 413, 415, 422, 429},
    ("POST", "/api/uploads"): {400, 403, 404, 413, 415, 429},
    ("POST", "/api/uploads/{upload_id}/process"): {400, 403, 404, 413, 415, 422, 429},
    ("DELETE", "/api/photos/{photo_id}"): {400, 403, 404, 429},
    ("GET", "/api/photos"): {400, 404},
    ("GET", "/api/photos/{photo_id}"): {404},
    ("GET", "/api/faces"): {400, 404},
    ("GET", "/api/faces/{face_id}"): {404},
    ("GET", "/api/faces/{face_id}/similar"): {400, 404},
    ("GET", "/api/faces/{face_id}/graph"): {400, 404},
    ("GET", "/api/faces/{face_id}/family"): {400, 404},
    ("GET", "/api/faces/{face_id}/path/{other_id}"): {400, 404},
    ("POST", "/api/lookalikes"): {400, 404, 413, 415, 422, 429},
    ("GET", "/api/engine"): set(),
    ("GET", "/api/averages"): {400, 404},
    ("GET", "/api/averages/history"): {400, 404},
    ("GET", "/api/leaderboard"): {400, 404},
    ("GET", "/api/graph"): {400, 404},
    ("POST", "/api/averages/recompute"): {400, 403, 404, 429},
    ("GET", "/api/events/{event}"): {400, 404},
    ("PUT", "/api/events/{event}"): {400, 403, 429},
    ("GET", "/api/events/{event}/qr.svg"): {400, 404},
    ("GET", "/api/faces/{face_id}/card.png"): {400, 404, 429},
    ("GET", "/api/faces/{face_id}/card.jpg"): {400, 404, 429},
    ("GET", "/api/faces/{face_id}/standing"): {400, 404},
    ("GET", "/api/admin/faces/{face_id}/embedding"): {403, 404, 429},
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from functions.wiring import build_context
    from huchu.config import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("openapi"), engine="dlib")
    ctx = build_context(settings)
    body: dict[str, Any] = create_embedded_app(ctx, scheduler=False).openapi()
    ctx.close()
    return body


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if path.startswith("/api/")
    ]


def ref_name(content: dict[str, Any]) -> str:
    ref: str = content.get(JSON, {}).get("schema", {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1]


def test_every_route_is_listed(schema: dict[str, Any]) -> None:
    listed = {(m, p) for m, p, _ in operations(schema)}
    assert listed == set(ERRORS)


def test_success_answers_are_named_models(schema: dict[str, Any]) -> None:
    for method, path, op in operations(schema):
        ok = [s for s in op["responses"] if s.startswith("2")]
        assert len(ok) == 1, (method, path, ok)
        answer = op["responses"][ok[0]]
        if ok[0] == "204":
            continue
        media = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg"}
        suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
        if suffix in media:  # pictures: their media type, not a model
            assert set(answer["content"]) == {media[suffix]}
            continue
        name = ref_name(answer.get("content", {}))
        assert name and name in schema["components"]["schemas"], (method, path, answer)


def test_error_statuses_carry_the_error_model(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    for method, path, op in operations(schema):
        declared = {int(s) for s in op["responses"] if not s.startswith("2")}
        assert declared == ERRORS[(method, path)] | {500, 503}, (method, path)
        for status in declared:
            assert ref_name(op["responses"][str(status)]["content"]) == "ErrorBody"
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_constraints_are_in_the_schema(schema: dict[str, Any]) -> None:
    seen = {"event": 0, "limit": 0, "enum": 0}
    for _, path, op in operations(schema):
        for param in op.get("parameters", []):
            s = param["schema"]
            options = s.get("anyOf", [s])
            if param["name"] == "event":
                assert options[0]["pattern"] == EVENT_PATTERN, path
                seen["event"] += 1
            if param["name"] == "limit":
                assert (s["minimum"], s["maximum"]) == (1, MAX_PAGE), path
                seen["limit"] += 1
            if param["name"] in ("gender", "cohort", "format"):
                assert any("enum" in o for o in options), (path, param)
                seen["enum"] += 1
    assert seen["event"] >= 7 and seen["limit"] >= 5 and seen["enum"] >= 4
    form = schema["components"]["schemas"]["Body_create_photo_api_photos_post"]["properties"]
    assert form["event"]["pattern"] == EVENT_PATTERN
    assert form["title"]["anyOf"][0]["maxLength"] == 100


def test_documented_constraints_are_enforced(client: TestClient, ctx: Context) -> None:
    """What the schema refuses, the code refuses with the contract's 400 (and vice versa)."""
    for params in (
        {"event": "Party"},
        {"event": "party2\n"},
        {"event": "a" * 41},
        {"limit": 0},
        {"limit": MAX_PAGE + 1},
        {"gender": "other"},
    ):
        r = client.get("/api/faces", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["code"] == "bad_request"
    # A valid slug passes validation; an event nobody set up is then not found.
    longest = client.get("/api/faces", params={"event": "a" * 40, "limit": MAX_PAGE})
    assert longest.status_code == 404 and longest.json()["error"]["code"] == "not_found"
    assert client.get("/api/leaderboard", params={"cohort": "both"}).status_code == 400
    assert client.get("/api/graph", params={"format": "csv"}).status_code == 400
