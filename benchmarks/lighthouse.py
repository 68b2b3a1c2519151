"""Lighthouse (npm, pinned in frontend/package.json) on every page, mobile, in Debian's Chromium.

Starts the embedded app on loopback with a fresh data folder, fills one event with
``--photos`` photos of the celebrity sample (27 photos; past them, real variants of the same
photos: mirrored, cropped, scaled, colour-shifted, so every upload is a new photo of a real
face), recomputes once, then prints performance, accessibility and best-practices for each
page, and the join page's first-load bytes. ``--state DIR`` keeps the filled data folder:
a later run with the same DIR skips the uploads (recomputes only).

    .venv/bin/python benchmarks/lighthouse.py [--data DIR] [--photos N] [--pages index,face]
        [--state DIR] [--workers 3] [--reports DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, photos, sample_dir
from frontend.build import build_site
from functions.embedded import create_embedded_app
from functions.wiring import build_context
from huchu.config import Settings
from tests.servers import serving

LIGHTHOUSE = ROOT / "frontend" / "node_modules" / "lighthouse" / "cli" / "index.js"
ADMIN = "lighthouse-admin-7c2e"
PAGES = ["index", "gallery", "face", "averages", "lookalike", "mine", "screen", "admin"]
BUDGET_KB = 150


def variant(data: bytes, k: int) -> bytes:
    """The ``k``-th real variant of a photo (0: the photo itself): mirrored on odd ``k``, then
    a crop of 88-100 % around the centre, a scale of 75-100 %, brightness and saturation
    within 10 %."""
    if k == 0:
        return data
    img = Image.open(io.BytesIO(data)).convert("RGB")
    if k % 2:
        img = ImageOps.mirror(img)
    keep = 1 - 0.03 * (k % 5)
    w, h = img.size
    cw, ch = round(w * keep), round(h * keep)
    dx, dy = (w - cw) // 2 + (k % 3 - 1) * (w - cw) // 4, (h - ch) // 2
    img = img.crop((dx, dy, dx + cw, dy + ch))
    scale = 1 - 0.05 * (k % 6)
    img = img.resize((round(cw * scale), round(ch * scale)), Image.Resampling.LANCZOS)
    img = ImageEnhance.Brightness(img).enhance(1 + 0.04 * ((k % 5) - 2))
    img = ImageEnhance.Color(img).enhance(1 + 0.05 * ((k % 3) - 1))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def uploads(files: dict[str, bytes], count: int) -> list[tuple[str, bytes]]:
    """``count`` photos: the sample, then its variants, round by round."""
    names = list(files)
    return [
        (
            f"v{i // len(names)}-{names[i % len(names)]}",
            variant(files[names[i % len(names)]], i // len(names)),
        )
        for i in range(count)
    ]


def seed(api: str, files: dict[str, bytes], count: int, workers: int) -> None:
    """One event with ``count`` photos (``workers`` uploads at a time)."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    httpx.put(f"{api}/api/events/bench", json={"name": "벤치마크"}, headers=auth).raise_for_status()

    def send(item: tuple[str, bytes]) -> int:
        answer = httpx.post(
            f"{api}/api/photos",
            files={"file": (item[0], item[1], "image/jpeg")},
            data={"consent": "true", "event": "bench"},
            timeout=300,
        )
        return answer.status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(send, uploads(files, count)))
    stored = sum(c == 201 for c in codes)
    print(f"seeded {stored}/{count} photos in {time.perf_counter() - start:.0f} s", flush=True)
    others = Counter(c for c in codes if c != 201)
    if others:
        print(f"  not stored, by status: {dict(others)}", flush=True)


def recompute(api: str) -> str:
    """One recompute; answers the event's oldest face (the face page's face)."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    httpx.post(
        f"{api}/api/averages/recompute", params={"event": "bench"}, headers=auth, timeout=900
    ).raise_for_status()
    info = httpx.get(f"{api}/api/events/bench").json()
    print(f"event: {info['photos']} photos, {info['faces']} faces, {info['people']} people")
    cursor, face = None, ""
    while True:
        params: dict[str, str | int] = {"event": "bench", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(f"{api}/api/faces", params=params).json()
        face = page["items"][-1]["face_id"] if page["items"] else face
        cursor = page.get("next_cursor")
        if not cursor:
            return face


def audit(url: str, out: Path) -> dict[str, float]:
    """One mobile Lighthouse run; its scores (0-100) and transferred KB."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    subprocess.run(
        [
            "node",
            str(LIGHTHOUSE),
            url,
            f"--chrome-path={chromium}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            "--only-categories=performance,accessibility,best-practices",
            "--output=json",
            f"--output-path={out}",
            "--quiet",
        ],
        check=True,
        timeout=300,
    )
    report = json.loads(out.read_text())
    scores = {k: round(100 * (v["score"] or 0)) for k, v in report["categories"].items()}
    weight = report["audits"]["total-byte-weight"]["numericValue"] / 1024
    failing = sorted(
        ref["id"]
        for cat in report["categories"].values()
        for ref in cat["auditRefs"]
        if ref["weight"] and (report["audits"][ref["id"]]["score"] or 0) < 0.9
    )
    if failing:
        print(f"  {url}: below 0.9: {', '.join(failing)}", flush=True)
    return {**scores, "kb": round(weight, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=None)
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--state", default=None, help="keep (and reuse) the data folder here")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--reports", default=None, help="keep each page's Lighthouse JSON here")
    args = parser.parse_args()
    files = photos(sample_dir(args.data))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.state) if args.state else Path(tmp) / "data"
        filled = (data / ".lighthouse-seeded").is_file()
        settings = Settings(
            data_dir=data,
            admin_token=ADMIN,
            recompute_seconds=0,
            engine="dlib",
            rate_limit_per_minute=0,  # one client seeds the whole event
        )
        ctx = build_context(settings)
        site = build_site(Path(tmp) / "site")
        try:
            with serving(create_embedded_app(ctx, site_dir=site, scheduler=False)) as url:
                if not filled:
                    seed(url, files, args.photos, args.workers)
                    (data / ".lighthouse-seeded").write_text(str(args.photos))
                face = recompute(url)
                rows = []
                for page in args.pages.split(","):
                    query = "?event=bench" + (f"&id={face}" if page == "face" else "")
                    reports = Path(args.reports) if args.reports else Path(tmp)
                    reports.mkdir(parents=True, exist_ok=True)
                    found = audit(f"{url}/{page}.html{query}", reports / f"{page}.json")
                    rows.append((page, found))
                    print(f"{page:10} {found}", flush=True)
        finally:
            ctx.close()
    print("\n| page | performance | accessibility | best practices | transferred KB |")
    print("| --- | --- | --- | --- | --- |")
    for page, f in rows:
        print(
            f"| {page} | {f['performance']} | {f['accessibility']} "
            f"| {f['best-practices']} | {f['kb']} |"
        )
    low = [
        (p, k)
        for p, f in rows
        for k in ("performance", "accessibility", "best-practices")
        if f[k] < 90
    ]
    join = dict(rows).get("index")
    print(f"\njoin page first load: {join['kb'] if join else '?'} KB (budget {BUDGET_KB} KB)")
    print("below 90:", low or "none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
