"""Client-visible failures: one exception type per contract error code."""

from __future__ import annotations


class HuchuError(Exception):
    """Base of every failure that maps to a contract error code."""

    code = "internal"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, dict[str, str]]:
        return error_body(self.code, self.message)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The contract's one error shape: ``{"error": {"code", "message"}}``."""
    return {"error": {"code": code, "message": message}}


class BadRequest(HuchuError):
    code = "bad_request"
    status = 400


class Forbidden(HuchuError):
    code = "forbidden"
    status = 403


class NotFound(HuchuError):
    code = "not_found"
    status = 404


class NoPath(NotFound):
    """No chain of look-alike links joins two faces."""

    code = "no_path"


class TooLarge(HuchuError):
    code = "too_large"
    status = 413


class LengthRequired(HuchuError):
    code = "length_required"
    status = 411


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


class MethodNotAllowed(HuchuError):
    code = "method_not_allowed"
    status = 405


def error_type(code: str) -> type[HuchuError] | None:
    """The exception class of a contract code (inference errors cross HTTP as codes)."""
    stack: list[type[HuchuError]] = [HuchuError]
    while stack:
        cls = stack.pop()
        if cls.code == code:
            return cls
        stack.extend(cls.__subclasses__())
    return None


class CliError(Exception):
    """A one-line message for the command-line user, exit status 2."""


class EventClosed(HuchuError):
    code = "event_closed"
    status = 403
