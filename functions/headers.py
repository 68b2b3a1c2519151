"""Security headers on every answer: the pages' Content-Security-Policy, no framing, no sniffing."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from huchu.config import Settings

# An answer that is not a page (JSON, an image, a fragment fetched by htmx) runs nothing.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# FastAPI's /docs and /redoc: the UI's files from its CDN and one inline script of its own.
CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {CDN}; style-src 'self' 'unsafe-inline'"
    f" {CDN} https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com;"
    " img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; worker-src blob:;"
    " object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def page_policy(extra_origins: Iterable[str] = ()) -> str:
    """The pages' policy: their own scripts and styles only, nothing inline, never framed.

    ``extra_origins`` are where pictures and direct uploads live when that is not the page's
    own origin (an S3 endpoint, ``HUCHU_PUBLIC_BASE_URL``).
    """
    extra = "".join(f" {o}" for o in dict.fromkeys(extra_origins))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{extra}",
            f"connect-src 'self'{extra}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an absolute URL, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def file_origins(settings: Settings) -> list[str]:
    """Origins other than the page's from which the browser loads pictures or PUTs uploads."""
    urls: list[str | None] = [settings.public_base_url]
    if settings.uses_s3:
        urls.append(settings.s3_public_endpoint or settings.s3_endpoint)
    return [o for o in map(origin, urls) if o]


class SecurityHeaders:
    """Adds the headers to each answer that does not set them itself."""

    def __init__(self, app: ASGIApp, page_csp: str) -> None:
        self.app = app
        self.page_csp = page_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        docs = scope["path"] in DOCS_PATHS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A 304 has no type, and the browser takes its headers onto the cached page.
                page = message["status"] == 304 or headers.get("content-type", "").startswith(
                    "text/html"
                )
                policy = DOCS_POLICY if docs else self.page_csp if page else API_POLICY
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, with_headers)


def page_csp(settings: Settings) -> str:
    """The pages' policy for an app on ``settings``."""
    return page_policy(file_origins(settings))
