"""The rate limit: Retry-After, X-Forwarded-For only from trusted proxies, bounded memory."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from functions.ratelimit import MAX_CLIENTS, RateLimiter, Throttled, client_address, parse_networks
from huchu.inference.local import LocalInference
from tests.functions.served import embedded, like_huchu_serve

NOT_A_PHOTO = os.urandom(2048)


def test_429_carries_retry_after(tmp_path: Path, inference: LocalInference) -> None:
    with embedded(tmp_path, inference, rate_limit_per_minute=2) as app, TestClient(app) as client:
        codes = [
            client.post("/api/lookalikes", files={"file": ("x.jpg", NOT_A_PHOTO, "image/jpeg")})
            for _ in range(3)
        ]
        assert [r.status_code for r in codes] == [415, 415, 429]
        assert codes[2].json()["error"]["code"] == "rate_limited"
        assert 1 <= int(codes[2].headers["Retry-After"]) <= 60
        r = client.post(
            "/api/photos",
            files={"file": ("x.jpg", NOT_A_PHOTO, "image/jpeg")},
            data={"consent": "true"},
            headers={"HX-Request": "true"},
        )
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60


def post_from(url: str, forwarded_for: str) -> int:
    files = {"file": ("x.jpg", NOT_A_PHOTO, "image/jpeg")}
    r = httpx.post(f"{url}/api/lookalikes", files=files, headers={"X-Forwarded-For": forwarded_for})
    return r.status_code


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    tmp_path: Path, inference: LocalInference
) -> None:
    # An untrusted peer (the loopback is not listed) rotating X-Forwarded-For: one budget.
    with (
        embedded(tmp_path / "open", inference, rate_limit_per_minute=3) as app,
        like_huchu_serve(app) as url,
    ):
        codes = [post_from(url, f"198.51.100.{i}") for i in range(5)]
    assert codes == [415, 415, 415, 429, 429]
    # Behind a trusted proxy: each forwarded client has its own budget; what a client puts
    # left of the proxy's entry is not believed.
    with (
        embedded(
            tmp_path / "proxied", inference, rate_limit_per_minute=2, trusted_proxies="127.0.0.0/8"
        ) as app,
        like_huchu_serve(app) as url,
    ):
        a = [post_from(url, f"{i}.1.1.1, 203.0.113.7") for i in range(3)]
        b = [post_from(url, "203.0.113.8") for _ in range(2)]
    assert a == [415, 415, 429] and b == [415, 415]


def test_client_address_reads_the_chain_from_the_right() -> None:
    proxies = parse_networks("10.0.0.0/8, 192.0.2.1")
    assert client_address("192.0.2.9", "203.0.113.1", proxies) == "192.0.2.9"
    assert client_address("192.0.2.1", "203.0.113.1", proxies) == "203.0.113.1"
    assert client_address("10.1.2.3", "6.6.6.6, 203.0.113.1, 10.9.9.9", proxies) == "203.0.113.1"
    assert client_address("10.1.2.3", "10.0.0.5, 10.0.0.6", proxies) == "10.0.0.5"
    assert client_address("10.1.2.3", None, proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", "203.0.113.1", parse_networks(None)) == "10.1.2.3"
    with pytest.raises(ValueError, match="HUCHU_TRUSTED_PROXIES"):
        parse_networks("10.0.0.0/8, not-an-address")


def test_rate_limiter_memory_is_bounded() -> None:
    clock = [0.0]
    limiter = RateLimiter(per_minute=5, clock=lambda: clock[0])
    for i in range(20_000):
        limiter.hit(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}")
        clock[0] += 0.001  # 20,000 addresses within one window
        assert len(limiter.seen) <= MAX_CLIENTS
    assert len(limiter.seen) == MAX_CLIENTS
    clock[0] += 61
    limiter.hit("192.0.2.1")
    assert list(limiter.seen) == ["192.0.2.1"]  # idle clients are forgotten
    for _ in range(4):  # the hit above was the first of five
        limiter.hit("192.0.2.1")
        clock[0] += 1
    with pytest.raises(Throttled) as refused:
        limiter.hit("192.0.2.1")
    assert refused.value.retry_after == 56 and refused.value.status == 429
