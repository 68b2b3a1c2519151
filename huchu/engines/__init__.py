"""Face analysis engines behind one interface."""

from huchu.engines.base import EngineInfo, Face, FaceEngine

__all__ = ["EngineInfo", "Face", "FaceEngine"]
