"""Stage 2: 68 landmarks and dlib's 128-d ResNet descriptor, batched per image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from huchu.engines.bundled.files import RESNET, SHAPE_68, dlib_model


class LandmarkEmbedder:
    """One call per image: every face's 68 points and raw descriptor."""

    def __init__(self) -> None:
        import dlib

        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(dlib_model(SHAPE_68)))
        self._resnet = dlib.face_recognition_model_v1(str(dlib_model(RESNET)))

    def __call__(
        self, rgb: NDArray[np.uint8], boxes: Sequence[tuple[int, int, int, int]]
    ) -> tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]:
        dlib = self._dlib
        shapes = dlib.full_object_detections()
        points: list[NDArray[np.float64]] = []
        for left, top, right, bottom in boxes:
            shape = self._shape(rgb, dlib.rectangle(left, top, right, bottom))
            shapes.append(shape)
            points.append(np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64))
        if not boxes:
            return [], []
        vectors = self._resnet.compute_face_descriptor(rgb, shapes, 0)
        return points, [np.asarray(v, dtype=np.float64) for v in vectors]


def five_points(landmarks68: NDArray[np.float64]) -> NDArray[np.float64]:
    """The insightface 5-point order from 68 points: eyes, nose tip, mouth corners."""
    return np.stack(
        [
            landmarks68[36:42].mean(axis=0),
            landmarks68[42:48].mean(axis=0),
            landmarks68[30],
            landmarks68[48],
            landmarks68[54],
        ]
    )
