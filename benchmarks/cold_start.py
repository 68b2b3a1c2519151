"""Cold starts of the Lambda handlers: import time and first request, each in a fresh process.

For each function (photos, catalog, averages, admin) a new interpreter imports the
function's module the way its first invocation does (``functions.aws.<name>`` hands the
event to ``functions.<name>``), then answers one HTTP API event. Runs are interleaved so
that disk caches favour no function, and the median of the rounds is printed beside the
photos function's in the same run (target: catalog, averages and admin at most 40%), with
the face-engine modules (dlib, onnxruntime, insightface) each process ended up holding.
The photos function's import counts the libraries of the engine it needs for its first
upload (dlib, or onnxruntime and insightface), as its cold start pays them.

    .venv/bin/python benchmarks/cold_start.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("photos", "catalog", "averages", "admin")
ENGINES = ("dlib", "onnxruntime", "insightface")
# One cheap request per function, answered without a stored photo.
REQUESTS = {
    "photos": ("DELETE", "/api/photos/none"),
    "catalog": ("GET", "/api/photos"),
    "averages": ("GET", "/api/averages"),
    "admin": ("GET", "/api/admin/faces/none/embedding"),
}

CHILD = r"""
import importlib, json, sys, time
name, method, path = sys.argv[1:4]
t0 = time.perf_counter()
import functions.aws
module = importlib.import_module("functions." + name)
after_import = sorted(m for m in ("dlib", "onnxruntime", "insightface") if m in sys.modules)
if name == "photos":  # what its first upload imports before it can answer
    from huchu.config import Settings
    from huchu.engines.factory import resolve_engine_name
    settings = Settings()
    engine = resolve_engine_name(settings.engine, settings.models_dir)
    for lib in {"dlib": ["dlib"], "insightface": ["onnxruntime", "insightface"]}[engine]:
        importlib.import_module(lib)
t1 = time.perf_counter()
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
    "headers": {"host": "api.example"},
    "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                "sourceIp": "203.0.113.9", "userAgent": "bench"},
                       "requestId": "r", "routeKey": "$default", "stage": "$default",
                       "domainName": "api.example", "apiId": "api", "accountId": "1",
                       "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 0},
    "isBase64Encoded": False,
}
answer = getattr(functions.aws, name)(event, None)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "request_s": t2 - t1, "status": answer["statusCode"],
                  "after_import": after_import,
                  "after_request": sorted(m for m in ("dlib", "onnxruntime", "insightface")
                                          if m in sys.modules)}))
"""


def run_once(name: str, data_dir: Path) -> dict[str, object]:
    method, path = REQUESTS[name]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HUCHU_DATA_DIR": str(data_dir),
        "HUCHU_RECOMPUTE_SECONDS": "0",
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, name, method, path],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    if out.returncode != 0:
        raise SystemExit(f"{name}: {out.stderr[-2000:]}")
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in FUNCTIONS}
    with tempfile.TemporaryDirectory() as tmp:
        for name in FUNCTIONS:  # warm the disk cache once for everyone
            run_once(name, Path(tmp) / "warm")
        for i in range(args.rounds):
            for name in FUNCTIONS:
                runs[name].append(run_once(name, Path(tmp) / f"r{i}"))

    def median(name: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in runs[name])  # type: ignore[arg-type]

    base = median("photos", "import_s")
    print(f"cold start, median of {args.rounds} fresh processes per function\n")
    print(
        "| function | import (s) | vs photos | first request (s) | engine after import | after request |"
    )
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for name in FUNCTIONS:
        last = runs[name][-1]
        engines = ", ".join(last["after_import"]) or "none"  # type: ignore[arg-type]
        later = ", ".join(last["after_request"]) or "none"  # type: ignore[arg-type]
        print(
            f"| {name} | {median(name, 'import_s'):.3f} | {median(name, 'import_s') / base:.0%} "
            f"| {median(name, 'request_s'):.3f} | {engines} | {later} |"
        )


if __name__ == "__main__":
    main()
