"""The quality gate's calibration: who counts, on photos with known answers.

    python -m benchmarks.gate [--data DIR] [--groups DIR] [--drift]

Prints, for the bundled engine:
- the resemblance scale on the sample's 300 labelled pairs (what a participant reads);
- main faces: every labelled photo of the celebrity sample has one participant; it must count;
- crowd scenes: each labelled photo with another one's face pasted behind it (shrunk,
  blurred, cut by the border, as ``tests/scenes.py`` builds them): the participant counts,
  the bystander is left out with the expected reason;
- group photos: the celebrity sample's two group photos, every face listed with its reason;
- the check set (``../shared/datasets/group-sample``, tuned on nothing): every boxed face at
  least the gate's minimum size should count;
- with ``--drift``: how far a face's embedding drifts from its own full-resolution one as it
  is shrunk or blurred, against the engine's same-person threshold (where the size and
  sharpness limits come from).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, labels, sample_dir
from huchu.analysis import analyze_rgb
from huchu.config import DEFAULTS
from huchu.engines.base import RGB, Face, FaceEngine
from huchu.imaging.decode import decode_image
from huchu.quality import Gate
from tests.scenes import KINDS, nearest, scene

GROUPS = ROOT.parent / "shared" / "datasets" / "group-sample"
GATE = Gate(min_score=DEFAULTS.min_det_score, min_px=DEFAULTS.min_face_px)


def judged(engine: FaceEngine, rgb: RGB) -> tuple[list[Face], list[str | None]]:
    faces = analyze_rgb(engine, rgb)
    return faces, GATE.judge(rgb, faces)


def load(path: Path) -> RGB:
    return decode_image(path.read_bytes(), max_pixels=DEFAULTS.max_image_pixels).rgb


def main_faces(engine: FaceEngine, data: Path) -> dict[str, tuple[RGB, Face]]:
    out: dict[str, tuple[RGB, Face]] = {}
    counted = 0
    for name in sorted(labels(data)):
        rgb = load(data / name)
        faces, reasons = judged(engine, rgb)
        ok = [f for f, r in zip(faces, reasons, strict=True) if r is None]
        best = max((f for f in faces if f.det_score >= GATE.min_score), key=lambda f: f.face_px)
        counted += bool(ok) and best in ok
        if not ok or best not in ok:
            print(f"  main face of {name} left out: {reasons}")
        out[name] = (rgb, best)
    print(f"main faces counted: {counted}/{len(out)}")
    return out


def crowd(engine: FaceEngine, mains: dict[str, tuple[RGB, Face]]) -> None:
    names = sorted(mains)
    table: dict[str, Counter[str]] = {k: Counter() for k in KINDS}
    for i, name in enumerate(names):
        rgb, face = mains[name]
        other_rgb, other = mains[names[(i + 7) % len(names)]]
        for kind in KINDS:
            s = scene(rgb, face.bbox, other_rgb, other.bbox, kind)
            faces, reasons = judged(engine, s.rgb)
            boxes = [f.bbox for f in faces]
            main_ok = bool(faces) and reasons[nearest(boxes, s.main)] is None
            j = nearest(boxes, s.bystander) if faces else -1
            found = j >= 0 and _overlap(boxes[j], s.bystander) > 0.3
            got = reasons[j] if found else "not found"
            table[kind]["main counted" if main_ok else "MAIN LEFT OUT"] += 1
            table[kind][f"bystander {got}"] += 1
    print("crowd scenes (participant + one bystander):")
    for kind, counts in table.items():
        print(f"  {kind:8s} expected {KINDS[kind][3]:11s} {dict(counts)}")


def groups(engine: FaceEngine, data: Path) -> None:
    for name in ("couple.jpg", "selfie-many-people.jpg"):
        faces, reasons = judged(engine, load(data / name))
        listed = ", ".join(f"{f.face_px}px {r or 'counts'}" for f, r in zip(faces, reasons, strict=True))
        print(f"{name}: {listed}")


def check_set(engine: FaceEngine, data: Path) -> None:
    boxes: dict[str, list[tuple[float, float, float, float]]] = {}
    with open(data / "boxes.csv") as f:
        for r in csv.DictReader(f):
            x, y, w, h = (float(r[k]) for k in ("left", "top", "width", "height"))
            boxes.setdefault(r["file"], []).append((x, y, x + w, y + h))
    total = big = counted = 0
    reasons_seen: Counter[str] = Counter()
    for name, boxed in sorted(boxes.items()):
        faces, reasons = judged(engine, load(data / name))
        for b in boxed:
            total += 1
            j = nearest([f.bbox for f in faces], b) if faces else -1
            if j < 0 or _overlap(faces[j].bbox, b) < 0.3:
                reasons_seen["not found"] += 1
                continue
            if faces[j].face_px < GATE.min_px:
                reasons_seen["under the minimum size"] += 1
                continue
            big += 1
            counted += reasons[j] is None
            reasons_seen[reasons[j] or "counts"] += 1
    print(
        f"check set (group-sample): {counted}/{big} boxed faces of at least {GATE.min_px} px "
        f"count ({total} boxed): {dict(reasons_seen)}"
    )


def drift(engine: FaceEngine, mains: dict[str, tuple[RGB, Face]], same: float) -> None:
    print(f"drift from the face's own full-resolution embedding (same person >= {same}):")
    sizes: dict[int, list[float]] = {}
    blurs: dict[float, list[tuple[float, float]]] = {}
    for rgb, face in mains.values():
        centre = ((face.bbox[0] + face.bbox[2]) / 2, (face.bbox[1] + face.bbox[3]) / 2)
        for px in (16, 20, 24, 32, 48):
            k = px / face.face_px
            small = np.asarray(cv2.resize(rgb, (round(rgb.shape[1] * k), round(rgb.shape[0] * k)), interpolation=cv2.INTER_AREA), np.uint8)
            found = _at(engine, small, (centre[0] * k, centre[1] * k))
            if found is not None:
                sizes.setdefault(px, []).append(float(found.embedding @ face.embedding))
        for share in (0.01, 0.02, 0.03, 0.04, 0.06):
            blurred = np.asarray(cv2.GaussianBlur(rgb, (0, 0), share * face.face_px), np.uint8)
            found = _at(engine, blurred, centre)
            if found is not None:
                blurs.setdefault(share, []).append((float(found.embedding @ face.embedding), found.sharpness))
    for px, found_sims in sizes.items():
        a = np.asarray(found_sims)
        print(f"  face {px:3d} px: median {np.median(a):.3f}, lowest {a.min():.3f}, itself {np.mean(a >= same):.0%}")
    pairs = [p for v in blurs.values() for p in v]
    for lo, hi in ((0, 10), (10, 20), (20, 40), (40, 100), (100, 1e9)):
        band = np.asarray([s for s, sh in pairs if lo <= sh < hi])
        if len(band):
            print(f"  sharpness {lo:>4.0f}-{hi:<5.0f}: n {len(band):2d}, median {np.median(band):.3f}, lowest {band.min():.3f}, itself {np.mean(band >= same):.0%}")


def scale(engine: FaceEngine, mains: dict[str, tuple[RGB, Face]], data: Path) -> None:
    """The resemblance scale on the sample's labelled pairs: what a participant reads."""
    from benchmarks.common import pairs
    from huchu.resemblance import resemblance

    same: list[int] = []
    strangers: list[int] = []
    for a, b, is_same in pairs(data):
        score = float(mains[a][1].embedding @ mains[b][1].embedding)
        (same if is_same else strangers).append(resemblance(score, engine.info.thresholds))
    s, d = np.asarray(same), np.asarray(strangers)
    print(
        f"resemblance on {len(s) + len(d)} pairs: same person {len(s)} pairs, lowest {s.min()}, "
        f"median {np.median(s):.0f}; strangers {len(d)} pairs, median {np.median(d):.0f}, "
        f"95th percentile {np.percentile(d, 95):.0f}, highest {d.max()}"
    )


def _at(engine: FaceEngine, rgb: RGB, centre: tuple[float, float]) -> Face | None:
    faces = analyze_rgb(engine, rgb)
    if not faces:
        return None
    return min(faces, key=lambda f: ((f.bbox[0] + f.bbox[2]) / 2 - centre[0]) ** 2 + ((f.bbox[1] + f.bbox[3]) / 2 - centre[1]) ** 2)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="the celebrity sample (default ../shared/datasets/celebrity-sample)")
    ap.add_argument("--groups", default=str(GROUPS), help="the group sample, for checking only")
    ap.add_argument("--drift", action="store_true", help="also measure the embedding drift")
    args = ap.parse_args()
    from huchu.engines.bundled import BundledEngine

    engine = BundledEngine()
    data = sample_dir(args.data)
    mains = main_faces(engine, data)
    scale(engine, mains, data)
    crowd(engine, mains)
    groups(engine, data)
    if (Path(args.groups) / "boxes.csv").is_file():
        check_set(engine, Path(args.groups))
    if args.drift:
        drift(engine, mains, engine.info.thresholds.same_person)


if __name__ == "__main__":
    main()
