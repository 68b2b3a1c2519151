"""One Jinja environment for the static build and for the API's htmx fragments."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

MESSAGES = {
    "ko": {
        "bad_request": "요청을 확인해 주세요.",
        "too_large": "사진이 너무 큽니다 (최대 10MB).",
        "unsupported_media_type": "이미지 파일이 아닙니다.",
        "no_face": "얼굴을 찾지 못했어요. 얼굴이 잘 보이는 사진을 올려 주세요.",
        "rate_limited": "잠시 후 다시 시도해 주세요.",
        "unavailable": "서비스가 잠시 응답하지 않습니다. 아무것도 저장되지 않았어요.",
        "not_found": "찾을 수 없습니다.",
        "forbidden": "권한이 없습니다.",
        "unauthorized": "로그인이 필요합니다.",
        "internal": "문제가 발생했습니다.",
        "event_closed": "이 행사는 사진 접수를 마감했어요.",
        "no_path": "이어지는 닮은꼴이 없어요.",
        "method_not_allowed": "할 수 없는 요청입니다.",
    },
    "en": {
        "bad_request": "Please check your request.",
        "too_large": "The photo is too large (10 MB at most).",
        "unsupported_media_type": "That file is not an image.",
        "no_face": "No face found. Try a photo where your face is clearly visible.",
        "rate_limited": "Too many tries; please wait a minute.",
        "unavailable": "The service is briefly unavailable. Nothing was stored.",
        "not_found": "Not found.",
        "forbidden": "You are not allowed to do that.",
        "unauthorized": "Sign-in required.",
        "internal": "Something went wrong.",
        "event_closed": "This event no longer takes photos.",
        "no_path": "No chain of look-alikes joins these faces.",
        "method_not_allowed": "That request is not allowed.",
    },
}


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["messages"] = MESSAGES
    env.globals["icon"] = icon
    env.globals["asset"] = asset
    from frontend.i18n import TEXT

    env.globals["texts"] = TEXT
    return env


# Inline SVG icons: no emoji font needed, no extra request.
ICONS = {
    "crown": "M3 18h18l-1.5-10-4.5 4-3-7-3 7-4.5-4z",
    "trash": "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13M10 11v6M14 11v6",
    "share": "M12 3v12M7 8l5-5 5 5M5 13v7h14v-7",
    "download": "M12 3v12M7 10l5 5 5-5M5 21h14",
}


def icon(name: str, label: str = "") -> Markup:
    """An inline SVG icon; decorative unless given a label."""
    fill = "currentColor" if name == "crown" else "none"
    aria = f' role="img" aria-label="{escape(label)}"' if label else ' aria-hidden="true"'
    return Markup(
        f'<svg class="icon" viewBox="0 0 24 24" width="24" height="24"{aria} fill="{fill}" '
        f'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">'
        f'<path d="{ICONS[name]}"/></svg>'
    )


def asset(name: str) -> str:
    """A static file's URL with its content hash, so it can be cached for a year."""
    return f"static/{name}?v={_digest(name)}"


@lru_cache(maxsize=64)
def _digest(name: str) -> str:
    import hashlib

    from frontend.build import HERE, VENDOR

    vendor = VENDOR.get(name.removeprefix("vendor/"))
    path = HERE / vendor if name.startswith("vendor/") and vendor else STATIC / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"
