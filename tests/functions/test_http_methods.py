"""Under ``huchu serve`` (the site at ``/``): a wrong method is 405 with the right Allow, and
the OpenAPI states what the server enforces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontend.build import build_site
from huchu.inference.local import LocalInference
from huchu.schemas import IMAGE_TYPES
from tests.functions.served import embedded, like_huchu_serve


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site") / "site")


@pytest.fixture
def served(tmp_path: Path, inference: LocalInference, site: Path) -> Iterator[str]:
    with embedded(tmp_path, inference, site) as app, like_huchu_serve(app) as url:
        yield url


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/engine", {"GET"}),
        ("GET", "/api/lookalikes", {"POST"}),
        ("GET", "/api/uploads", {"POST"}),
        ("GET", "/api/uploads/x/process", {"POST"}),
        ("PATCH", "/api/photos/x", {"GET", "DELETE"}),
        ("POST", "/api/averages", {"GET"}),
        ("POST", "/healthz", {"GET"}),
        ("POST", "/index.html", {"GET", "HEAD"}),
        ("DELETE", "/en/", {"GET", "HEAD"}),
    ],
)
def test_a_wrong_method_is_405_with_what_is_allowed(
    served: str, method: str, path: str, allowed: set[str]
) -> None:
    answer = httpx.request(method, served + path)
    assert answer.status_code == 405, answer.text
    assert answer.json()["error"]["code"] == "method_not_allowed"
    listed = {m.strip() for m in answer.headers["allow"].split(",")}
    assert method not in listed and allowed <= listed, listed


def test_the_site_and_unknown_api_paths_still_answer(served: str) -> None:
    assert httpx.get(served + "/").status_code == 200
    assert httpx.get(served + "/en/index.html").status_code == 200
    assert httpx.get(served + "/en", follow_redirects=True).status_code == 200
    assert httpx.head(served + "/index.html").status_code == 200
    missing = httpx.get(served + "/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_openapi_states_the_enforced_constraints(served: str) -> None:
    schema: dict[str, Any] = httpx.get(served + "/openapi.json").json()
    start = schema["components"]["schemas"]["UploadStart"]["properties"]
    assert set(start["content_type"]["enum"]) == IMAGE_TYPES
    assert start["size"]["maximum"] == 10 * 1024 * 1024 and start["size"]["minimum"] == 1
    op = schema["paths"]["/api/uploads/{upload_id}/process"]["post"]
    ref = next(iter(op["requestBody"]["content"].values()))["schema"]["$ref"]
    form = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert "consent" in form["required"] and form["properties"]["consent"]["pattern"]
    assert form["properties"]["title"]["anyOf"][0]["maxLength"] == 100
