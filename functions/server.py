"""uvicorn for the embedded app, with its protocol-level refusals in the contract's error body.

A request uvicorn cannot parse (a malformed line, a URL past httptools' 64 KiB, headers past
h11's buffer) never reaches the app: uvicorn answers a plain-text 400 itself. These protocol
classes answer the same 400 as ``{"error": {"code": "bad_request", ...}}``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from functions.app import unframed
from huchu.errors import error_body

UNREADABLE = "the request could not be read: malformed, or its line or headers are too long"
# h11 buffers a request line and headers up to this size (its default is 16 KiB); httptools
# takes URLs up to 64 KiB, so both servers let ids that long reach the app and get its 404.
MAX_HEAD_BYTES = 96 * 1024


def _json_400() -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps(error_body("bad_request", UNREADABLE)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-content-type-options", b"nosniff"),
    ]
    return headers, body


class JsonH11Protocol(H11Protocol):
    """h11, answering an unreadable request with the JSON error body."""

    def send_400_response(self, msg: str) -> None:
        headers, body = _json_400()
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


def _httptools_protocol() -> type[asyncio.Protocol] | None:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is optional; uvicorn then runs h11
        return None

    class JsonHttpToolsProtocol(HttpToolsProtocol):
        """httptools, answering an unreadable request with the JSON error body."""

        unframed = False

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self.unframed = self.scope["method"] in ("POST", "PUT") and unframed(
                dict(self.scope["headers"])
            )

        def send_400_response(self, msg: str) -> None:
            if self.unframed and self.cycle is not None and not self.cycle.response_complete:
                # What failed to parse is the unframed body, sent after its headers: the app
                # answers that request 411 and closes the connection; no 400 may go first.
                self.flow.pause_reading()
                return
            headers, body = _json_400()
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            for name, value in [*self.server_state.default_headers, *headers]:
                head += [name, b": ", value, b"\r\n"]
            self.transport.write(b"".join([*head, b"\r\n", body]))
            self.transport.close()

    return JsonHttpToolsProtocol


def protocol(http: str = "auto") -> type[asyncio.Protocol]:
    """The JSON-refusing protocol for ``http`` (``auto``: httptools when installed, else h11)."""
    if http in ("auto", "httptools"):
        found = _httptools_protocol()
        if found is not None:
            return found
        if http == "httptools":
            raise RuntimeError("httptools is not installed")
    return JsonH11Protocol


def config(app: Any, host: str, port: int, http: str = "auto", **options: Any) -> uvicorn.Config:
    """The uvicorn configuration ``huchu serve`` runs (tests serve the app with it too)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol(http),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 and rewrite the client;
        # Huchu decides whom to believe itself (HUCHU_TRUSTED_PROXIES, functions/ratelimit.py).
        proxy_headers=False,
        **options,
    )
