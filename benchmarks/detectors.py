"""The bundled engine's face detectors side by side: recall, false positives, ms/image.

The set: the celebrity sample, insightface's t1.jpg and Tom Hanks portrait, the
face_recognition test photos, and variants made here (group photos mirrored,
downscaled and rotated by 20 degrees; portraits rotated by 20 to 45 degrees).
Faces were counted by hand and are stored below as centre points; a detection
whose box holds a centre finds that face, an accepted detection holding none is a
false positive. Rows: HOG never upsampling (``hog-up0``, the time base), HOG as the
engine runs it (``hog``: pictures up to 640 px upsampled once) and RetinaFace; they take
turns on the same pictures in one run, and times are ratios against ``hog-up0``.

    .venv/bin/python benchmarks/detectors.py [--data DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import labels, pairs, photos, sample_dir
from huchu.analysis import analyze_bytes
from huchu.config import BundledDetector
from huchu.engines.bundled import BundledEngine
from huchu.engines.bundled.detect import Detection, Detector, HogDetector, make_detector
from huchu.imaging.decode import decode_image, downscale
from tests.conftest import _face_recognition_images, _insightface_images

GATE = 0.75
KINDS = ("original", "group variant", "rotated")
Point = tuple[float, float]

# Centres of every face, in the original file's pixels, counted by hand.
FACES: dict[str, list[Point]] = {
    "couple.jpg": [(356, 516), (947, 396)],
    "img1.jpg": [(496, 425)],
    "img2.jpg": [(644, 362)],
    "img3.jpg": [(503, 490)],
    "img4.jpg": [(475, 387)],
    "img5.jpg": [(177, 227)],
    "img6.jpg": [(392, 480)],
    "img7.jpg": [(431, 513)],
    "img8.jpg": [(319, 298)],
    "img9.jpg": [(356, 419)],
    "img10.jpg": [(200, 241)],
    "img11.jpg": [(291, 262)],
    "img12.jpg": [(294, 161)],
    "img13.jpg": [(619, 292)],
    "img14.jpg": [(415, 172)],
    "img15.jpg": [(671, 401)],
    "img16.jpg": [(385, 195)],
    "img17.jpg": [(479, 237)],
    "img18.jpg": [(618, 499)],
    "img19.jpg": [(468, 500)],
    "img20.jpg": [(443, 290)],
    "img21.jpg": [(193, 224)],
    "img22.jpg": [(902, 357)],
    "img23.jpg": [(631, 415)],
    "img24.jpg": [(625, 575)],
    "img25.jpg": [(208, 178)],
    # Seven people; the woman at the bottom left shows an eye, nose and mouth
    # at the frame's edge, the man in front fills the right edge.
    "selfie-many-people.jpg": [
        (40, 306),
        (34, 496),
        (149, 369),
        (260, 189),
        (422, 202),
        (572, 150),
        (548, 435),
    ],
    "t1.jpg": [(115, 328), (320, 209), (521, 341), (796, 411), (956, 132), (1178, 338)],
    "Tom_Hanks_54745.png": [(47, 61)],
    "32bit.png": [(341, 427)],
    "biden.jpg": [(566, 368)],
    "obama.jpg": [(490, 251)],
    "obama2.jpg": [(340, 426)],
    "obama3.jpg": [(777, 439)],
    "obama_partial_face.jpg": [(94, 254)],
    "obama_partial_face2.jpg": [(481, 252)],
}
# Faces a detector may box or skip: heavily blurred, half outside the frame.
OPTIONAL: dict[str, list[Point]] = {"img16.jpg": [(38, 300)]}

GROUPS = ("t1.jpg", "couple.jpg", "selfie-many-people.jpg")
ROTATED_PORTRAITS = ("img2.jpg", "img5.jpg", "img8.jpg", "img11.jpg", "img14.jpg",
                     "img17.jpg", "img20.jpg", "img23.jpg", "obama.jpg", "biden.jpg",
                     "Tom_Hanks_54745.png")  # fmt: skip


@dataclass(frozen=True)
class Picture:
    name: str
    kind: str  # original, group variant, rotated
    rgb: NDArray[np.uint8]
    faces: list[Point]
    optional: list[Point]


def rotate(rgb: NDArray[np.uint8], degrees: float, pts: list[Point]) -> tuple[
    NDArray[np.uint8], list[Point]
]:  # fmt: skip
    """Counter-clockwise on an enlarged canvas, as a photo editor does; points follow."""
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = math.ceil(h * s + w * c), math.ceil(h * c + w * s)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(rgb, m, (nw, nh), flags=cv2.INTER_LINEAR)
    moved = [(float(m[0] @ (x, y, 1)), float(m[1] @ (x, y, 1))) for x, y in pts]
    return np.ascontiguousarray(out), moved


def resize(rgb: NDArray[np.uint8], side: int, pts: list[Point]) -> tuple[
    NDArray[np.uint8], list[Point]
]:  # fmt: skip
    small, scale = downscale(rgb, side)
    return np.ascontiguousarray(small), [(x * scale, y * scale) for x, y in pts]


def pictures(sample: Path) -> Iterator[Picture]:
    files = {p.name: p for p in sample.glob("*.jpg")}
    files["t1.jpg"] = _insightface_images() / "t1.jpg"
    files["Tom_Hanks_54745.png"] = _insightface_images() / "Tom_Hanks_54745.png"
    for p in _face_recognition_images().iterdir():
        files[p.name] = p
    for name, faces in FACES.items():
        rgb = decode_image(files[name].read_bytes()).rgb
        opt = OPTIONAL.get(name, [])
        small, f = resize(rgb, 1600, faces)
        yield Picture(name, "original", small, f, resize(rgb, 1600, opt)[1])
        if name in GROUPS:
            w = rgb.shape[1]
            small, f = resize(np.ascontiguousarray(rgb[:, ::-1]), 1600,
                              [(w - 1 - x, y) for x, y in faces])  # fmt: skip
            yield Picture(f"{name} mirrored", "group variant", small, f, [])
            for side in (640, 400):
                small, f = resize(rgb, side, faces)
                yield Picture(f"{name} {side}px", "group variant", small, f, [])
            for deg in (20, -20):
                turned, f = rotate(rgb, deg, faces)
                small, f = resize(turned, 1600, f)
                yield Picture(f"{name} {deg:+d}deg", "group variant", small, f, [])
        if name in ROTATED_PORTRAITS:
            for deg in (20, -35, 45):
                turned, f = rotate(rgb, deg, faces)
                small, f = resize(turned, 1600, f)
                yield Picture(f"{name} {deg:+d}deg", "rotated", small, f, [])


def inside(p: Point, box: tuple[int, int, int, int]) -> bool:
    left, top, right, bottom = box
    return left <= p[0] <= right + 1 and top <= p[1] <= bottom + 1


def score(pic: Picture, found: list[Detection]) -> tuple[int, int, list[float], list[float]]:
    """Faces found, false positives, and the scores of true faces and of non-faces."""
    left = list(pic.faces)
    hits = fps = 0
    true_scores: list[float] = []
    other_scores: list[float] = []
    for d in sorted(found, key=lambda d: -d.score):
        mine = [p for p in left if inside(p, d.box)]
        if mine:
            left.remove(mine[0])
            true_scores.append(d.score)
            hits += d.score >= GATE
        elif not any(inside(p, d.box) for p in pic.optional):
            other_scores.append(d.score)
            fps += d.score >= GATE
    return hits, fps, true_scores, other_scores


@dataclass
class Tally:
    """One detector's results over the set."""

    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    faces: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    fps: int = 0
    seconds: float = 0.0
    true_scores: list[float] = field(default_factory=list)
    other_scores: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def add(self, pic: Picture, found: list[Detection], seconds: float) -> None:
        h, f, ts, os_ = score(pic, found)
        self.hits[pic.kind] += h
        self.faces[pic.kind] += len(pic.faces)
        self.fps += f
        self.seconds += seconds
        self.true_scores += ts
        self.other_scores += os_
        if h < len(pic.faces):
            self.missed.append(f"{pic.name} ({len(pic.faces) - h})")
        if f:
            self.wrong.append(f"{pic.name} ({f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument(
        "--misses", action="store_true", help="list the pictures with misses or false positives"
    )
    args = ap.parse_args()
    sample = sample_dir(args.data)
    pics = list(pictures(sample))
    names: tuple[BundledDetector, ...] = ("hog", "retinaface")
    # The first row, the time base: HOG never upsampling, its fastest setting.
    detectors: dict[str, Detector] = {"hog-up0": HogDetector(upsample_below_px=0)}
    detectors.update({n: make_detector(n) for n in names})
    total = sum(len(p.faces) for p in pics)
    print(f"pictures: {len(pics)}, faces: {total}, accepted at det_score >= {GATE}")
    header = f"{'detector':11} {'recall':>7}" + "".join(f" {k:>13}" for k in KINDS)
    print(
        header + f" {'false pos':>9} {'ms/image':>9} {'vs up0':>7} {'min face':>8} {'max other':>9}"
    )
    tallies = {name: Tally() for name in detectors}
    for det in detectors.values():
        det.detect(pics[0].rgb)  # load and warm up
    # Detectors take turns on each picture, so load on the machine hits both alike.
    for pic in pics:
        for name, det in detectors.items():
            t = time.perf_counter()
            found = det.detect(pic.rgb)
            tallies[name].add(pic, found, time.perf_counter() - t)
    base = tallies["hog-up0"].seconds
    for name, tally in tallies.items():
        cols = "".join(f" {tally.hits[k] / tally.faces[k]:13.3f}" for k in KINDS)
        print(
            f"{name:11} {sum(tally.hits.values()) / total:7.3f}{cols} {tally.fps:9d}"
            f" {1000 * tally.seconds / len(pics):9.1f} {tally.seconds / base:6.2f}x"
            f" {min(tally.true_scores, default=float('nan')):8.3f}"
            f" {max(tally.other_scores, default=0.0):9.3f}"
        )
        if args.misses:
            print(f"  missed: {', '.join(tally.missed) or 'none'}")
            print(f"  false positives: {', '.join(tally.wrong) or 'none'}")
    print("celebrity sample, largest accepted face per photo, cosine of unit descriptors:")
    for name in names:
        calibrate(sample, name)


def calibrate(sample: Path, detector: BundledDetector) -> None:
    """Gender and same-person accuracy of the whole engine, and where thresholds fall."""
    engine = BundledEngine(detector)
    main_face = {}
    for name, data in photos(sample).items():
        accepted = [f for f in analyze_bytes(engine, data).faces if f.det_score >= GATE]
        if accepted:
            main_face[name] = max(accepted, key=lambda f: f.face_px)
    truth = labels(sample)
    gender = sum(main_face[k].gender == g for k, g in truth.items() if k in main_face)
    sims = [
        (float(main_face[a].embedding @ main_face[b].embedding), s) for a, b, s in pairs(sample)
    ]
    same = [v for v, s in sims if s]
    other = [v for v, s in sims if not s]
    th = engine.info.thresholds
    right = sum((v >= th.same_person) == s for v, s in sims)
    print(
        f"{detector:11} gender {gender}/{len(truth)}, verification {right}/{len(sims)} at "
        f"same_person={th.same_person}; same-person pairs {min(same):.4f}..{max(same):.4f}, "
        f"different-person max {max(other):.4f}, 95th percentile {np.percentile(other, 95):.4f}"
    )


if __name__ == "__main__":
    main()
