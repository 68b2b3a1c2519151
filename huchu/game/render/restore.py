"""Restore: CodeFormer on the swapped face, aligned the way it was trained (no facexlib).

CodeFormer learned from FFHQ faces cropped at 512x512 by facexlib's FaceRestoreHelper,
with the eyes, nose tip and mouth corners at ``FFHQ_512``; ArcFace's 112 template
(insightface's ``norm_crop``) puts the face larger and higher, which the network was
never shown. The checkpoint is loaded strictly: a file whose keys are not CodeFormer's
would otherwise leave random weights in place and restore noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

RGB = NDArray[np.uint8]
CODEFORMER = "codeformer.pth"
SIZE = 512
# facexlib's FaceRestoreHelper face_template for 512: left eye, right eye, nose tip,
# left and right mouth corners (the order of the engines' five key points).
FFHQ_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.1936],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ],
    dtype=np.float32,
)


class CheckpointError(RuntimeError):
    """models/codeformer.pth is not a CodeFormer checkpoint for this network."""


def ffhq_alignment(kps: NDArray[np.float32]) -> NDArray[np.float64]:
    """The 2x3 similarity that moves the five key points onto FFHQ's 512 layout, as
    facexlib estimates it (LMedS, rotation, uniform scale and shift)."""
    m, _ = cv2.estimateAffinePartial2D(
        np.asarray(kps, np.float32).reshape(5, 2), FFHQ_512, method=cv2.LMEDS
    )
    if m is None:
        raise ValueError("the five key points do not determine an alignment")
    return np.asarray(m, np.float64)


class Restorer:
    """CodeFormer (``net``: the network, or anything with its call signature)."""

    def __init__(self, net: Any, torch: Any) -> None:
        self.net = net
        self.torch = torch

    @classmethod
    def load(cls, models_dir: Path) -> Restorer | None:
        """The restorer, None without ``codeformer.pth`` or without torch and codeformer-pip;
        ``CheckpointError`` when the file is not CodeFormer's."""
        import logging

        weights = Path(models_dir) / CODEFORMER
        if not weights.is_file():
            return None
        try:
            import torch

            from huchu.game.render.codeformer import codeformer_class

            network = codeformer_class()
        except ImportError:
            logging.getLogger(__name__).warning(
                "codeformer.pth found, torch or codeformer-pip missing: pip install -e '.[swap]'"
            )
            return None
        net = network(
            dim_embd=512,
            codebook_size=1024,
            n_head=8,
            n_layers=9,
            connect_list=["32", "64", "128", "256"],
        )
        try:
            state = torch.load(str(weights), map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises whatever its unpickler met
            raise CheckpointError(
                f"{weights} cannot be read ({exc.__class__.__name__}): "
                "fetch it again with `huchu models pull`"
            ) from exc
        if isinstance(state, dict) and "params_ema" in state:
            state = state["params_ema"]
        if not isinstance(state, dict):
            raise CheckpointError(f"{weights} holds no state dict: `huchu models pull` fetches it")
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            missing = sorted(set(net.state_dict()) - set(state))
            extra = sorted(set(state) - set(net.state_dict()))
            raise CheckpointError(
                f"{weights} is not CodeFormer's checkpoint for this network "
                f"({len(missing)} keys missing, e.g. {missing[:3]}; {len(extra)} unexpected, "
                f"e.g. {extra[:3]}): fetch it again with `huchu models pull`"
            ) from exc
        net.eval()
        return cls(net, torch)

    def restore(self, rgb: RGB, kps: NDArray[np.float32], fidelity: float = 0.7) -> RGB:
        m = ffhq_alignment(kps)
        crop = cv2.warpAffine(rgb, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderValue=0.0)
        x = self.torch.from_numpy(crop.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
        with self.torch.no_grad():
            y = self.net(x, w=fidelity, adain=True)[0]
        out = ((y[0].permute(1, 2, 0).clamp(-1, 1).numpy() + 1.0) * 127.5).astype(np.uint8)
        inv = cv2.invertAffineTransform(m)
        h, w = rgb.shape[:2]
        back = cv2.warpAffine(out, inv, (w, h))
        mask = cv2.warpAffine(np.full((SIZE, SIZE), 255, np.uint8), inv, (w, h))
        soft = (
            cv2.GaussianBlur(cv2.erode(mask, np.ones((15, 15), np.uint8)), (31, 31), 0)[..., None]
            / 255.0
        )
        blended: RGB = (back * soft + rgb * (1 - soft)).astype(np.uint8)
        return blended
