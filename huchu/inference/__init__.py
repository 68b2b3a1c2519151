"""The ``Inference`` seam: in-process engine, or a Ray Serve app over HTTP."""

from huchu.inference.base import Inference
from huchu.inference.factory import build_inference

__all__ = ["Inference", "build_inference"]
