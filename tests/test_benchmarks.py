"""Every benchmark under benchmarks/ runs, on its smallest settings, so that none rots.

Each runs as a user runs it (its own process, from the repository root). Those that need
what a fresh clone may lack (the celebrity sample in ../shared, a GPU, a Ray cluster) are
skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "datasets" / "celebrity-sample"
# The smallest settings of each benchmark; every file under benchmarks/ is listed.
SMALLEST: dict[str, list[str]] = {
    "analyze.py": ["--rounds", "1", "--workers", "1"],
    "averages.py": ["--quick"],
    "cold_start.py": ["--rounds", "1"],
    "detectors.py": [],
    "fidelity.py": ["--data", str(SAMPLE)],
    "gate.py": [],
    "gpu.py": ["--quick", "--batches", "1"],
    "lighthouse.py": ["--photos", "1", "--pages", "index", "--workers", "1"],
    "mixed_load.py": ["--seconds", "3", "--uploaders", "1"],
    "scale.py": ["--sizes", "2000", "--shapes", "cone", "--no-index"],
    "serve.py": ["--rounds", "1"],
    "upload.py": ["--rounds", "1", "--photos", "3"],
}
NEEDS_SAMPLE = {"analyze.py", "averages.py", "cold_start.py", "detectors.py", "fidelity.py"}
NEEDS_SAMPLE |= {"gate.py"}
NEEDS_SAMPLE |= {"lighthouse.py", "mixed_load.py", "serve.py", "upload.py"}
SECONDS = 300

pytestmark = pytest.mark.benchmarks


def test_every_benchmark_is_listed() -> None:
    found = {p.name for p in (ROOT / "benchmarks").glob("*.py")} - {"__init__.py", "common.py"}
    assert found == set(SMALLEST)


def _skip_reason(name: str) -> str | None:
    if name in NEEDS_SAMPLE and not (SAMPLE / "labels.csv").is_file():
        return f"needs the celebrity sample at {SAMPLE}"
    if name == "gpu.py":
        import torch

        if not torch.cuda.is_available():
            return "needs a CUDA GPU"
    if name == "serve.py" and not os.environ.get("HUCHU_BENCH_RAY"):
        return "starts a Ray cluster (set HUCHU_BENCH_RAY=1 to run it)"
    if name == "lighthouse.py" and not (shutil.which("chromium") or shutil.which("node")):
        return "needs Chromium and node"
    return None


@pytest.mark.parametrize("name", sorted(SMALLEST))
def test_benchmark_runs_on_its_smallest_settings(name: str) -> None:
    reason = _skip_reason(name)
    if reason:
        pytest.skip(reason)
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *SMALLEST[name]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.stdout.strip(), out.stderr[-3000:]
