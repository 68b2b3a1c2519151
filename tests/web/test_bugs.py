"""Each bug found by trying the page as a participant and an organiser, as its own test."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.functions.conftest import ADMIN
from tests.web.checks import EMOJI, check, csp_violations
from tests.web.conftest import Live, shot

TIMEOUT = 60_000
AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def fresh(browser: Any) -> Iterator[Any]:
    """A first-time visitor on a phone (no owner token), failing on any JS error."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    refused = csp_violations(page)
    yield page
    context.close()
    assert not refused, refused
    assert not errors, errors


def event(live: Live, slug: str) -> str:
    assert httpx.put(f"{live.api}/api/events/{slug}", json={"name": slug}, headers=AUTH).is_success
    return slug


def photo_file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def photos_of(live: Live, slug: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = httpx.get(
        f"{live.api}/api/photos", params={"event": slug}
    ).json()["items"]
    return items


def test_double_tap_uploads_once(
    fresh: Any, live: Live, photos: dict[str, bytes], tmp_path: Path
) -> None:
    slug = event(live, "double-tap")
    fresh.goto(f"{live.url}/index.html?event={slug}")
    fresh.check("#consent")
    fresh.set_input_files("#file", photo_file(tmp_path, "a.jpg", photos["obama.jpg"]))
    fresh.dblclick("#upload-button")
    fresh.wait_for_selector(".result img.annotated", timeout=TIMEOUT)
    fresh.wait_for_load_state("networkidle")
    assert len(photos_of(live, slug)) == 1


def test_an_error_clears_the_previous_result(
    fresh: Any, live: Live, photos: dict[str, bytes], tmp_path: Path
) -> None:
    fresh.goto(f"{live.url}/index.html")
    fresh.check("#consent")
    fresh.set_input_files("#file", photo_file(tmp_path, "a.jpg", photos["biden.jpg"]))
    fresh.click("#upload-button")
    fresh.wait_for_selector(".result", timeout=TIMEOUT)
    fresh.check("#consent")
    fresh.set_input_files("#file", photo_file(tmp_path, "cat.png", photos["chelsea.png"]))
    fresh.click("#upload-button")
    fresh.wait_for_selector("#messages .error[data-code=no_face]", timeout=TIMEOUT)
    assert fresh.locator("#result .result").count() == 0
    # Korean readers get Korean only: no English detail under the message.
    assert not re.search(r"[A-Za-z]{3,}", fresh.inner_text("#messages"))
    check(fresh, "ko", "error after a result")
    shot(fresh, "bug-error-clears-result")


def test_the_title_does_not_stick(
    fresh: Any, live: Live, photos: dict[str, bytes], tmp_path: Path
) -> None:
    slug = event(live, "titles")
    fresh.goto(f"{live.url}/index.html?event={slug}")
    for name, title in (("obama.jpg", "우리 팀"), ("obama2.jpg", None)):
        fresh.check("#consent")
        fresh.set_input_files("#file", photo_file(tmp_path, name, photos[name]))
        if title:
            fresh.fill("#title", title)
        fresh.click("#upload-button")
        fresh.wait_for_selector(".result", timeout=TIMEOUT)
        assert fresh.input_value("#title") == ""
        fresh.wait_for_load_state("networkidle")
    titles = sorted(str(p["title"]) for p in photos_of(live, slug))
    assert titles == ["None", "우리 팀"]


def test_language_switch_keeps_the_face(fresh: Any, live: Live, photos: dict[str, bytes]) -> None:
    slug = event(live, "switch")
    face = _upload(live, photos["biden.jpg"], slug)["faces"][0]["face_id"]
    fresh.goto(f"{live.url}/face.html?id={face}&event={slug}")
    fresh.wait_for_selector("#face-detail img", timeout=TIMEOUT)
    fresh.click("#lang-switch")
    fresh.wait_for_selector("#face-detail img", timeout=TIMEOUT)
    assert (
        "/en/face.html" in fresh.url and f"id={face}" in fresh.url and f"event={slug}" in fresh.url
    )
    check(fresh, "en", "face after switching")


@pytest.mark.parametrize("face_id", ["nope", "0123456789abcdef0123456789abcdef"])
def test_a_bad_face_id_says_so_plainly(fresh: Any, live: Live, face_id: str) -> None:
    fresh.goto(f"{live.url}/face.html?id={face_id}")
    fresh.wait_for_selector("#messages .error", timeout=TIMEOUT)
    assert "찾을 수 없어요" in fresh.inner_text("#messages")
    assert not fresh.is_visible("#graph")
    check(fresh, "ko", "bad face id")
    shot(fresh, "bug-bad-face-id")


def test_a_new_visitor_opens_my_photos(fresh: Any, live: Live) -> None:
    fresh.goto(f"{live.url}/mine.html")
    fresh.wait_for_selector("#my-photos .empty", timeout=TIMEOUT)
    assert "아직 없어요" in fresh.inner_text("#my-photos")
    assert fresh.locator("#messages .error").count() == 0
    check(fresh, "ko", "my photos, new visitor")
    shot(fresh, "bug-new-visitor-mine")


def test_mine_only_shows_only_mine(fresh: Any, live: Live, photos: dict[str, bytes]) -> None:
    _upload(live, photos["biden.jpg"], "default")
    fresh.goto(f"{live.url}/gallery.html")
    fresh.wait_for_selector("#grid .card", timeout=TIMEOUT)
    fresh.check("#mine-filter")
    fresh.wait_for_selector("#grid .empty", timeout=TIMEOUT)
    assert fresh.locator("#grid .card").count() == 0
    check(fresh, "ko", "gallery, mine only")


def test_transparent_corners_stay_white(
    fresh: Any, live: Live, photos: dict[str, bytes], tmp_path: Path
) -> None:
    rgba = Image.open(io.BytesIO(photos["obama.jpg"])).convert("RGBA")
    alpha = np.full(rgba.size[::-1], 255, np.uint8)
    alpha[:40, :40] = 0
    rgba.putalpha(Image.fromarray(alpha))
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")
    slug = event(live, "transparent")
    fresh.goto(f"{live.url}/index.html?event={slug}")
    fresh.check("#consent")
    fresh.set_input_files("#file", photo_file(tmp_path, "clear.png", buf.getvalue()))
    fresh.click("#upload-button")
    fresh.wait_for_selector(".result", timeout=TIMEOUT)
    stored = photos_of(live, slug)[0]["image_url"]
    url = stored if stored.startswith("http") else f"{live.api}{stored}"
    corner = np.asarray(Image.open(io.BytesIO(httpx.get(url).content)).convert("RGB"))[:10, :10]
    assert corner.mean() > 240


def test_icons_need_no_emoji_font(fresh: Any, live: Live, photos: dict[str, bytes]) -> None:
    slug = event(live, "icons")
    for name in ("obama.jpg", "biden.jpg"):
        _upload(live, photos[name], slug)
    httpx.post(
        f"{live.api}/api/averages/recompute", params={"event": slug}, headers=AUTH, timeout=120
    )
    fresh.goto(f"{live.url}/averages.html?event={slug}")
    fresh.wait_for_selector("#leaderboard li.winner svg.icon", timeout=TIMEOUT)
    assert not EMOJI.search(fresh.content())
    fresh.goto(f"{live.url}/mine.html")
    assert not EMOJI.search(fresh.content())


def test_the_recompute_panel_is_for_organisers_only(fresh: Any, live: Live) -> None:
    for page in ("index", "gallery", "averages", "face", "lookalike", "mine"):
        fresh.goto(f"{live.url}/{page}.html")
        assert fresh.locator("#admin-token, #recompute-button, a[href*=admin]").count() == 0, page


def test_tap_targets_are_44_px(fresh: Any, live: Live, photos: dict[str, bytes]) -> None:
    slug = event(live, "targets")
    _upload(live, photos["obama.jpg"], slug)
    httpx.post(
        f"{live.api}/api/averages/recompute", params={"event": slug}, headers=AUTH, timeout=120
    )
    small = """() => [...document.querySelectorAll('a, button, select, summary, label.file, label.toggle, label.consent, input[type=text]')]
      .filter((el) => el.checkVisibility())
      .map((el) => [el.outerHTML.slice(0, 60), el.getBoundingClientRect()])
      .filter(([, r]) => r.width < 44 || r.height < 44)
      .map(([h, r]) => `${h} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    for page in ("index", "gallery", "averages", "lookalike", "mine"):
        fresh.goto(f"{live.url}/{page}.html?event={slug}")
        fresh.wait_for_load_state("networkidle")
        assert fresh.evaluate(small) == [], page


def test_compression_and_cache_headers(live: Live) -> None:
    index = httpx.get(f"{live.url}/index.html")
    assert index.headers["cache-control"] == "no-cache"
    script = re.search(r'src="(static/app\.js\?v=[0-9a-f]+)"', index.text)
    assert script is not None
    answer = httpx.get(f"{live.url}/{script.group(1)}", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"
    assert "immutable" in answer.headers["cache-control"]


def _upload(live: Live, data: bytes, slug: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{live.api}/api/photos",
        files={"file": ("p.jpg", data, "image/jpeg")},
        data={"consent": "true", "event": slug},
        timeout=60,
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_every_page_keeps_to_its_security_policy(
    fresh: Any, live: Live, photos: dict[str, bytes]
) -> None:
    """Each page under its Content-Security-Policy: nothing refused (the fixture fails on any)."""
    slug = event(live, "policy")
    face = _upload(live, photos["biden.jpg"], slug)["faces"][0]["face_id"]
    _upload(live, photos["obama.jpg"], slug)
    httpx.post(
        f"{live.api}/api/averages/recompute", params={"event": slug}, headers=AUTH, timeout=120
    )
    pages = ["index", "gallery", "averages", "lookalike", "mine", "screen", "admin"]
    for page in [f"{p}.html?event={slug}" for p in pages] + [f"face.html?id={face}&event={slug}"]:
        answer = fresh.goto(f"{live.url}/{page}")
        assert "script-src 'self'" in answer.headers["content-security-policy"], page
        assert answer.headers["x-frame-options"] == "DENY", page
        fresh.wait_for_load_state("networkidle")
    fresh.wait_for_selector("#similar li, #similar .empty", timeout=TIMEOUT)
    fresh.locator("#graph").scroll_into_view_if_needed()
    fresh.wait_for_selector("#graph[data-drawn]", state="attached", timeout=TIMEOUT)
    fresh.goto(f"{live.url}/admin.html")
    fresh.fill("#admin-token", ADMIN)
    fresh.click("#token-form button")
    fresh.wait_for_selector("#admin-tools:not([hidden])")
    # Kept for this tab only: it is gone with the tab, and no other page's script reads it.
    assert fresh.evaluate("localStorage.getItem('huchu-admin')") is None
    assert fresh.evaluate("sessionStorage.getItem('huchu-admin')") == ADMIN
