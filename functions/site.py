"""The built site as the embedded app serves it: compressed, with cache headers."""

from __future__ import annotations

from typing import Any

from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

# Files under static/ are linked with their content hash (?v=...): cache them for a year.
LONG = "public, max-age=31536000, immutable"


class SiteFiles(StaticFiles):
    """Static files with long-lived caching for versioned assets; pages are revalidated."""

    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            versioned = path.startswith("static/")
            response.headers["Cache-Control"] = LONG if versioned else "no-cache"
        return response
