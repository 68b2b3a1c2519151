"""Swap mode: inswapper_128 puts the cohort's mean identity onto a face; CodeFormer restores it.

Used when ``models/inswapper_128.onnx`` exists and the engine's embeddings are
ArcFace 512-d (the space inswapper understands). CodeFormer runs when torch,
codeformer-pip and ``models/codeformer.pth`` are all present (the ``swap`` extra; the
restore stage is ``restore.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from huchu.context import Context
from huchu.engines.base import Face
from huchu.game.render.restore import Restorer

log = logging.getLogger(__name__)
RGB = NDArray[np.uint8]
INSWAPPER = "inswapper_128.onnx"


@dataclass
class _Source:
    normed_embedding: NDArray[np.float32]


@dataclass
class _Target:
    kps: NDArray[np.float32]


def kps_from_shape(shape: NDArray[np.float64]) -> NDArray[np.float32]:
    """Eyes, nose tip and mouth corners from a 68-numbered point set."""
    return np.stack(
        [shape[36:42].mean(axis=0), shape[42:48].mean(axis=0), shape[30], shape[48], shape[54]]
    ).astype(np.float32)


class Swapper(Protocol):
    """Puts an identity (a normalised ArcFace embedding) onto the face at ``kps``."""

    def swap(self, rgb: RGB, kps: NDArray[np.float32], mean: NDArray[np.float64]) -> RGB: ...


class LocalSwapper:
    """inswapper_128 (and CodeFormer when present) in this process."""

    def __init__(self, models_dir: Path) -> None:
        from insightface.model_zoo import get_model

        from huchu.engines.insight import choose_providers

        self.swapper: Any = get_model(
            str(Path(models_dir) / INSWAPPER), providers=choose_providers()
        )
        self.restorer = Restorer.load(Path(models_dir))

    def swap(self, rgb: RGB, kps: NDArray[np.float32], mean: NDArray[np.float64]) -> RGB:
        source = _Source((mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32))
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        out = self.swapper.get(bgr, _Target(kps), source, paste_back=True)
        result: RGB = np.ascontiguousarray(out[:, :, ::-1])
        if self.restorer is not None:
            result = self.restorer.restore(result, kps)
        return result


class RemoteSwapper:
    """The Ray Serve app's ``/swap``; pictures travel as PNG so answers are identical."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def swap(self, rgb: RGB, kps: NDArray[np.float32], mean: NDArray[np.float64]) -> RGB:
        import httpx

        from huchu.errors import Unavailable

        body = {
            "image": b64_png(rgb),
            "kps": np.asarray(kps).tolist(),
            "embedding": np.asarray(mean).tolist(),
        }
        try:
            r = httpx.post(f"{self.url}/swap", json=body, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise Unavailable(f"swap service at {self.url} is unreachable") from exc
        if r.status_code != 200:
            raise Unavailable(f"swap failed with HTTP {r.status_code}")
        return from_png(r.content)


def png(rgb: RGB) -> bytes:
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise ValueError("could not encode the picture")
    return bytes(buf.tobytes())


def b64_png(rgb: RGB) -> str:
    import base64

    return base64.b64encode(png(rgb)).decode()


def from_png(data: bytes) -> RGB:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("not a picture")
    return np.ascontiguousarray(bgr[:, :, ::-1])


class SwapRenderer:
    """Where the game uses a swapper: the morph average, a template, the winner's photo."""

    def __init__(self, swapper: Swapper) -> None:
        self.swapper = swapper

    def render(
        self, morph_image: RGB, mean: NDArray[np.float64], shape: NDArray[np.float64] | None = None
    ) -> RGB:
        """The morph average as the target face, the mean identity swapped in."""
        from huchu.game.render.shape import canonical

        pts = canonical() if shape is None else shape
        return self.swapper.swap(morph_image, kps_from_shape(pts), mean)

    def onto(self, template: RGB, face: Face, mean: NDArray[np.float64]) -> RGB:
        return self.swapper.swap(template, np.asarray(face.kps, dtype=np.float32), mean)

    def onto_points(self, image: RGB, kps: NDArray[np.float32], mean: NDArray[np.float64]) -> RGB:
        return self.swapper.swap(image, kps, mean)


def swap_renderer(ctx: Context) -> SwapRenderer | None:
    """Swap mode when inswapper is available (here, or behind HUCHU_INFERENCE_URL)."""
    if ctx.info.embedding_dim != 512:
        return None  # inswapper speaks ArcFace 512-d; other engines render by morph
    url = ctx.settings.inference_url
    if url:
        import httpx

        try:
            remote = bool(httpx.get(f"{url.rstrip('/')}/info", timeout=10).json().get("swap"))
        except (httpx.HTTPError, ValueError):
            remote = False
        return SwapRenderer(RemoteSwapper(url)) if remote else None
    if not (Path(ctx.settings.models_dir) / INSWAPPER).is_file():
        return None
    return SwapRenderer(LocalSwapper(Path(ctx.settings.models_dir)))
