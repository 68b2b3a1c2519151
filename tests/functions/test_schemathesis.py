"""Property-based requests from the app's own OpenAPI, every schemathesis check on, against
the whole app ``huchu serve`` runs: API and site (the site at ``/`` once hid the API's 405s)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from frontend.build import build_site
from huchu.inference.local import LocalInference
from tests.functions.conftest import ADMIN, upload
from tests.functions.served import embedded, like_huchu_serve

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Bounded for a 2-core CI runner: about a minute for every phase over every route.
MAX_EXAMPLES = 50
SEED = 20261126


def test_openapi_holds_under_schemathesis(
    tmp_path: Path, inference: LocalInference, photos: dict[str, bytes]
) -> None:
    site = build_site(tmp_path / "site")
    with embedded(tmp_path, inference, site, rate_limit_per_minute=0, cards_per_minute=0) as app:
        with TestClient(app) as client:
            kept = upload(client, photos["obama.jpg"]).json()
            doomed = upload(client, photos["biden.jpg"]).json()
        env = {
            **os.environ,
            "HUCHU_FUZZ_PHOTO_ID": kept["photo_id"],
            "HUCHU_FUZZ_FACE_ID": kept["faces"][0]["face_id"],
            "HUCHU_FUZZ_DELETED_PHOTO_ID": doomed["photo_id"],
        }
        with like_huchu_serve(app) as url:
            out = subprocess.run(
                [
                    *(sys.executable, "-m", "schemathesis.cli"),
                    *("--config-file", str(CONFIG), "run", f"{url}/openapi.json"),
                    *("--checks", "all", "--workers", "1", "--no-color"),
                    *("--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED)),
                    *("--generation-database", "none"),
                    *("--header", f"Authorization: Bearer {ADMIN}"),
                ],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,
                timeout=600,
            )
    report = out.stdout[-8000:] + out.stderr[-2000:]
    assert out.returncode == 0, report
    assert " passed" in out.stdout and "failures" not in out.stdout.lower(), report
