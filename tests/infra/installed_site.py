"""Run by tests/infra/test_wheel.py with the interpreter of a virtualenv that holds Huchu's
wheel (not an editable install): every page and every htmx fragment is rendered from the
installed package, the way the Lambda image serves them.

    python installed_site.py TEMPLATES_JSON PHOTO_DIR

TEMPLATES_JSON lists the source tree's templates; PHOTO_DIR holds obama.jpg, obama2.jpg.
Prints one JSON line: the templates rendered and where the packages were imported from.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from jinja2 import Environment


def main(templates_json: str, photo_dir: str) -> None:
    import frontend
    import functions
    import huchu
    from frontend.i18n import PAGES, TEXT
    from frontend.render import TEMPLATES, environment

    wanted: list[str] = json.loads(Path(templates_json).read_text())
    missing = [name for name in wanted if not (TEMPLATES / name).is_file()]
    assert not missing, f"not installed: {missing}"

    rendered: set[str] = set()
    load = Environment.get_template

    def recording(self: Environment, name: Any, *args: Any, **kw: Any) -> Any:
        template = load(self, name, *args, **kw)
        rendered.add(str(template.name))
        return template

    Environment.get_template = recording  # type: ignore[method-assign]

    env = environment()
    for page in PAGES:
        for lang in ("ko", "en"):
            html = env.get_template(f"{page}.html").render(
                page=page, lang=lang, t=TEXT[lang], api_url="", root="", other_root="en/"
            )
            assert "<html" in html, page
    fragments(Path(photo_dir))
    print(
        json.dumps(
            {
                "rendered": sorted(rendered),
                "from": [m.__file__ for m in (huchu, functions, frontend)],
            }
        )
    )


def fragments(photo_dir: Path) -> None:
    """Every htmx answer the page asks for, through the app as ``huchu serve`` builds it."""
    from fastapi.testclient import TestClient

    from functions.embedded import create_embedded_app
    from functions.wiring import build_context
    from huchu.config import Settings

    settings = Settings()
    ctx = build_context(settings)
    admin = {"Authorization": f"Bearer {settings.admin_token}"}
    hx = {"HX-Request": "true"}
    try:
        with TestClient(create_embedded_app(ctx, scheduler=False)) as client:

            def ok(method: str, url: str, status: int = 200, **kw: Any) -> str:
                r = client.request(method, url, **kw)
                assert r.status_code == status, f"{method} {url}: {r.status_code} {r.text[:300]}"
                return str(r.text)

            faces = []
            for name in ("obama.jpg", "obama2.jpg"):
                body = client.post(
                    "/api/photos",
                    files={"file": (name, (photo_dir / name).read_bytes(), "image/jpeg")},
                    data={"consent": "true"},
                ).json()
                faces.append(next(f["face_id"] for f in body["faces"] if f["accepted"]))
                photo = body["photo_id"]
            ok("POST", "/api/averages/recompute", headers=admin)
            a, b = faces
            upload = {"file": ("obama.jpg", (photo_dir / "obama.jpg").read_bytes(), "image/jpeg")}
            ok("POST", "/api/photos", 201, files=upload, data={"consent": "true"}, headers=hx)
            for url in (
                "/api/photos?event=default",
                f"/api/photos/{photo}",
                "/api/faces?event=default",
                f"/api/faces/{a}",
                f"/api/faces/{a}/similar",
                f"/api/faces/{a}/family",
                f"/api/faces/{a}/path/{b}",
                f"/api/faces/{a}/standing",
                "/api/events/default",
                "/api/averages?event=default",
                "/api/leaderboard?event=default",
            ):
                ok("GET", url, headers=hx)
            ok("POST", "/api/lookalikes", files=upload, data={"event": "default"}, headers=hx)
            ok("GET", "/api/faces/nope", 404, headers=hx)
    finally:
        ctx.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
