"""The big screen: 1920x1080, no interaction, an upload through the API shows up within 10 s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.functions.conftest import ADMIN
from tests.web.checks import check
from tests.web.conftest import Live, shot

AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def projector(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_an_upload_appears_on_the_screen_without_reload(
    projector: Any, live: Live, photos: dict[str, bytes], lang: str
) -> None:
    slug = f"screen-{lang}"
    httpx.put(f"{live.api}/api/events/{slug}", json={"name": "Big night"}, headers=AUTH)
    httpx.post(
        f"{live.api}/api/photos",
        files={"file": ("a.jpg", photos["biden.jpg"], "image/jpeg")},
        data={"consent": "true", "event": slug},
        timeout=60,
    )
    httpx.post(
        f"{live.api}/api/averages/recompute", params={"event": slug}, headers=AUTH, timeout=120
    )
    root = live.url if lang == "ko" else f"{live.url}/en"
    projector.goto(f"{root}/screen.html?event={slug}")
    projector.wait_for_selector("#screen-newest .card", timeout=30_000)
    projector.wait_for_selector("#screen-top li[data-person-id]", timeout=30_000)
    projector.wait_for_selector("#screen-avg .cohorts figure", timeout=30_000)
    # The projector shows the male cohort's template portrait (a person), not the bare mask.
    averages = httpx.get(f"{live.api}/api/averages", params={"event": slug}, timeout=30).json()
    male = next(c for c in averages["cohorts"] if c["cohort"] == "male")
    shown = projector.eval_on_selector_all(
        "#screen-avg .cohorts figure img", "els => els.map(e => e.currentSrc || e.src)"
    )
    path = urlsplit(male["portrait_url"]).path  # .../templates/male.jpg, or its small one
    stem, ext = path.rsplit(".", 1)
    assert {urlsplit(src).path for src in shown} & {path, f"{stem}-small.{ext}"}, (male, shown)
    projector.wait_for_function("() => document.querySelector('#screen-qr').naturalWidth > 0")
    assert projector.inner_text("#screen-event h1") == "Big night"
    check(projector, lang, "screen")
    projector.evaluate("window.__sameDocument = true")
    before = projector.locator("#screen-newest .card").count()
    answer = httpx.post(
        f"{live.api}/api/photos",
        files={"file": ("b.jpg", photos["obama.jpg"], "image/jpeg")},
        data={"consent": "true", "event": slug},
        timeout=60,
    )
    face = answer.json()["faces"][0]["face_id"]
    projector.wait_for_selector(f"#screen-newest [data-face-id='{face}']", timeout=10_000)
    assert projector.locator("#screen-newest .card").count() == before + 1
    assert projector.evaluate("window.__sameDocument") is True  # no reload
    projector.wait_for_function(
        "() => document.querySelector('#face-count').textContent.trim() === '2'", timeout=10_000
    )
    shot(projector, f"{lang}-screen")
