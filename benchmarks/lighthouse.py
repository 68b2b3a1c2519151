"""Lighthouse (npm, pinned in frontend/package.json) on every page, mobile, in Debian's Chromium.

Starts the embedded app on loopback with a fresh data folder, fills one event with the
celebrity sample (a dozen photos, one recompute), then prints performance, accessibility
and best-practices for each page, and the join page's first-load bytes.

    .venv/bin/python benchmarks/lighthouse.py [--data DIR] [--photos N] [--pages index,face]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

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


def seed(api: str, files: dict[str, bytes], count: int) -> str:
    """One event with ``count`` photos and a version; answers a face id for the face page."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    httpx.put(f"{api}/api/events/bench", json={"name": "벤치마크"}, headers=auth).raise_for_status()
    face = ""
    for name, data in list(files.items())[:count]:
        answer = httpx.post(
            f"{api}/api/photos",
            files={"file": (name, data, "image/jpeg")},
            data={"consent": "true", "event": "bench"},
            timeout=120,
        )
        if answer.status_code == 201 and not face:
            face = answer.json()["faces"][0]["face_id"]
    httpx.post(
        f"{api}/api/averages/recompute", params={"event": "bench"}, headers=auth, timeout=600
    ).raise_for_status()
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
    args = parser.parse_args()
    files = photos(sample_dir(args.data))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data", admin_token=ADMIN, recompute_seconds=0, engine="dlib"
        )
        ctx = build_context(settings)
        site = build_site(Path(tmp) / "site")
        try:
            with serving(create_embedded_app(ctx, site_dir=site, scheduler=False)) as url:
                face = seed(url, files, args.photos)
                rows = []
                for page in args.pages.split(","):
                    query = "?event=bench" + (f"&id={face}" if page == "face" else "")
                    found = audit(f"{url}/{page}.html{query}", Path(tmp) / f"{page}.json")
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
