"""Render the static site: every page in Korean (root) and English (``en/``)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from frontend.i18n import PAGES, TEXT
from frontend.render import environment

HERE = Path(__file__).resolve().parent
VENDOR = {
    "htmx.min.js": "node_modules/htmx.org/dist/htmx.min.js",
    "cytoscape.min.js": "node_modules/cytoscape/dist/cytoscape.min.js",
}


def ensure_node_modules() -> None:
    """The pinned JavaScript comes from npm (package-lock.json), never from copies in git."""
    if all((HERE / src).is_file() for src in VENDOR.values()):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is needed once to fetch htmx and cytoscape (see frontend/package.json)"
        )
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=HERE, check=True)


def build_site(out: Path, api_url: str = "") -> Path:
    ensure_node_modules()
    out = Path(out)
    env = environment()
    for lang, sub in (("ko", ""), ("en", "en/")):
        target = out / sub
        target.mkdir(parents=True, exist_ok=True)
        for page in PAGES:
            html = env.get_template(f"{page}.html").render(
                page=page,
                lang=lang,
                t=TEXT[lang],
                api_url=api_url.rstrip("/"),
                root="../" if sub else "",
                other_root="../" if sub else "en/",
            )
            (target / f"{page}.html").write_text(html, encoding="utf-8")
    static = out / "static"
    (static / "vendor").mkdir(parents=True, exist_ok=True)
    for name in ("huchu.css", "app.js", "site.js"):
        shutil.copyfile(HERE / "static" / name, static / name)
    for name, src in VENDOR.items():
        shutil.copyfile(HERE / src, static / "vendor" / name)
    return out


# Pages change with every publish and must be seen at once; assets are named by content
# (``?v=<hash>``) but CloudFront's cache key leaves the query out, so they are kept only
# briefly, and a publish invalidates the distribution's copies.
CACHE_CONTROL = {".html": "no-cache", ".css": "public, max-age=300", ".js": "public, max-age=300"}


def publish(site: Path, client: Any, bucket: str) -> int:
    """Upload a built site to the site bucket (an S3 client), each file with its type and
    Cache-Control."""
    types = {".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript"}
    count = 0
    for path in sorted(Path(site).rglob("*")):
        if path.is_file():
            client.put_object(
                Bucket=bucket,
                Key=str(path.relative_to(site)),
                Body=path.read_bytes(),
                ContentType=types.get(path.suffix, "application/octet-stream"),
                CacheControl=CACHE_CONTROL.get(path.suffix, "public, max-age=300"),
            )
            count += 1
    return count


def invalidate(cloudfront: Any, distribution: str) -> str:
    """Drop CloudFront's copies of the whole site; the invalidation's id."""
    answer = cloudfront.create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"huchu-publish-{time.time_ns()}",
        },
    )
    return str(answer["Invalidation"]["Id"])
