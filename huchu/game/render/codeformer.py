"""Load CodeFormer's network class from codeformer-pip without its package ``__init__``.

codeformer-pip's ``basicsr/__init__`` imports its whole training stack (torchvision,
lpips, datasets, a downloader); inference needs two files of it: ``vqgan_arch.py`` and
``codeformer_arch.py``. We load those by path, with their two small imports (a
logger and the registry) provided, so restoration needs only torch.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import types
from pathlib import Path
from typing import Any

_PKG = "codeformer.basicsr"


def _module(name: str, path: Path | None = None) -> types.ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    if path is None:
        mod = types.ModuleType(name)
        mod.__path__ = []  # a package, so submodules can hang below it
    else:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod
    sys.modules[name] = mod
    return mod


def codeformer_class() -> Any:
    """The ``CodeFormer`` nn.Module class; ImportError if torch or codeformer-pip is missing."""
    import torch  # noqa: F401 - fail early with the real reason

    # Loaded before: "codeformer" is now our stand-in package, which has no spec to find.
    loaded = sys.modules.get(f"{_PKG}.archs.codeformer_arch")
    if loaded is not None:
        return loaded.CodeFormer
    spec = importlib.util.find_spec("codeformer")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("codeformer-pip is not installed")
    root = Path(next(iter(spec.submodule_search_locations))) / "basicsr"
    for name in ("codeformer", _PKG, f"{_PKG}.archs"):
        _module(name)
    utils = _module(f"{_PKG}.utils")
    utils.get_root_logger = lambda *a, **k: logging.getLogger("codeformer")  # type: ignore[attr-defined]
    _module(f"{_PKG}.utils.registry", root / "utils" / "registry.py")
    _module(f"{_PKG}.archs.vqgan_arch", root / "archs" / "vqgan_arch.py")
    arch = _module(f"{_PKG}.archs.codeformer_arch", root / "archs" / "codeformer_arch.py")
    return arch.CodeFormer
