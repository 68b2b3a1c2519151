"""CodeFormer sees faces the way it was trained on them, and only its own weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from huchu.game.render.restore import CODEFORMER, FFHQ_512, CheckpointError, Restorer

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]


class Recording:
    """Stands in for the network: the same call and output shape, the input kept."""

    def __init__(self) -> None:
        self.inputs: list[Any] = []

    def __call__(self, x: Any, w: float, adain: bool) -> tuple[Any]:
        self.inputs.append(x.clone())
        return (x,)


def marked_face(kps: np.ndarray) -> np.ndarray:
    """A grey photo with the five key points drawn as dots of their own colours."""
    rgb = np.full((900, 800, 3), 128, np.uint8)
    for (x, y), colour in zip(kps, COLOURS, strict=True):
        cv2.circle(rgb, (round(x), round(y)), 5, colour, -1)
    return rgb


def centre(crop: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    close = np.abs(crop.astype(int) - np.array(colour)).sum(axis=2) < 90
    ys, xs = np.nonzero(close)
    assert len(xs), colour
    return np.array([xs.mean(), ys.mean()])


def test_the_crop_puts_the_key_points_where_ffhq_has_them() -> None:
    """ArcFace's 112 template, scaled to 512, put the eyes 161 px apart instead of 126."""
    torch = pytest.importorskip("torch")
    angle, scale = np.deg2rad(12.0), 0.9
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    kps = (FFHQ_512 - 256.0) @ rot.T + np.array([380.0, 470.0])
    net = Recording()
    out = Restorer(net, torch).restore(marked_face(kps), kps.astype(np.float32))
    assert out.shape == (900, 800, 3)
    (x,) = net.inputs
    assert tuple(x.shape) == (1, 3, 512, 512)
    crop = ((x[0].permute(1, 2, 0).numpy() + 1.0) * 127.5).round().astype(np.uint8)
    for point, colour in zip(FFHQ_512, COLOURS, strict=True):
        assert np.abs(centre(crop, colour) - point).max() < 2.0, (colour, point)


@pytest.fixture(scope="module")
def codeformer() -> Any:
    torch = pytest.importorskip("torch")
    from huchu.game.render.codeformer import codeformer_class

    try:
        network = codeformer_class()
    except ImportError:
        pytest.skip("codeformer-pip is not installed (the swap extra)")
    torch.manual_seed(0)
    return network(
        dim_embd=512,
        codebook_size=1024,
        n_head=8,
        n_layers=9,
        connect_list=["32", "64", "128", "256"],
    )


def test_only_codeformers_own_checkpoint_loads(codeformer: Any, tmp_path: Path) -> None:
    import torch

    state = codeformer.state_dict()
    some = dict(list(state.items())[:3])
    torch.save({"params_ema": some}, tmp_path / CODEFORMER)
    with pytest.raises(CheckpointError, match="missing"):
        Restorer.load(tmp_path)  # once: random weights for the rest, and noise restored
    torch.save({"params_ema": {**some, "head.weight": torch.zeros(2)}}, tmp_path / CODEFORMER)
    with pytest.raises(CheckpointError, match="unexpected"):
        Restorer.load(tmp_path)
    torch.save({"params_ema": state}, tmp_path / CODEFORMER)
    restorer = Restorer.load(tmp_path)
    assert restorer is not None
    name = next(iter(state))
    assert torch.equal(restorer.net.state_dict()[name], state[name])
