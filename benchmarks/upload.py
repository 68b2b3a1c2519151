"""End-to-end uploads through HTTP to `huchu serve`, beside raw multi-core analysis.

Starts `huchu serve` on a free port with a fresh data dir, uploads the celebrity
sample at concurrency 1 and 4, and prints photos/s and p50/p95 latency; then
measures the multi-core analysis throughput of the engines benchmark (a process
pool over all cores, no HTTP, no storage) in the same run, and the ratio.

    .venv/bin/python benchmarks/upload.py [--data DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing as mp
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import photos, sample_dir
from huchu.analysis import EngineSpec
from huchu.config import Settings
from huchu.inference.local import worker_analyze as _worker_analyze
from huchu.inference.local import worker_init as _worker_init

EVENT = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def upload_all(
    url: str, work: list[tuple[str, bytes]], concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    local = threading.local()

    def one(item: tuple[str, bytes]) -> None:
        name, data = item
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=120)
        t = time.perf_counter()
        r = local.client.post(
            f"{url}/api/photos",
            files={"file": (name, data, "image/jpeg")},
            data={"consent": "true", "event": EVENT},
        )
        latencies.append(time.perf_counter() - t)
        if r.status_code not in (201, 422):
            raise RuntimeError(f"{name}: {r.status_code} {r.text[:200]}")

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, work))
    return time.perf_counter() - t0, sorted(latencies)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--photos", type=int, default=0, help="the first N photos only (0: all)")
    args = ap.parse_args()
    images = photos(sample_dir(args.data))
    if args.photos:
        images = dict(list(images.items())[: args.photos])
    work = list(images.items()) * args.rounds
    cores = os.cpu_count() or 2

    data_dir = Path(tempfile.mkdtemp(prefix="huchu-bench-"))
    port = free_port()
    admin = secrets.token_urlsafe(24)  # to set up the event this run uploads to
    env = {
        **os.environ,
        "HUCHU_ADMIN_TOKEN": admin,
        "HUCHU_RATE_LIMIT_PER_MINUTE": "0",
        "HUCHU_RECOMPUTE_SECONDS": "0",
        "HUCHU_ENGINE": "dlib",
    }
    huchu = str(Path(sys.executable).parent / "huchu")
    server = subprocess.Popen(
        [huchu, "serve", "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("huchu serve did not become ready in 120 s")
        put = httpx.put(
            f"{url}/api/events/{EVENT}",
            json={"name": "Upload benchmark"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        put.raise_for_status()
        upload_all(url, work[: cores * 2], cores * 2)  # warm every worker
        results = {c: upload_all(url, work, c) for c in (1, 4)}
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(data_dir, ignore_errors=True)

    spec = EngineSpec.from_settings(Settings(engine="dlib", models_dir=Path("models")))
    datas = [d for _, d in work]
    with cf.ProcessPoolExecutor(
        cores, mp_context=mp.get_context("spawn"), initializer=_worker_init, initargs=(spec,)
    ) as pool:
        list(pool.map(_worker_analyze, datas[: cores * 2]))
        t0 = time.perf_counter()
        list(pool.map(_worker_analyze, datas))
        t_pool = time.perf_counter() - t0
    pool_rate = len(datas) / t_pool

    n = len(work)
    print(f"photos: {n} ({len(images)} x {args.rounds} rounds), cores: {cores}")
    print(f"{'run':40} {'photos/s':>9} {'p50 s':>7} {'p95 s':>7} {'vs pool':>8}")
    print(
        f"{'analysis process pool (no HTTP/storage)':40} {pool_rate:9.2f} {'':>7} {'':>7} {1.0:7.2f}x"
    )
    for c, (t, lat) in results.items():
        rate = n / t
        print(
            f"{'huchu serve, concurrency ' + str(c):40} {rate:9.2f} {pct(lat, 0.5):7.3f} {pct(lat, 0.95):7.3f} {rate / pool_rate:7.2f}x"
        )


if __name__ == "__main__":
    main()
