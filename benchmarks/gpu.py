"""GPU throughput of buffalo_l-shaped stand-ins: images/s at batch 1, 8 and 32.

Two networks with buffalo_l's architectures and real input sizes, random weights:
an SCRFD-10G-like detector (ResNet-v1e basic blocks 56/88/88/224, PAFPN at 56 channels,
a 3-conv head of 80 channels with score, box and 5-point outputs for strides 8/16/32,
640x640 input) and an IResNet-50 recogniser (112x112 in, 512-d out). Both are exported
to ONNX with a dynamic batch axis and run on onnxruntime's CUDA provider when it is
there; otherwise (CPU-only onnxruntime) the same networks run in PyTorch on CUDA, and
the output says so. onnxruntime on the CPU is the baseline, measured in the same run.

    python benchmarks/gpu.py [--out results.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

BATCHES: tuple[int, ...] = (1, 8, 32)


def _bn_conv(cin: int, cout: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _bn_conv(cin, cout, stride),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:  # ResNet-v1e: average-pool, then 1x1
            self.skip = nn.Sequential(
                nn.AvgPool2d(stride, stride) if stride > 1 else nn.Identity(),
                nn.Conv2d(cin, cout, 1, bias=False),
                nn.BatchNorm2d(cout),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class ScrfdLike(nn.Module):
    """SCRFD-10G's layout (scrfd_10g_bnkps): ~10 GFLOPs at 640x640."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            _bn_conv(3, 28, 2), _bn_conv(28, 28), _bn_conv(28, 56), nn.MaxPool2d(3, 2, 1)
        )
        planes, blocks, strides = (56, 88, 88, 224), (3, 4, 2, 3), (1, 2, 2, 2)
        stages, cin = [], 56
        for p, n, s in zip(planes, blocks, strides, strict=True):
            layers = [BasicBlock(cin, p, s)] + [BasicBlock(p, p, 1) for _ in range(n - 1)]
            stages.append(nn.Sequential(*layers))
            cin = p
        self.stages = nn.ModuleList(stages)
        self.lateral = nn.ModuleList(nn.Conv2d(c, 56, 1) for c in planes[1:])
        self.fpn = nn.ModuleList(_bn_conv(56, 56) for _ in range(3))
        self.down = nn.ModuleList(_bn_conv(56, 56, 2) for _ in range(2))
        self.pafpn = nn.ModuleList(_bn_conv(56, 56) for _ in range(2))
        self.head = nn.Sequential(_bn_conv(56, 80), _bn_conv(80, 80), _bn_conv(80, 80))
        self.score = nn.Conv2d(80, 2, 3, 1, 1)
        self.box = nn.Conv2d(80, 8, 3, 1, 1)
        self.kps = nn.Conv2d(80, 20, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        lat = [conv(f) for conv, f in zip(self.lateral, feats[1:], strict=True)]
        for i in (2, 1):  # top-down
            lat[i - 1] = lat[i - 1] + nn.functional.interpolate(lat[i], size=lat[i - 1].shape[2:])
        outs = [conv(f) for conv, f in zip(self.fpn, lat, strict=True)]
        for i in range(2):  # bottom-up (PAFPN)
            outs[i + 1] = self.pafpn[i](outs[i + 1] + self.down[i](outs[i]))
        results: list[torch.Tensor] = []
        for f in outs:
            h = self.head(f)
            results += [torch.sigmoid(self.score(h)), self.box(h), self.kps(h)]
        return tuple(results)


class IBasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin),
            nn.Conv2d(cin, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.PReLU(cout),
            nn.Conv2d(cout, cout, 3, stride, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x) + self.skip(x)
        return out


class IResNet50(nn.Module):
    """insightface's iresnet50 (w600k_r50's backbone): 112x112 -> 512-d."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64)
        )
        layers, cin = [], 64
        for cout, n in ((64, 3), (128, 4), (256, 14), (512, 3)):
            layers += [IBasicBlock(cin, cout, 2)] + [
                IBasicBlock(cout, cout, 1) for _ in range(n - 1)
            ]
            cin = cout
        self.body = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(512)
        self.fc = nn.Linear(512 * 7 * 7, 512)
        self.features = nn.BatchNorm1d(512)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.body(self.stem(x)))
        out: torch.Tensor = self.features(self.fc(torch.flatten(x, 1)))
        return out


MODELS: dict[str, tuple[Callable[[], nn.Module], int]] = {
    "scrfd_10g_like": (ScrfdLike, 640),
    "iresnet50": (IResNet50, 112),
}


def _randomise(model: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            mean, var = m.running_mean, m.running_var
            if isinstance(mean, torch.Tensor) and isinstance(var, torch.Tensor):
                nn.init.uniform_(mean, -0.1, 0.1)  # non-trivial statistics
                nn.init.uniform_(var, 0.5, 1.5)
    return model.eval()


def gmacs(name: str) -> float:
    """Multiply-accumulates per image (convolutions and linear layers), in billions."""
    build, size = MODELS[name]
    model = _randomise(build())
    total = [0]

    def count(module: nn.Module, _: Any, out: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total[0] += out.numel() * module.in_channels // module.groups * k
        elif isinstance(module, nn.Linear):
            total[0] += module.in_features * module.out_features

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.inference_mode():
        model(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    return total[0] / 1e9


def export(name: str, folder: Path) -> Path:
    build, size = MODELS[name]
    model = _randomise(build())
    path = folder / f"{name}.onnx"
    dummy = torch.zeros(1, 3, size, size)
    n_out = 9 if name.startswith("scrfd") else 1
    outputs = [f"out{i}" for i in range(n_out)]
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["input"],
        output_names=outputs,
        dynamic_axes={"input": {0: "batch"}, **{o: {0: "batch"} for o in outputs}},
        opset_version=17,
        dynamo=False,
    )
    return path


def _timed(run: Callable[[], Any], sync: Callable[[], None], min_s: float, max_iter: int) -> float:
    """Seconds per call: two warm-ups, then calls until ``min_s`` or ``max_iter``."""
    for _ in range(2):
        run()
    sync()
    n, start = 0, time.perf_counter()
    while n < max_iter and (n == 0 or time.perf_counter() - start < min_s):
        run()
        n += 1
    sync()
    return (time.perf_counter() - start) / n


def _no_sync() -> None:
    pass


def session_on(path: Path, provider: str) -> Any:
    """An onnxruntime session that runs on ``provider``, or RuntimeError: onnxruntime falls
    back to the CPU when a provider fails to load (a CUDA library missing), which would
    report CPU figures as GPU ones."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=[provider])
    used = session.get_providers()
    if not used or used[0] != provider:
        raise RuntimeError(f"{provider} was asked for; the session runs on {used}")
    return session


def ort_rates(
    path: Path, size: int, provider: str, min_s: float, max_iter: int
) -> dict[int, float]:
    session = session_on(path, provider)
    rates = {}
    for batch in BATCHES:
        x = np.random.default_rng(batch).standard_normal((batch, 3, size, size)).astype(np.float32)
        per = _timed(partial(session.run, None, {"input": x}), _no_sync, min_s, max_iter)
        rates[batch] = batch / per
    return rates


def torch_rates(name: str, half: bool, min_s: float, max_iter: int) -> dict[int, float]:
    build, size = MODELS[name]
    model = _randomise(build()).cuda()
    if half:
        model = model.half()
    rates = {}
    with torch.inference_mode():
        for batch in BATCHES:
            x = torch.randn(batch, 3, size, size, device="cuda")
            if half:
                x = x.half()
            per = _timed(partial(model, x), torch.cuda.synchronize, min_s, max_iter)
            rates[batch] = batch / per
    return rates


def pipeline(det: dict[int, float], rec: dict[int, float]) -> dict[int, float]:
    """Images/s with one face each: one detector pass plus one recognition per image."""
    return {b: 1.0 / (1.0 / det[b] + 1.0 / rec[b]) for b in BATCHES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="few iterations (a smoke run)")
    parser.add_argument("--batches", default="1,8,32", help="comma-separated batch sizes")
    args = parser.parse_args()
    global BATCHES
    BATCHES = tuple(int(b) for b in args.batches.split(","))
    import onnxruntime as ort

    min_s, max_iter = (0.2, 3) if args.quick else (2.0, 200)
    cpu_iter = 2 if args.quick else 4
    providers = ort.get_available_providers()
    result: dict[str, Any] = {
        "host": platform.node(),
        "onnxruntime": ort.__version__,
        "providers_available": providers,
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "gmacs_per_image": {name: round(gmacs(name), 2) for name in MODELS},
        "rates": {},
    }
    rates: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (_, size) in MODELS.items():
            path = export(name, Path(tmp))
            rates[f"{name} ort-cpu"] = ort_rates(path, size, "CPUExecutionProvider", 0.0, cpu_iter)
            cuda: dict[int, float] | None = None
            if "CUDAExecutionProvider" in providers:
                try:
                    cuda = ort_rates(path, size, "CUDAExecutionProvider", min_s, max_iter)
                    rates[f"{name} ort-cuda"] = cuda
                    result.setdefault("session_providers", {})[name] = "CUDAExecutionProvider"
                except RuntimeError as exc:  # listed, but it did not load
                    result["note"] = str(exc)
            if cuda is None and torch.cuda.is_available():
                rates[f"{name} torch-cuda-fp32"] = torch_rates(name, False, min_s, max_iter)
                rates[f"{name} torch-cuda-fp16"] = torch_rates(name, True, min_s, max_iter)
    for how in sorted({k.split(" ", 1)[1] for k in rates}):
        rates[f"pipeline {how}"] = pipeline(
            rates[f"scrfd_10g_like {how}"], rates[f"iresnet50 {how}"]
        )
    result["rates"] = {k: {str(b): round(v, 1) for b, v in r.items()} for k, r in rates.items()}
    if "session_providers" not in result:
        result.setdefault(
            "note", "onnxruntime has no CUDA provider here; GPU figures are PyTorch on CUDA"
        )
    print(json.dumps({k: v for k, v in result.items() if k != "rates"}))
    print(f"{'model backend':42s}" + "".join(f"{'batch ' + str(b):>12s}" for b in BATCHES))
    for key, r in rates.items():
        base = rates.get(key.rsplit(" ", 1)[0] + " ort-cpu")
        top = BATCHES[-1]
        ratio = f"  ({r[top] / base[top]:.1f}x CPU at {top})" if base and base is not r else ""
        print(f"{key:42s}" + "".join(f"{r[b]:12.1f}" for b in BATCHES) + ratio)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
