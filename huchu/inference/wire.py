"""JSON form of an ``Analysis`` for the HTTP hop, lossless for every float32."""

from __future__ import annotations

from typing import Any

import numpy as np

from huchu.analysis import Analysis
from huchu.engines.base import EngineInfo, Face, Thresholds


def info_to_wire(info: EngineInfo) -> dict[str, Any]:
    return info.as_dict()


def info_from_wire(d: dict[str, Any]) -> EngineInfo:
    t = d["thresholds"]
    return EngineInfo(
        engine=d["engine"],
        models=tuple(d["models"]),
        embedding_dim=int(d["embedding_dim"]),
        metric=d["metric"],
        thresholds=Thresholds(float(t["same_person"]), float(t["lookalike"])),
    )


def face_to_wire(f: Face) -> dict[str, Any]:
    return {
        "bbox": list(f.bbox),
        "kps": [list(p) for p in f.kps],
        "det_score": f.det_score,
        "landmarks": [list(p) for p in f.landmarks],
        "gender": f.gender,
        "age": f.age,
        "embedding": [float(v) for v in f.embedding],
        "engine": f.engine,
        "model_id": f.model_id,
        "face_px": f.face_px,
        "sharpness": f.sharpness,
        "pose": None if f.pose is None else list(f.pose),
        "extra": f.extra,
    }


def face_from_wire(d: dict[str, Any]) -> Face:
    return Face(
        bbox=(float(d["bbox"][0]), float(d["bbox"][1]), float(d["bbox"][2]), float(d["bbox"][3])),
        kps=tuple((float(x), float(y)) for x, y in d["kps"]),
        det_score=float(d["det_score"]),
        landmarks=tuple((float(x), float(y)) for x, y in d["landmarks"]),
        gender=d["gender"],
        age=None if d["age"] is None else float(d["age"]),
        embedding=np.asarray(d["embedding"], dtype=np.float32),
        engine=d["engine"],
        model_id=d["model_id"],
        face_px=int(d["face_px"]),
        sharpness=float(d["sharpness"]),
        pose=None if d.get("pose") is None else (d["pose"][0], d["pose"][1], d["pose"][2]),
        extra={k: float(v) for k, v in (d.get("extra") or {}).items()},
    )


def analysis_to_wire(a: Analysis) -> dict[str, Any]:
    return {
        "width": a.width,
        "height": a.height,
        "engine": info_to_wire(a.engine),
        "faces": [face_to_wire(f) for f in a.faces],
    }


def analysis_from_wire(d: dict[str, Any]) -> Analysis:
    return Analysis(
        width=int(d["width"]),
        height=int(d["height"]),
        faces=[face_from_wire(f) for f in d["faces"]],
        engine=info_from_wire(d["engine"]),
    )
