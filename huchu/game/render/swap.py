"""Swap mode: inswapper_128 puts the cohort's mean identity onto a face; CodeFormer restores it.

Used when ``models/inswapper_128.onnx`` exists and the engine's embeddings are
ArcFace 512-d (the space inswapper understands). CodeFormer runs when torch,
codeformer-pip and ``models/codeformer.pth`` are all present (the ``swap`` extra).
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

log = logging.getLogger(__name__)
RGB = NDArray[np.uint8]
INSWAPPER = "inswapper_128.onnx"
CODEFORMER = "codeformer.pth"


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


class Restorer:
    """CodeFormer with our own alignment from the engine's key points (no facexlib)."""

    def __init__(self, net: Any, torch: Any) -> None:
        self.net = net
        self.torch = torch

    @classmethod
    def load(cls, models_dir: Path) -> Restorer | None:
        weights = models_dir / CODEFORMER
        if not weights.is_file():
            return None
        try:
            import torch

            from huchu.game.render.codeformer import codeformer_class

            CodeFormer = codeformer_class()
        except ImportError:
            log.warning(
                "codeformer.pth found, torch or codeformer-pip missing: pip install -e '.[swap]'"
            )
            return None
        net = CodeFormer(
            dim_embd=512,
            codebook_size=1024,
            n_head=8,
            n_layers=9,
            connect_list=["32", "64", "128", "256"],
        )
        state = torch.load(str(weights), map_location="cpu", weights_only=True)
        net.load_state_dict(state.get("params_ema", state), strict=False)
        net.eval()
        return cls(net, torch)

    def restore(self, rgb: RGB, kps: NDArray[np.float32], fidelity: float = 0.7) -> RGB:
        import cv2
        from insightface.utils import face_align

        crop, m = face_align.norm_crop2(rgb, kps, 512)
        x = self.torch.from_numpy(crop.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
        with self.torch.no_grad():
            y = self.net(x, w=fidelity, adain=True)[0]
        out = ((y[0].permute(1, 2, 0).clamp(-1, 1).numpy() + 1.0) * 127.5).astype(np.uint8)
        inv = cv2.invertAffineTransform(m)
        h, w = rgb.shape[:2]
        back = cv2.warpAffine(out, inv, (w, h))
        mask = cv2.warpAffine(np.full((512, 512), 255, np.uint8), inv, (w, h))
        soft = (
            cv2.GaussianBlur(cv2.erode(mask, np.ones((15, 15), np.uint8)), (31, 31), 0)[..., None]
            / 255.0
        )
        blended: RGB = (back * soft + rgb * (1 - soft)).astype(np.uint8)
        return blended


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
