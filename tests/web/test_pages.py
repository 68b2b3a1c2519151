"""The participant's path in real headless Chromium at 390x844, screenshots saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.functions.conftest import ADMIN
from tests.web.conftest import Live, shot

TIMEOUT = 60_000


def files(tmp_path: Path, photos: dict[str, bytes], name: str, data: bytes | None = None) -> str:
    path = tmp_path / name
    path.write_bytes(photos[name] if data is None else data)
    return str(path)


def upload(page: Any, path: str, consent: bool = True) -> None:
    if consent:
        page.check("#consent")
    page.set_input_files("#file", path)
    page.click("#upload-button")


def test_join_browse_average_and_delete(
    page: Any, live: Live, photos: dict[str, bytes], tmp_path: Path
) -> None:
    transferred: list[int] = []
    page.on("requestfinished", lambda req: transferred.append(_size(req)))
    page.goto(f"{live.url}/index.html")
    page.wait_for_load_state("networkidle")
    first_load = sum(transferred)
    print(f"\nupload page first load: {first_load / 1024:.1f} KB")
    assert first_load <= 150 * 1024
    assert page.locator("html").get_attribute("lang") == "ko"
    shot(page, "01-join")

    sent: list[str] = []
    page.on("request", lambda req: sent.append(f"{req.method} {urlsplit(req.url).path}"))
    upload(page, files(tmp_path, photos, "t1.jpg"))
    page.wait_for_selector(".result img.annotated", timeout=TIMEOUT)
    assert page.locator(".face.accepted").count() == 6
    # The page took the direct upload: a signed PUT to a staging key, then processing.
    assert "POST /api/uploads" in sent and "POST /api/photos" not in sent
    assert any(s.startswith("PUT /files/staging/") for s in sent), sent
    assert any(s.startswith("POST /api/uploads/") and s.endswith("/process") for s in sent)
    page.wait_for_function("() => document.querySelector('.result img.annotated').naturalWidth > 0")
    assert page.evaluate("localStorage.getItem('huchu-owner')")
    shot(page, "02-result")
    for name in ("obama.jpg", "obama2.jpg", "astronaut.png"):
        page.goto(f"{live.url}/index.html")
        upload(page, files(tmp_path, photos, name))
        page.wait_for_selector(".result img.annotated", timeout=TIMEOUT)

    page.goto(f"{live.url}/gallery.html")
    page.wait_for_selector("#grid .card img", timeout=TIMEOUT)
    assert page.locator("#grid .card").count() >= 9
    shot(page, "03-gallery")
    page.select_option("#gender-filter", "female")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#grid .card')].length > 0", timeout=TIMEOUT
    )

    obama = _face_of(live, "obama.jpg")
    page.goto(f"{live.url}/face.html?id={obama}")
    page.wait_for_selector("#face-detail img", timeout=TIMEOUT)
    original = page.locator("#face-detail details.original img")
    assert original.get_attribute("src") is None  # the original photo is fetched on demand
    page.click("#face-detail details.original summary")
    page.wait_for_function(
        "() => document.querySelector('#face-detail details.original img').naturalWidth > 0",
        timeout=TIMEOUT,
    )
    page.wait_for_selector("#similar li", timeout=TIMEOUT)
    assert page.evaluate("typeof window.cytoscape") == "undefined"  # not until it is in view
    page.locator("#graph").scroll_into_view_if_needed()
    page.wait_for_selector("#graph[data-drawn]", timeout=TIMEOUT)
    assert int(page.get_attribute("#graph", "data-drawn")) >= 2
    assert page.locator("#graph canvas").count() >= 1
    singles = [
        p["faces"][0]["face_id"]
        for p in httpx.get(f"{live.api}/api/photos", params={"limit": 50}).json()["items"]
        if len(p["faces"]) == 1
    ]
    obama2 = singles[-2]  # newest first: astronaut, obama2, obama
    page.wait_for_selector(f"#family li[data-face-id='{obama2}']", timeout=TIMEOUT)
    page.click(f"#pick button[data-face-id='{obama2}']", timeout=TIMEOUT)  # six degrees
    page.wait_for_selector("#path .chain", timeout=TIMEOUT)
    assert page.locator("#path li").count() == 2  # two photos of one man: one link
    shot(page, "04-face")

    # The organiser recomputes (the panel is on the organiser's page, not here).
    auth = {"Authorization": f"Bearer {ADMIN}"}
    assert httpx.post(f"{live.api}/api/averages/recompute", headers=auth, timeout=120).is_success
    page.goto(f"{live.url}/averages.html")
    page.wait_for_selector(".averages img.pair", timeout=TIMEOUT)
    page.wait_for_selector("#leaderboard li.winner", timeout=TIMEOUT)
    assert page.locator(".cohorts figure").count() == 3
    shot(page, "05-averages")

    page.goto(f"{live.url}/mine.html")
    page.wait_for_selector("#my-photos .photo", timeout=TIMEOUT)
    before = page.locator("#my-photos .photo").count()
    assert before == 4
    photo_id = page.get_attribute("#my-photos .photo", "data-photo-id")
    page.once("dialog", lambda d: d.accept())
    page.click("#my-photos .photo .delete")
    page.wait_for_function(
        f"() => document.querySelectorAll('#my-photos .photo').length === {before - 1}",
        timeout=TIMEOUT,
    )
    assert httpx.get(f"{live.api}/api/photos/{photo_id}").status_code == 404
    shot(page, "06-mine")


def test_error_messages(page: Any, live: Live, photos: dict[str, bytes], tmp_path: Path) -> None:
    page.goto(f"{live.url}/index.html")
    upload(page, files(tmp_path, photos, "obama.jpg"), consent=False)
    page.wait_for_selector("#messages .error[data-code=bad_request]")
    assert "동의" in page.inner_text("#messages")
    shot(page, "07-error-consent")

    upload(page, files(tmp_path, photos, "notes.jpg", b"just some text, not a picture\n" * 20))
    page.wait_for_selector("#messages .error[data-code=unsupported_media_type]", timeout=TIMEOUT)
    assert "이미지 파일이 아닙니다" in page.inner_text("#messages")
    shot(page, "08-error-not-image")

    page.goto(f"{live.url}/index.html")
    upload(page, files(tmp_path, photos, "chelsea.png"))
    page.wait_for_selector("#messages .error[data-code=no_face]", timeout=TIMEOUT)
    assert "얼굴" in page.inner_text("#messages")
    shot(page, "09-error-cat")

    page.goto(f"{live.url}/en/index.html")
    upload(page, files(tmp_path, photos, "chelsea.png"))
    page.wait_for_selector("#messages .error[data-code=no_face]", timeout=TIMEOUT)
    assert "No face found" in page.inner_text("#messages")


def test_lookalike_without_joining(
    page: Any, live: Live, photos: dict[str, bytes], tmp_path: Path
) -> None:
    page.goto(f"{live.url}/lookalike.html")
    page.set_input_files("#lookalike-form input[type=file]", files(tmp_path, photos, "obama3.jpg"))
    page.click("#lookalike-form button")
    page.wait_for_selector("#lookalikes .similar", timeout=TIMEOUT)
    shot(page, "10-lookalike")


def test_static_site_from_another_origin(
    page: Any, cross_origin: Live, photos: dict[str, bytes], tmp_path: Path
) -> None:
    assert cross_origin.url != cross_origin.api
    page.goto(f"{cross_origin.url}/index.html")
    upload(page, files(tmp_path, photos, "biden.jpg"))
    page.wait_for_selector(".result img.annotated", timeout=TIMEOUT)
    page.wait_for_function(
        "() => document.querySelector('.result img.annotated').naturalWidth > 0", timeout=TIMEOUT
    )
    assert page.evaluate("localStorage.getItem('huchu-owner')")
    items = httpx.get(f"{cross_origin.api}/api/photos").json()["items"]
    assert len(items) == 1
    shot(page, "11-cross-origin")


def _size(request: Any) -> int:
    sizes = request.sizes()
    return int(
        sizes["responseBodySize"] + sizes["responseHeadersSize"] + sizes["requestHeadersSize"]
    )


def _face_of(live: Live, _name: str) -> str:
    photos = httpx.get(f"{live.api}/api/photos", params={"limit": 50}).json()["items"]
    single = [p for p in photos if len([f for f in p["faces"] if f["accepted"]]) == 1]
    return str(single[-1]["faces"][0]["face_id"])


def test_result_says_which_faces_count_and_why(
    page: Any, live: Live, photos: dict[str, bytes], bundled_engine: Any, tmp_path: Path
) -> None:
    """A selfie with a stranger behind: the participant first, the stranger in red with its
    reason on the page; the participant's standing on the result, the face page and "my
    photos"."""
    from tests.game.test_gate import crowd
    from tests.scenes import encode

    scene = crowd(bundled_engine, photos, "biden.jpg", "obama.jpg", "shrunk")
    path = tmp_path / "scene.png"
    path.write_bytes(encode(scene.rgb))
    page.goto(f"{live.url}/en/index.html")
    upload(page, str(path))
    page.wait_for_selector(".result img.annotated", timeout=TIMEOUT)
    faces = page.locator(".result .face")
    assert faces.count() == 2
    assert "accepted" in (faces.nth(0).get_attribute("class") or "")  # the participant first
    summary = page.locator(".result .counted-summary").inner_text()
    assert summary.startswith("In the game:")
    reason = faces.nth(1).locator(".reason").inner_text()
    assert "someone in the background" in reason, reason
    assert page.locator(".result .not-counted-summary").count() == 1
    page.wait_for_function("document.querySelector('.result img.annotated').naturalWidth > 0")
    shot(page, "02b-result-bystander")
