"""Anonymous owner tokens: the participant holds the token, we keep only its hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

# What the server issues: URL-safe base64 of random bytes. 22 characters carry at least
# 128 bits, so anything shorter (or of other characters) was not issued by us.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{22,128}$"
_TOKEN_RE = re.compile(TOKEN_PATTERN[1:-1])
TOKEN_BYTES = 24  # 192 random bits, 32 characters


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_token(value: str) -> bool:
    """Whether ``value`` has the form of a token we issue (the whole string)."""
    return _TOKEN_RE.fullmatch(value) is not None


def hash_token(token: str) -> str:
    return hashlib.sha256(f"huchu-owner:{token}".encode()).hexdigest()


def owns(token: str | None, owner_hash: str | None) -> bool:
    if not token or not owner_hash:
        return False
    return hmac.compare_digest(hash_token(token), owner_hash)
