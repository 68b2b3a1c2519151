"""Anonymous owner tokens: the participant holds the token, we keep only its hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(f"huchu-owner:{token}".encode()).hexdigest()


def owns(token: str | None, owner_hash: str | None) -> bool:
    if not token or not owner_hash:
        return False
    return hmac.compare_digest(hash_token(token), owner_hash)
