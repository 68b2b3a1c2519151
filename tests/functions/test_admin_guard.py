"""The admin token: a weak one is refused at start, and a guesser is slowed to a crawl."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from huchu.config import Settings
from huchu.inference.local import LocalInference
from tests.commandline import huchu
from tests.functions.conftest import ADMIN
from tests.functions.served import embedded


@pytest.mark.parametrize(
    "weak", ["abc", "0123456789", "aaaaaaaaaaaaaaaaaaaaaaaa", "abababab12121212"]
)
def test_a_weak_admin_token_is_refused(weak: str) -> None:
    with pytest.raises(ValidationError, match="HUCHU_ADMIN_TOKEN is too weak"):
        Settings(admin_token=weak)


@pytest.mark.parametrize("fine", [None, "", secrets.token_urlsafe(32), "9f3a7c01d2e4b685", ADMIN])
def test_a_random_admin_token_or_none_is_taken(fine: str | None) -> None:
    assert Settings(admin_token=fine).admin_token == fine


def test_huchu_serve_refuses_to_start_with_a_weak_token(tmp_path: Path) -> None:
    out = huchu(
        *("serve", "--port", "0", "--data-dir", str(tmp_path / "data")),
        env={"HUCHU_ADMIN_TOKEN": "abc"},
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "HUCHU_ADMIN_TOKEN" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "data").exists()


def test_wrong_admin_tokens_are_throttled(tmp_path: Path, inference: LocalInference) -> None:
    url = "/api/admin/faces/nope/embedding"
    with (
        embedded(tmp_path, inference, admin_failures_per_minute=3) as app,
        TestClient(app) as client,
    ):
        wrong = [client.get(url, headers={"Authorization": f"Bearer guess-{i}"}) for i in range(4)]
        assert [r.status_code for r in wrong] == [403, 403, 403, 429]
        assert wrong[3].json()["error"]["code"] == "rate_limited"
        assert 1 <= int(wrong[3].headers["Retry-After"]) <= 60
        # While it waits, even the right token is not compared: a guess that hit stays unknown.
        right = client.get(url, headers={"Authorization": f"Bearer {ADMIN}"})
        assert right.status_code == 429
        # A delete that tries the admin's power is a guess too.
        delete = client.delete("/api/photos/nope", headers={"Authorization": "Bearer guess"})
        assert delete.status_code == 429
        # Calls that send no token are not anyone's guess.
        assert client.get("/api/engine").status_code == 200


def test_the_right_token_is_never_counted(tmp_path: Path, inference: LocalInference) -> None:
    url = "/api/admin/faces/nope/embedding"
    with (
        embedded(tmp_path, inference, admin_failures_per_minute=2) as app,
        TestClient(app) as client,
    ):
        codes = [
            client.get(url, headers={"Authorization": f"Bearer {ADMIN}"}).status_code
            for _ in range(5)
        ]
        assert codes == [404] * 5
