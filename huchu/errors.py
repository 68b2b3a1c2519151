"""Client-visible failures: one exception type per contract error code."""

from __future__ import annotations


class HuchuError(Exception):
    """Base of every failure that maps to a contract error code."""

    code = "internal"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(HuchuError):
    code = "bad_request"
    status = 400


class Forbidden(HuchuError):
    code = "forbidden"
    status = 403


class NotFound(HuchuError):
    code = "not_found"
    status = 404


class TooLarge(HuchuError):
    code = "too_large"
    status = 413


class UnsupportedMedia(HuchuError):
    code = "unsupported_media_type"
    status = 415


class NoFace(HuchuError):
    code = "no_face"
    status = 422


class RateLimited(HuchuError):
    code = "rate_limited"
    status = 429


class Unavailable(HuchuError):
    code = "unavailable"
    status = 503


class Unauthorized(HuchuError):
    code = "unauthorized"
    status = 401


class CliError(Exception):
    """A one-line message for the command-line user, exit status 2."""
