"""The bundled engine: dlib HOG + 68 landmarks + ResNet-128, ONNX age and gender."""

from huchu.engines.bundled.engine import BundledEngine

__all__ = ["BundledEngine"]
