"""Behind CloudFront, a function answers only requests that came through it: calling API
Gateway's own address would go around the web ACL's per-client limits."""

from __future__ import annotations

from fastapi.testclient import TestClient

from functions.catalog import create_app
from huchu.context import Context

SECRET = "cloudfront-origin-header-value-7f3a91c2e4b6d8f0"


def test_requests_without_the_origin_header_are_refused(ctx: Context) -> None:
    settings = ctx.settings.model_copy(update={"origin_secret": SECRET})
    app = create_app(settings)
    app.state.context = ctx
    with TestClient(app) as client:
        refused = client.get("/api/engine")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        wrong = client.get("/api/engine", headers={"X-Huchu-Origin": SECRET[:-1] + "x"})
        assert wrong.status_code == 403
        fragment = client.get("/api/engine", headers={"HX-Request": "true"})
        assert fragment.status_code == 403 and "<" in fragment.text
        assert client.get("/api/engine", headers={"X-Huchu-Origin": SECRET}).status_code == 200
    # Without the setting (the embedded server), nothing changes.
    plain = create_app(ctx.settings)
    plain.state.context = ctx
    with TestClient(plain) as client:
        assert client.get("/api/engine").status_code == 200
