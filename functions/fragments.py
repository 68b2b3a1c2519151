"""htmx answers: the same Jinja templates as the static site, rendered as fragments."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment
from pydantic import BaseModel


@lru_cache(maxsize=1)
def env() -> Environment:
    from frontend.render import environment

    return environment()


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def lang(request: Request) -> str:
    value = request.headers.get("x-huchu-lang") or request.query_params.get("lang") or "ko"
    return "en" if value.startswith("en") else "ko"


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    html = env().get_template(template).render(**context, lang=lang(request))
    return HTMLResponse(html, status_code=status)


def htmx(
    request: Request,
    template: str,
    name: str,
    body: BaseModel,
    status: int = 200,
    exclude: set[str] | None = None,
    **extra: Any,
) -> Response:
    """The model as JSON, or (for htmx) the template with the same JSON under ``name``."""
    data = body.model_dump(mode="json", exclude=exclude)
    if is_htmx(request):
        return render(request, template, {name: data, **extra}, status)
    return JSONResponse(data, status_code=status)


def error_fragment(request: Request, status: int, code: str, message: str) -> Response:
    # htmx swaps only 2xx by default; the page's error hook reads these.
    resp = render(request, "fragments/error.html", {"code": code, "message": message}, status)
    resp.headers["HX-Retarget"] = "#messages"
    resp.headers["HX-Reswap"] = "innerHTML"
    return resp
