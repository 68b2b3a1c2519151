"""The insightface engine: buffalo_l (SCRFD, ArcFace 512-d, genderage, landmarks)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from huchu.engines.base import (
    RGB,
    Detection,
    EngineInfo,
    Face,
    Gender,
    Thresholds,
    l2_normalise,
    sharpness,
)
from huchu.errors import Unavailable

log = logging.getLogger(__name__)

PACK = "buffalo_l"
# The files FaceAnalysis routes by shape; all five make the full pack.
PACK_FILES = ("det_10g.onnx", "w600k_r50.onnx", "genderage.onnx", "2d106det.onnx", "1k3d68.onnx")
REQUIRED = ("det_10g.onnx", "w600k_r50.onnx")

# ArcFace cosine similarity: 0.4 is the usual verification operating point for
# w600k_r50; 0.2 is the original app's look-alike graph edge.
THRESHOLDS = Thresholds(same_person=0.4, lookalike=0.2)


def pack_dir(models_dir: Path) -> Path:
    return Path(models_dir) / PACK


def pack_present(models_dir: Path) -> bool:
    return all((pack_dir(models_dir) / f).is_file() for f in REQUIRED)


def choose_providers() -> list[str]:
    """CUDA when onnxruntime-gpu sees a GPU, else CPU; decided at run time."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class InsightFaceEngine:
    """buffalo_l through insightface's own model zoo and FaceAnalysis."""

    def __init__(self, models_dir: Path, det_size: int = 640) -> None:
        directory = pack_dir(models_dir)
        missing = [f for f in REQUIRED if not (directory / f).is_file()]
        if missing:
            raise Unavailable(
                f"insightface model files missing in {directory}: {', '.join(missing)}; "
                "run `huchu models pull` where the internet is reachable, or set HUCHU_ENGINE=dlib"
            )
        from insightface.app import FaceAnalysis

        providers = choose_providers()
        self._app: Any = FaceAnalysis(name=str(directory), providers=providers)
        ctx = 0 if providers[0] == "CUDAExecutionProvider" else -1
        # Our own gate is applied later; keep weak candidates to show them as rejected.
        self._app.prepare(ctx_id=ctx, det_thresh=0.3, det_size=(det_size, det_size))
        self.providers = providers
        recognition = self._app.models.get("recognition")
        dim = int(recognition.session.get_outputs()[0].shape[1]) if recognition else 512
        self._info = EngineInfo(
            engine="insightface",
            models=tuple(
                sorted(f"{PACK}/{Path(m.model_file).stem}" for m in self._app.models.values())
            ),
            embedding_dim=dim,
            metric="cosine",
            thresholds=THRESHOLDS,
        )

    @property
    def info(self) -> EngineInfo:
        return self._info

    @property
    def models(self) -> dict[str, Any]:
        """The pack's loaded models by task (detection, recognition, genderage, ...)."""
        models: dict[str, Any] = self._app.models
        return models

    def detect(self, rgb: RGB) -> list[Face]:
        return self.describe([(rgb, self.locate(rgb))])[0]

    def locate(self, rgb: RGB) -> list[Detection]:
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        bboxes, kpss = self._app.det_model.detect(bgr, max_num=0, metric="default")
        return [
            Detection(
                bbox=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                kps=None if kpss is None else np.asarray(kpss[i], np.float32),
                det_score=float(b[4]),
            )
            for i, b in enumerate(bboxes)
        ]

    def describe(self, batch: Sequence[tuple[RGB, Sequence[Detection]]]) -> list[list[Face]]:
        """Each per-face model runs once over every face of every image (see ``insight_batch``)."""
        from insightface.app.common import Face as InsightFace

        from huchu.engines.insight_batch import run_face_models

        images = [np.ascontiguousarray(rgb[:, :, ::-1]) for rgb, _ in batch]
        found = [
            [
                InsightFace(bbox=np.asarray(d.bbox, np.float32), kps=d.kps, det_score=d.det_score)
                for d in detections
            ]
            for _, detections in batch
        ]
        run_face_models(self._app.models, images, found)
        return [
            [self._face(rgb, f) for f in faces]
            for (rgb, _), faces in zip(batch, found, strict=True)
        ]

    def _face(self, rgb: RGB, f: Any) -> Face:
        x1, y1, x2, y2 = (float(v) for v in f.bbox)
        bbox = (x1, y1, x2, y2)
        kps = tuple((float(x), float(y)) for x, y in np.asarray(f.kps).reshape(-1, 2))
        # The 3D-68 model's points follow the iBUG 68 numbering the morph renderer
        # shares with the bundled engine; the 106-point set is the fallback.
        lmk = f.get("landmark_3d_68")
        lmk = np.asarray(lmk)[:, :2] if lmk is not None else f.get("landmark_2d_106")
        points = np.asarray(lmk if lmk is not None else []).reshape(-1, 2)
        landmarks = tuple((float(x), float(y)) for x, y in points)
        pose = f.get("pose")
        gender_index = f.get("gender")
        gender: Gender | None = None
        if gender_index is not None:
            gender = "male" if int(gender_index) == 1 else "female"
        age = f.get("age")
        emb = f.get("embedding")
        embedding = (
            l2_normalise(emb) if emb is not None else np.zeros(self._info.embedding_dim, np.float32)
        )
        return Face(
            bbox=bbox,
            kps=kps,
            det_score=float(np.clip(f.det_score, 0.0, 1.0)),
            landmarks=landmarks,
            gender=gender,
            age=None if age is None else float(age),
            embedding=embedding,
            engine=self._info.engine,
            model_id=self._info.model_id,
            face_px=int(min(x2 - x1, y2 - y1)),
            sharpness=sharpness(rgb, bbox),
            pose=None if pose is None else (float(pose[0]), float(pose[1]), float(pose[2])),
        )
