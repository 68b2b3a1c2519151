"""Images/s through Ray Serve at concurrency 1, 8 and 16, beside in-process inference.

Starts local Ray (ports pinned), runs ``serve.app:build_app`` with one detector replica
(so every batch is seen; ``--max-replicas N`` lets it autoscale from one to N at the
config's target), and posts the celebrity sample to ``/analyze`` from each number of
concurrent clients (``--concurrency``). In the same run, the baseline: the same engine in this process,
image by image (``analyze_bytes``) and in batches of 8 (``analyze_many``), with one
OpenMP thread as Ray gives a one-CPU replica. Prints
images/s, the ratio to the in-process baseline, and the batch-size histogram that the
``x-huchu-batch-size`` header reports.

    python benchmarks/serve.py [--data DIR] [--engine dlib|insightface] [--rounds N]
        [--concurrency 1 8 16] [--max-replicas 1]

``--engine insightface`` uses stand-in buffalo_l files (real shapes, random weights)
unless ``--models`` points at a real pack.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Ray gives a replica with num_cpus=1 one OpenMP thread; the baseline gets the same.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from benchmarks.common import photos, sample_dir  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def in_process(engine: object, images: list[bytes]) -> tuple[float, float]:
    """Images/s one at a time, and in batches of 8 (detection per image either way)."""
    from huchu.analysis import analyze_bytes
    from huchu.batch_analysis import analyze_many

    start = time.perf_counter()
    for data in images:
        analyze_bytes(engine, data)  # type: ignore[arg-type]
    single = len(images) / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(0, len(images), 8):
        analyze_many(
            engine,  # type: ignore[arg-type]
            images[i : i + 8],
            max_side=1600,
            min_score=0.75,
            max_pixels=40_000_000,
        )
    batched = len(images) / (time.perf_counter() - start)
    return single, batched


async def through_serve(
    url: str, images: list[bytes], concurrency: int
) -> tuple[float, collections.Counter[int]]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for data in images:
        queue.put_nowait(data)
    sizes: collections.Counter[int] = collections.Counter()

    async def client() -> None:
        async with httpx.AsyncClient(timeout=300) as http:
            while not queue.empty():
                data = queue.get_nowait()
                r = await http.post(f"{url}/analyze", content=data)
                r.raise_for_status()
                sizes[int(r.headers["x-huchu-batch-size"])] += 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return len(images) / (time.perf_counter() - start), sizes


def _detector_replicas() -> int:
    from ray import serve
    from ray.serve._private.common import ReplicaState

    status = serve.status().applications["huchu"].deployments["Detector"]
    return int(status.replica_states.get(ReplicaState.RUNNING, 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data")
    parser.add_argument("--engine", default="dlib", choices=["dlib", "insightface"])
    parser.add_argument("--models", help="a models dir with buffalo_l/ (insightface)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--max-replicas", type=int, default=1)
    args = parser.parse_args()
    images = list(photos(sample_dir(args.data)).values()) * args.rounds

    tmp = tempfile.TemporaryDirectory()
    models = Path(args.models) if args.models else Path(tmp.name)
    if args.engine == "insightface" and not args.models:
        from tests import standins

        standins.buffalo_l(models)

    from huchu.engines.factory import build_engine

    engine = build_engine(args.engine, models)
    in_process(engine, images[:8])  # warm-up
    first = in_process(engine, images)

    import ray
    from ray import serve

    from serve.app import build_app
    from serve.args import AppArgs

    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    port = free_port()
    ray.init(
        num_cpus=os.cpu_count() or 2,
        include_dashboard=False,
        _metrics_export_port=free_port(),
        log_to_driver=False,
    )
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        app = build_app(
            AppArgs(
                engine=args.engine,
                models_dir=str(models),
                min_replicas=1,
                max_replicas=args.max_replicas,
                swap=False,
            )
        )
        serve.run(app, name="huchu", route_prefix="/")
        url = f"http://127.0.0.1:{port}"
        asyncio.run(through_serve(url, images[:4], 2))  # warm-up
        results = {c: asyncio.run(through_serve(url, images, c)) for c in args.concurrency}
        replicas = _detector_replicas()
    finally:
        serve.shutdown()
        ray.shutdown()
    # The baseline again, after Ray has gone: the better of the two runs counts.
    second = in_process(engine, images)
    tmp.cleanup()
    single, batched = max(first[0], second[0]), max(first[1], second[1])

    print(
        f"engine {args.engine}, {len(images)} images, {os.cpu_count()} cores, "
        f"detector replicas 1 to {args.max_replicas} ({replicas} at the end), "
        f"target_ongoing_requests {AppArgs().detector_target:g}"
    )
    print(f"{'run':36s} {'images/s':>9s} {'vs in-process':>14s}")
    print(f"{'in-process, one at a time (baseline)':36s} {single:9.2f} {1.0:13.2f}x")
    print(f"{'in-process, batches of 8':36s} {batched:9.2f} {batched / single:13.2f}x")
    for concurrency, (rate, _) in results.items():
        print(
            f"{'Ray Serve, concurrency ' + str(concurrency):36s} {rate:9.2f} {rate / single:13.2f}x"
        )
    for concurrency, (_, sizes) in results.items():
        hist = ", ".join(f"{size}: {count}" for size, count in sorted(sizes.items()))
        batched = sum(n for size, n in sizes.items() if size > 1) / max(1, sum(sizes.values()))
        print(
            f"batch sizes at concurrency {concurrency} (size: requests): {hist}; "
            f"{batched:.0%} of requests in batches larger than 1"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
