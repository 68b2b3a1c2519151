"""Mixed load on `huchu serve`: uploaders, readers, deleters and a recompute loop at once.

Two phases in one run, on one fresh data dir:
- baseline: the uploaders alone (no readers, no deletes, no recompute);
- mixed: the same uploaders, plus readers, deleters and an admin recompute loop.
With ``--caught-up`` a recompute runs between the phases, so that the loop starts with
every face counted (each recompute then folds a few seconds of uploads and draws);
without it, the first recompute catches up the whole baseline phase under the load.
Prints p50/p95 of uploads in both phases (target: mixed p95 at most 2x the baseline's)
and of deletes under the mixed load (target: p95 at most 1 s), then the peak memory of
one analysis worker on a 40 MP picture (target: at most 600 MB).

    .venv/bin/python benchmarks/mixed_load.py [--data DIR] [--seconds S] [--uploaders N]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import photos, sample_dir
from tests.servers import free_port, huchu_serve, wait_healthy

ADMIN = "bench-admin-token-91c2"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Load:
    def __init__(self, url: str, work: list[tuple[str, bytes]]) -> None:
        self.url = url
        self.work = work
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {
            "upload": [],
            "delete": [],
            "read": [],
            "recompute": [],
        }
        self.errors: dict[str, int] = {}
        self.owned: list[tuple[str, str]] = []  # (photo id, owner token) to delete

    def note(self, kind: str, seconds: float, status: int, ok: tuple[int, ...]) -> None:
        with self.lock:
            if status in ok:
                self.latency[kind].append(seconds)
            else:
                self.errors[f"{kind} {status}"] = self.errors.get(f"{kind} {status}", 0) + 1

    def uploader(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=120) as client:
            while not self.stop.is_set():
                name, data = rng.choice(self.work)
                t = time.perf_counter()
                r = client.post(
                    f"{self.url}/api/photos",
                    files={"file": (name, data, "image/jpeg")},
                    data={"consent": "true"},
                )
                self.note("upload", time.perf_counter() - t, r.status_code, (201, 422))
                if r.status_code == 201:
                    body = r.json()
                    with self.lock:
                        self.owned.append((body["photo_id"], body["owner_token"]))

    def reader(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=60) as client:
            while not self.stop.is_set():
                path = rng.choice(["/api/faces?limit=24", "/api/averages", "/api/leaderboard"])
                t = time.perf_counter()
                r = client.get(f"{self.url}{path}")
                self.note("read", time.perf_counter() - t, r.status_code, (200,))

    def deleter(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self.stop.is_set():
                with self.lock:
                    item = self.owned.pop(0) if len(self.owned) > 4 else None
                if item is None:
                    time.sleep(0.2)
                    continue
                t = time.perf_counter()
                r = client.delete(
                    f"{self.url}/api/photos/{item[0]}", headers={"X-Huchu-Owner": item[1]}
                )
                self.note("delete", time.perf_counter() - t, r.status_code, (204,))
                time.sleep(0.5)

    def recomputer(self) -> None:
        with httpx.Client(timeout=300) as client:
            while not self.stop.is_set():
                t = time.perf_counter()
                r = client.post(
                    f"{self.url}/api/averages/recompute",
                    headers={"Authorization": f"Bearer {ADMIN}"},
                )
                self.note("recompute", time.perf_counter() - t, r.status_code, (200,))
                time.sleep(1.0)

    def run(self, seconds: float, uploaders: int, mixed: bool) -> None:
        threads = [threading.Thread(target=self.uploader, args=(i,)) for i in range(uploaders)]
        if mixed:
            threads += [threading.Thread(target=self.reader, args=(i,)) for i in range(4)]
            threads += [threading.Thread(target=self.deleter) for _ in range(2)]
            threads += [threading.Thread(target=self.recomputer)]
        for t in threads:
            t.start()
        time.sleep(seconds)
        self.stop.set()
        for t in threads:
            t.join()


def worker_peak_mb() -> int:
    """One worker's peak on a 40 MP JPEG (the test's worker script, in a fresh process)."""
    import io

    import numpy as np
    from PIL import Image

    from tests.core.test_decode_memory import WORKER

    noise = np.random.default_rng(0).integers(0, 255, (570, 700, 3), dtype=np.uint8)
    with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
        buf = io.BytesIO()
        Image.fromarray(noise).resize((7000, 5700)).save(buf, "JPEG", quality=85)
        f.write(buf.getvalue())
        f.flush()
        out = subprocess.run(
            [sys.executable, "-c", WORKER, f.name], capture_output=True, text=True, check=True
        )
    return int(out.stdout.split()[2])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--uploaders", type=int, default=8)
    ap.add_argument(
        "--caught-up",
        action="store_true",
        help="recompute between the phases (untimed): the mixed phase starts with every "
        "face counted, as where the loop keeps pace, instead of with a catch-up to do",
    )
    args = ap.parse_args()
    work = list(photos(sample_dir(args.data)).items())
    data = Path(tempfile.mkdtemp(prefix="huchu-mixed-"))
    port = free_port()
    env = {
        "HUCHU_ADMIN_TOKEN": ADMIN,
        "HUCHU_RATE_LIMIT_PER_MINUTE": "0",
        "HUCHU_RECOMPUTE_SECONDS": "0",
    }
    server = huchu_serve(data, port, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url):
            sys.exit("huchu serve did not start")
        print(
            f"huchu serve, {os.cpu_count()} cores, {args.uploaders} uploaders, "
            f"{args.seconds:.0f} s per phase"
        )
        baseline = Load(url, work)
        baseline.run(args.seconds, args.uploaders, mixed=False)
        if args.caught_up:
            t0 = time.perf_counter()
            httpx.post(
                f"{url}/api/averages/recompute",
                headers={"Authorization": f"Bearer {ADMIN}"},
                timeout=600,
            ).raise_for_status()
            print(f"caught up between the phases in {time.perf_counter() - t0:.1f} s")
        mixed = Load(url, work)
        mixed.owned = list(baseline.owned)
        mixed.run(args.seconds, args.uploaders, mixed=True)
        counted = httpx.get(f"{url}/api/averages", timeout=60).json()["cohorts"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    up0, up1 = baseline.latency["upload"], mixed.latency["upload"]
    recs = mixed.latency["recompute"]
    dels, reads = mixed.latency["delete"], mixed.latency["read"]
    print(f"{'':28} {'n':>5} {'p50 s':>7} {'p95 s':>7}")
    print(f"{'upload, uploaders alone':28} {len(up0):5} {pct(up0, 0.5):7.2f} {pct(up0, 0.95):7.2f}")
    print(f"{'upload, mixed load':28} {len(up1):5} {pct(up1, 0.5):7.2f} {pct(up1, 0.95):7.2f}")
    print(f"{'delete, mixed load':28} {len(dels):5} {pct(dels, 0.5):7.2f} {pct(dels, 0.95):7.2f}")
    print(f"{'read, mixed load':28} {len(reads):5} {pct(reads, 0.5):7.2f} {pct(reads, 0.95):7.2f}")
    print(
        f"{'recompute, mixed load':28} {len(recs):5} {pct(recs, 0.5):7.2f} {pct(recs, 0.95):7.2f}"
    )
    faces = next((c["count"] for c in counted if c["cohort"] == "all"), 0)
    print(f"faces in the averages at the end: {faces}")
    print(f"upload p95 mixed / alone: {pct(up1, 0.95) / pct(up0, 0.95):.2f}x (target <= 2x)")
    print(f"delete p95: {pct(dels, 0.95):.2f} s (target <= 1 s)")
    print(f"errors: {mixed.errors or baseline.errors or 'none'}")
    print(f"worker peak on a 40 MP JPEG: {worker_peak_mb()} MB (target <= 600 MB)")


if __name__ == "__main__":
    main()
