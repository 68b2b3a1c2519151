"""benchmarks/gpu.py reports the provider its sessions run on, not the ones that exist."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper


def identity_model(path: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"])],
        "identity",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what any onnxruntime of the pinned range reads
    onnx.save(model, path)
    return path


def test_a_provider_that_did_not_load_is_not_reported_as_used(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import onnxruntime as ort

    from benchmarks.gpu import session_on

    model = identity_model(tmp_path / "identity.onnx")
    assert session_on(model, "CPUExecutionProvider").get_providers()[0] == "CPUExecutionProvider"
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("a CUDA provider is here: nothing falls back")
    with pytest.raises(RuntimeError, match="CUDAExecutionProvider was asked for"):
        session_on(model, "CUDAExecutionProvider")
