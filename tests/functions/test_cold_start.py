"""Functions that never analyse an image import no face engine, before or after a request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ("dlib", "onnxruntime", "insightface")

CHILD = r"""
import importlib, json, sys
import functions.aws
name, method, path = sys.argv[1:4]
importlib.import_module("functions." + name)
engines = ("dlib", "onnxruntime", "insightface")
after_import = [m for m in engines if m in sys.modules]
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
    "headers": {"host": "api.example"}, "isBase64Encoded": False,
    "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                "sourceIp": "203.0.113.9", "userAgent": "test"},
                       "requestId": "r", "routeKey": "$default", "stage": "$default",
                       "domainName": "api.example", "apiId": "api", "accountId": "1",
                       "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 0},
}
answer = getattr(functions.aws, name)(event, None)
print(json.dumps({"status": answer["statusCode"], "after_import": after_import,
                  "after_request": [m for m in engines if m in sys.modules]}))
"""


@pytest.mark.parametrize(
    ("name", "method", "path", "status"),
    [
        ("catalog", "GET", "/api/photos", 200),
        ("averages", "GET", "/api/averages", 200),
        ("admin", "GET", "/api/admin/faces/none/embedding", 403),
    ],
)
def test_no_engine_in_functions_that_never_analyse(
    name: str, method: str, path: str, status: int, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HUCHU_DATA_DIR": str(tmp_path)}
    env.pop("HUCHU_ADMIN_TOKEN", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, name, method, path],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == status
    assert result["after_import"] == [] and result["after_request"] == []
