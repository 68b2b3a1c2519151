"""Tiny ONNX stand-ins for buffalo_l and inswapper_128, made by the tests.

Each file has the real model's input and output names, shapes and order, so
insightface's own routing, pre- and post-processing run unchanged. Weights are
random but fixed by seed; the detector answers one confident face centred in
its 640x640 canvas, whatever the picture.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 13)]
DET = 640
STRIDES = (8, 16, 32)


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="huchu-standin")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _pooled_linear(
    name: str,
    in_name: str,
    size: int,
    pool: int,
    out_name: str,
    out_dim: int,
    seed: int,
    act: str | None,
) -> onnx.GraphProto:
    """input [N,3,size,size] -> AveragePool -> flatten -> MatMul -> (act) -> [N,out_dim]."""
    rng = np.random.default_rng(seed)
    cells = 3 * (size // pool) ** 2
    w = numpy_helper.from_array(
        (rng.standard_normal((cells, out_dim)) * 0.05).astype(np.float32), "W"
    )
    shape = numpy_helper.from_array(np.array([-1, cells], dtype=np.int64), "shape")
    nodes = [
        helper.make_node(
            "AveragePool", [in_name], ["pooled"], kernel_shape=[pool, pool], strides=[pool, pool]
        ),
        helper.make_node("Reshape", ["pooled", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "W"], ["lin" if act else out_name]),
    ]
    if act:
        nodes.append(helper.make_node(act, ["lin"], [out_name]))
    return helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, ["None", 3, size, size])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["None", out_dim])],
        initializer=[w, shape],
    )


def scrfd(path: Path) -> Path:
    """det_10g shape: input.1 [1,3,640,640] -> 9 outputs (score, bbox, kps per stride)."""
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["z"]),
    ]
    inits = [numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")]
    outputs = []
    names: dict[str, list[tuple[str, tuple[int, ...]]]] = {"score": [], "bbox": [], "kps": []}
    for stride in STRIDES:
        cells = (DET // stride) ** 2 * 2
        score = np.zeros((cells, 1), np.float32)
        bbox = np.ones((cells, 4), np.float32)
        kps = np.zeros((cells, 10), np.float32)
        if stride == 32:
            grid = DET // stride
            cy = cx = grid // 2  # anchor at (320, 320)
            i = (cy * grid + cx) * 2
            score[i] = 0.93
            bbox[i] = np.array([80, 100, 80, 110], np.float32) / stride
            pts = (
                np.array([[-35, -25], [35, -25], [0, 10], [-28, 50], [28, 50]], np.float32) / stride
            )
            kps[i] = pts.reshape(-1)
        for kind, arr in (("score", score), ("bbox", bbox), ("kps", kps)):
            const = f"{kind}{stride}_c"
            out = f"{kind}_{stride}"
            inits.append(numpy_helper.from_array(arr, const))
            nodes.append(helper.make_node("Add", [const, "z"], [out]))
            names[kind].append((out, arr.shape))
    for kind in ("score", "bbox", "kps"):
        for out, shape in names[kind]:
            outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, list(shape)))
    graph = helper.make_graph(
        nodes,
        "scrfd_standin",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, DET, DET])],
        outputs,
        initializer=inits,
    )
    return _save(graph, path)


def arcface(path: Path, dim: int = 512) -> Path:
    return _save(_pooled_linear("arcface_standin", "input.1", 112, 16, "683", dim, 7, None), path)


def genderage(path: Path) -> Path:
    return _save(_pooled_linear("genderage_standin", "data", 96, 16, "fc1", 3, 11, "Sigmoid"), path)


def landmark_2d106(path: Path) -> Path:
    return _save(_pooled_linear("lmk106_standin", "data", 192, 32, "fc1", 212, 13, "Tanh"), path)


def landmark_3d68(path: Path) -> Path:
    return _save(_pooled_linear("lmk68_standin", "data", 192, 32, "fc1", 3309, 17, "Tanh"), path)


def buffalo_l(models_dir: Path) -> Path:
    """A stand-in buffalo_l pack with the real file names."""
    pack = Path(models_dir) / "buffalo_l"
    scrfd(pack / "det_10g.onnx")
    arcface(pack / "w600k_r50.onnx")
    genderage(pack / "genderage.onnx")
    landmark_2d106(pack / "2d106det.onnx")
    landmark_3d68(pack / "1k3d68.onnx")
    return pack


def inswapper(path: Path) -> Path:
    """inswapper_128 shape: target [1,3,128,128] + source [1,512] -> [1,3,128,128]; emap last."""
    rng = np.random.default_rng(19)
    w = numpy_helper.from_array((rng.standard_normal((512, 3)) * 0.5).astype(np.float32), "W")
    shape = numpy_helper.from_array(np.array([1, 3, 1, 1], dtype=np.int64), "shape")
    k = numpy_helper.from_array(np.array(0.15, dtype=np.float32), "k")
    emap = numpy_helper.from_array(np.eye(512, dtype=np.float32), "emap")
    nodes = [
        helper.make_node("MatMul", ["source", "W"], ["tint"]),
        helper.make_node("Tanh", ["tint"], ["tint_t"]),
        helper.make_node("Reshape", ["tint_t", "shape"], ["tint4"]),
        helper.make_node("Mul", ["tint4", "k"], ["shift"]),
        helper.make_node("Add", ["target", "shift"], ["moved"]),
        helper.make_node("Clip", ["moved", "lo", "hi"], ["output"]),
    ]
    lo = numpy_helper.from_array(np.array(0.0, dtype=np.float32), "lo")
    hi = numpy_helper.from_array(np.array(1.0, dtype=np.float32), "hi")
    graph = helper.make_graph(
        nodes,
        "inswapper_standin",
        [
            helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128]),
            helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])],
        initializer=[w, shape, k, lo, hi, emap],
    )
    return _save(graph, path)


class CountingSession:
    """An onnxruntime session that counts its ``run`` calls under its task's name."""

    def __init__(self, session: Any, task: str, calls: Counter[str]) -> None:
        self._session = session
        self._task = task
        self._calls = calls

    def run(self, *args: Any, **kwargs: Any) -> Any:
        self._calls[self._task] += 1
        return self._session.run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def count_model_calls(models: dict[str, Any]) -> Counter[str]:
    """Wrap each insightface model's session; the counter fills as they run."""
    calls: Counter[str] = Counter()
    for task, model in models.items():
        model.session = CountingSession(model.session, task, calls)
    return calls
