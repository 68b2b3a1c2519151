"""Fidelity and detail of the rendered averages and the template portraits.

Per cohort and picture (the plain average, each template portrait): the picture is
analysed again by the bundled engine and its embedding compared with the cohort's mean
identity as the game computes it (persons grouped at the same-person threshold, each
person weighted once), beside the best real face of the cohort; and the face's sharpness
(variance of the Laplacian, face scaled to 256 px wide) beside the inputs' median. The
template's own identity is measured too: the portrait's cosine to the template's face.

    python -m benchmarks.fidelity --data /path/to/celebrity-sample
    python -m benchmarks.fidelity --data ../shared/datasets/group-sample

The pictures are drawn as the game draws them: only the faces the quality gate counts
(with a ``labels.csv``, each labelled photo's main face; without, every counted face of
every photo), each face's own pixels only (the photo's other faces weigh nothing), and
each person once (a face at one over its person's faces).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from huchu.analysis import analyze_rgb
from huchu.config import DEFAULTS
from huchu.engines.base import Face
from huchu.engines.bundled import BundledEngine
from huchu.engines.infos import SAME_PERSON
from huchu.game.persons import group, person_mean
from huchu.game.render.morph import MorphState, warp_to_canonical
from huchu.game.render.present import present
from huchu.game.render.version import SHIPPED, TemplateJob, draw
from huchu.imaging.decode import decode_image
from huchu.quality import Gate


def face_sharpness(rgb: NDArray[np.uint8], bbox: tuple[float, float, float, float]) -> float:
    h, w = rgb.shape[:2]
    x1, y1, x2, y2 = (round(v) for v in bbox)
    crop = rgb[max(0, y1) : min(h, y2), max(0, x1) : min(w, x2)]
    scale = 256 / crop.shape[1]
    size = (256, max(1, round(crop.shape[0] * scale)))
    face = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    return float(cv2.Laplacian(cv2.cvtColor(face, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def unit(v: NDArray[np.float32]) -> NDArray[np.float64]:
    x = np.asarray(v, dtype=np.float64)
    return x / np.linalg.norm(x)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--save", type=Path, help="folder for the pictures (docs/images)")
    args = ap.parse_args()
    engine = BundledEngine()
    gate = Gate(min_score=DEFAULTS.min_det_score, min_px=DEFAULTS.min_face_px)
    labelled = (args.data / "labels.csv").is_file()
    if labelled:
        with open(args.data / "labels.csv") as fh:
            files = [row["file"] for row in csv.DictReader(fh)]
    else:
        files = sorted(p.name for p in args.data.glob("*.jpg"))
    faces: list[tuple[str, NDArray[np.uint8], Face]] = []
    others: dict[int, list[list[float]]] = {}
    for name in files:
        rgb = decode_image((args.data / name).read_bytes()).rgb
        found = analyze_rgb(engine, rgb)
        reasons = gate.judge(rgb, found)
        counted = [f for f, r in zip(found, reasons, strict=True) if r is None]
        if labelled and counted:
            counted = [max(counted, key=lambda f: f.face_px)]
        for f in counted:
            others[len(faces)] = [list(g.bbox) for g in found if g is not f]
            faces.append((f"{name}#{found.index(f) + 1}", rgb, f))
    vectors = np.array([f.embedding for _, _, f in faces], dtype=np.float64)
    groups = group([n for n, _, _ in faces], vectors, SAME_PERSON).groups()
    weight = {i: 1.0 / len(idx) for idx in groups.values() for i in idx}
    morph = MorphState()
    for i, (_, rgb, f) in enumerate(faces):
        warped = warp_to_canonical(rgb, np.asarray(f.landmarks, dtype=np.float64), others[i])
        if warped is not None:
            morph.add_warped(warped, f.gender, 1, True, weight[i])
    median = float(np.median([face_sharpness(rgb, f.bbox) for _, rgb, f in faces]))
    jobs = []
    for path in sorted(SHIPPED.glob("*.jpg")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        tf = sorted(
            (f for f in engine.detect(rgb) if f.det_score >= 0.75), key=lambda f: -f.face_px
        )
        tf = [f for f in tf if f.face_px >= 0.5 * tf[0].face_px][:2]
        placed = (
            [(tf[0], path.stem)]
            if path.stem in ("female", "male")
            else [(f, f.gender or "all") for f in tf]
        )
        jobs.append(TemplateJob(path.stem, rgb, tuple(placed)))
    drawn = draw(morph, {}, None, jobs)
    print(f"faces {len(faces)}, inputs' median face sharpness {median:.0f}")
    print(
        "| cohort | picture | persons | picture vs mean | best real face | margin | template's own face | sharpness | vs inputs' median |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for cohort in ("female", "male", "all"):
        mine = [(n, f) for n, _, f in faces if cohort == "all" or f.gender == cohort]
        vecs = np.array([f.embedding for _, f in mine], dtype=np.float64)
        mean, persons = person_mean(vecs, group([n for n, _ in mine], vecs, SAME_PERSON))
        best = float(max(unit(f.embedding) @ mean for _, f in mine))
        acc = morph.cohorts[cohort]
        image = acc.render()
        assert image is not None
        pictures: list[tuple[str, NDArray[np.uint8], Face | None]] = [
            ("plain average", present(image, acc.mean_shape()), None)
        ]
        for job in jobs:
            for on_template, c in job.faces:
                if c == cohort:
                    data = drawn.files[f"templates/{job.name}.jpg"][0]
                    pictures.append((f"portrait {job.name}", decode_image(data).rgb, on_template))
        for name, pic, tface in pictures:
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                prefix = "" if labelled else f"{args.data.name}-"
                Image.fromarray(pic).save(
                    args.save / f"{prefix}average-{cohort}-{name.split()[-1]}.jpg", quality=85
                )
            found = engine.detect(pic)
            if tface is not None:  # the face where the template's was
                found = [
                    f
                    for f in found
                    if abs(f.bbox[0] - tface.bbox[0]) < 0.5 * (tface.bbox[2] - tface.bbox[0])
                ]
            if not found:
                print(f"| {cohort} | {name} | {persons} | no face found | {best:.4f} | | | | |")
                continue
            seen = max(found, key=lambda x: x.face_px)
            score = float(unit(seen.embedding) @ mean)
            own = (
                ""
                if tface is None
                else f"{float(unit(seen.embedding) @ unit(tface.embedding)):.4f}"
            )
            sharp = face_sharpness(pic, seen.bbox)
            print(
                f"| {cohort} | {name} | {persons} | {score:.4f} | {best:.4f} | {score - best:+.4f} "
                f"| {own} | {sharp:.0f} | {sharp / median:.2f}x |"
            )


if __name__ == "__main__":
    main()
