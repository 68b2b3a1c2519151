"""Shared helpers for the benchmarks: the sample photos and timing."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "datasets" / "celebrity-sample"


def sample_dir(arg: str | None) -> Path:
    path = Path(arg) if arg else SAMPLE
    if not (path / "labels.csv").is_file():
        sys.exit(f"celebrity sample not found at {path}; pass --data DIR")
    return path


def photos(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.glob("*.jpg"))}


def labels(path: Path) -> dict[str, str]:
    with open(path / "labels.csv") as f:
        return {r["file"]: r["gender"] for r in csv.DictReader(f)}


def pairs(path: Path) -> list[tuple[str, str, bool]]:
    with open(path / "pairs.csv") as f:
        return [(r["file_a"], r["file_b"], r["same_person"] == "yes") for r in csv.DictReader(f)]


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best
