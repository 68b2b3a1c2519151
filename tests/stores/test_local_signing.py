"""Signed PUT links of the local store: the API takes exactly what was signed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from huchu.errors import NotFound
from huchu.stores.objects import LocalObjectStore, UrlSigner


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_signed_put_covers_key_type_size_and_expiry(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, UrlSigner(b"k" * 32, "http://api.example"))
    put = store.upload_url("staging/u1", "image/jpeg", 1234, expires=600)
    assert put.url.startswith("http://api.example/files/staging/u1?")
    assert put.headers == {"Content-Type": "image/jpeg"}
    q = query(put.url)
    exp, sig = int(q["exp"]), q["sig"]
    assert exp == put.expires
    signer = store.signer
    assert signer.verify_put("staging/u1", exp, sig, "image/jpeg", 1234)
    assert not signer.verify_put("staging/u1", exp, sig, "image/jpeg", 1235)
    assert not signer.verify_put("staging/u1", exp, sig, "image/png", 1234)
    assert not signer.verify_put("staging/u2", exp, sig, "image/jpeg", 1234)
    assert not signer.verify_put("staging/u1", exp + 600, sig, "image/jpeg", 1234)
    assert not signer.verify("staging/u1", exp, sig)  # a PUT signature is not a GET link
    other = UrlSigner(b"x" * 32)
    assert not other.verify_put("staging/u1", exp, sig, "image/jpeg", 1234)


def test_expired_put_is_refused(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, UrlSigner(b"k" * 32))
    put = store.upload_url("staging/u1", "image/jpeg", 10, expires=-1)
    q = query(put.url)
    assert not store.signer.verify_put("staging/u1", int(q["exp"]), q["sig"], "image/jpeg", 10)


def test_keys_outside_the_store_are_not_signed(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects", UrlSigner(b"k" * 32))
    with pytest.raises(NotFound):
        store.upload_url("../escape", "image/jpeg", 10)
