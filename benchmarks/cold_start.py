"""Cold starts of the Lambda handlers: import time and first request, each in a fresh process.

For each function (photos, catalog, averages, admin) a new interpreter imports the
function's module the way its first invocation does (``functions.aws.<name>`` hands the
event to ``functions.<name>``), then answers one HTTP API event: an upload of a sample
photo for photos (what its cold start is for), a cheap read for the others. Runs are
interleaved so that disk caches favour no function; the medians are printed beside the
photos function's from the same run (target: catalog, averages and admin at most 40%),
with the face-engine modules (dlib, onnxruntime, insightface) each process then holds.

    .venv/bin/python benchmarks/cold_start.py [--rounds N] [--data DIR]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import sample_dir

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("photos", "catalog", "averages", "admin")
ENGINES = ("dlib", "onnxruntime", "insightface")
# One request per function: an upload for photos, cheap reads for the others.
REQUESTS = {
    "photos": ("POST", "/api/photos"),
    "catalog": ("GET", "/api/photos"),
    "averages": ("GET", "/api/averages"),
    "admin": ("GET", "/api/admin/faces/none/embedding"),
}

CHILD = r"""
import importlib, json, sys, time
import base64
name, method, path, photo = sys.argv[1:5]
t0 = time.perf_counter()
import functions.aws
module = importlib.import_module("functions." + name)
after_import = sorted(m for m in ("dlib", "onnxruntime", "insightface") if m in sys.modules)
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
if photo:  # the photos function's first request is an upload: it analyses the photo
    boundary = "coldStartBoundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="consent"\r\n\r\ntrue\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
            'Content-Type: image/jpeg\r\n\r\n').encode() + open(photo, "rb").read() + (
            f"\r\n--{boundary}--\r\n").encode()
    event["headers"]["content-type"] = f"multipart/form-data; boundary={boundary}"
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
answer = getattr(functions.aws, name)(event, None)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "request_s": t2 - t1, "status": answer["statusCode"],
                  "after_import": after_import,
                  "after_request": sorted(m for m in ("dlib", "onnxruntime", "insightface")
                                          if m in sys.modules)}))
"""


def run_once(name: str, data_dir: Path, photo: str) -> dict[str, object]:
    method, path = REQUESTS[name]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HUCHU_DATA_DIR": str(data_dir),
        "HUCHU_RECOMPUTE_SECONDS": "0",
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, name, method, path, photo if name == "photos" else ""],
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
    parser.add_argument("--data", help="the celebrity sample (default: shared/datasets)")
    args = parser.parse_args()
    photo = str(sorted(sample_dir(args.data).glob("*.jpg"))[0])
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in FUNCTIONS}
    with tempfile.TemporaryDirectory() as tmp:
        for name in FUNCTIONS:  # warm the disk cache once for everyone
            run_once(name, Path(tmp) / "warm", photo)
        for i in range(args.rounds):
            for name in FUNCTIONS:
                runs[name].append(run_once(name, Path(tmp) / f"r{i}", photo))

    def median(name: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in runs[name])  # type: ignore[arg-type]

    def cold(name: str) -> float:
        return median(name, "import_s") + median(name, "request_s")

    base_import, base_cold = median("photos", "import_s"), cold("photos")
    print(f"cold start, median of {args.rounds} fresh processes per function\n")
    print(
        "| function | import (s) | vs photos | import + first answer (s) | vs photos "
        "| engine after import | after the answer |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for name in FUNCTIONS:
        last = runs[name][-1]
        engines = ", ".join(last["after_import"]) or "none"  # type: ignore[arg-type]
        later = ", ".join(last["after_request"]) or "none"  # type: ignore[arg-type]
        print(
            f"| {name} | {median(name, 'import_s'):.3f} | {median(name, 'import_s') / base_import:.0%} "
            f"| {cold(name):.3f} | {cold(name) / base_cold:.0%} | {engines} | {later} |"
        )


if __name__ == "__main__":
    main()
