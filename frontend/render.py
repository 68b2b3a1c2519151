"""One Jinja environment for the static build and for the API's htmx fragments."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"

MESSAGES = {
    "ko": {
        "bad_request": "요청을 확인해 주세요.",
        "too_large": "사진이 너무 큽니다 (최대 10MB).",
        "unsupported_media_type": "이미지 파일이 아닙니다.",
        "no_face": "얼굴을 찾지 못했어요. 얼굴이 잘 보이는 사진을 올려 주세요.",
        "rate_limited": "잠시 후 다시 시도해 주세요.",
        "unavailable": "서비스가 잠시 응답하지 않습니다. 아무것도 저장되지 않았어요.",
        "not_found": "찾을 수 없습니다.",
        "no_path": "두 얼굴을 잇는 닮은꼴 사슬이 없어요.",
        "forbidden": "권한이 없습니다.",
        "unauthorized": "로그인이 필요합니다.",
        "internal": "문제가 발생했습니다.",
    },
    "en": {
        "bad_request": "Please check your request.",
        "too_large": "The photo is too large (10 MB at most).",
        "unsupported_media_type": "That file is not an image.",
        "no_face": "No face found. Try a photo where your face is clearly visible.",
        "rate_limited": "Too many tries; please wait a minute.",
        "unavailable": "The service is briefly unavailable. Nothing was stored.",
        "not_found": "Not found.",
        "no_path": "No chain of look-alikes joins these two faces.",
        "forbidden": "You are not allowed to do that.",
        "unauthorized": "Sign-in required.",
        "internal": "Something went wrong.",
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
    return env
