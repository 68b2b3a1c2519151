"""buffalo_l's per-face models run once per batch instead of once per face.

insightface's ``FaceAnalysis.get`` calls each model's ``get(img, face)`` face by face:
one ONNX call per face and model. Here each model gets one call over the crops of
every face of every image, with the same crops and post-processing as its ``get``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

BGR = NDArray[np.uint8]


def run_face_models(
    models: dict[str, Any], images: Sequence[BGR], faces: Sequence[Sequence[Any]]
) -> None:
    """Fill every insightface ``Face`` in ``faces[i]`` (found in ``images[i]``) in place."""
    pairs = [(img, face) for img, found in zip(images, faces, strict=True) for face in found]
    if not pairs:
        return
    for task, model in models.items():
        if task == "detection":
            continue
        if getattr(model, "input_shape", [None])[0] == 1:  # a model exported for batch 1
            for img, face in pairs:
                model.get(img, face)
            continue
        if task == "recognition":
            _recognition(model, pairs)
        elif task == "genderage":
            _genderage(model, pairs)
        elif task.startswith("landmark_"):
            _landmarks(model, pairs)
        else:  # a model this module does not know: its own per-face call
            for img, face in pairs:
                model.get(img, face)


def _recognition(model: Any, pairs: list[tuple[BGR, Any]]) -> None:
    from insightface.utils import face_align

    size = model.input_size[0]
    crops = [face_align.norm_crop(img, landmark=face.kps, image_size=size) for img, face in pairs]
    feats = model.get_feat(crops)
    for (_, face), feat in zip(pairs, feats, strict=True):
        face.embedding = feat.flatten()


def _box_crops(model: Any, pairs: list[tuple[BGR, Any]]) -> tuple[NDArray[np.float32], list[Any]]:
    """The square crop around each box that attribute and landmark models take."""
    from insightface.utils import face_align

    size = model.input_size[0]
    crops: list[BGR] = []
    matrices: list[Any] = []
    for img, face in pairs:
        x1, y1, x2, y2 = face.bbox
        w, h = x2 - x1, y2 - y1
        center = (x2 + x1) / 2, (y2 + y1) / 2
        crop, matrix = face_align.transform(img, center, size, size / (max(w, h) * 1.5), 0)
        crops.append(crop)
        matrices.append(matrix)
    mean = model.input_mean
    blob = cv2.dnn.blobFromImages(
        crops, 1.0 / model.input_std, (size, size), (mean, mean, mean), swapRB=True
    )
    out = model.session.run(model.output_names, {model.input_name: blob})[0]
    return np.asarray(out, np.float32), matrices


def _genderage(model: Any, pairs: list[tuple[BGR, Any]]) -> None:
    preds, _ = _box_crops(model, pairs)
    for (_, face), pred in zip(pairs, preds, strict=True):
        face["gender"] = np.argmax(pred[:2])
        face["age"] = int(np.round(pred[2] * 100))


def _landmarks(model: Any, pairs: list[tuple[BGR, Any]]) -> None:
    from insightface.utils import face_align, transform

    preds, matrices = _box_crops(model, pairs)
    half = model.input_size[0] // 2
    for (_, face), raw, matrix in zip(pairs, preds, matrices, strict=True):
        pred = raw.reshape((-1, 3)) if raw.shape[0] >= 3000 else raw.reshape((-1, 2))
        if model.lmk_num < pred.shape[0]:
            pred = pred[model.lmk_num * -1 :, :]
        pred[:, 0:2] += 1
        pred[:, 0:2] *= half
        if pred.shape[1] == 3:
            pred[:, 2] *= half
        pred = face_align.trans_points(pred, cv2.invertAffineTransform(matrix))
        face[model.taskname] = pred
        if model.require_pose:
            matrix_3d = transform.estimate_affine_matrix_3d23d(model.mean_lmk, pred)
            _, rot, _ = transform.P2sRt(matrix_3d)
            rx, ry, rz = transform.matrix2angle(rot)
            face["pose"] = np.array([rx, ry, rz], dtype=np.float32)
