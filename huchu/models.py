"""The model manifest: which files exist, where they are, and whether they verify."""

from __future__ import annotations

import hashlib
import json
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from huchu.engines.bundled.files import package_dir

MANIFEST = Path(__file__).resolve().parent.parent / "models" / "manifest.json"


@dataclass(frozen=True)
class ModelFile:
    name: str
    engine: str
    file: str
    sha256: str | None
    licence: str
    source: str
    package: str | None = None
    required: bool = False

    def path(self, models_dir: Path) -> Path:
        if self.package:
            return package_dir(self.package) / self.file
        return Path(models_dir) / self.file


@dataclass(frozen=True)
class ModelStatus:
    model: ModelFile
    path: Path
    present: bool
    verified: bool | None  # None: no pinned digest
    digest: str | None

    @property
    def state(self) -> str:
        if not self.present:
            return "missing"
        if self.verified is None:
            return "present (unpinned)"
        return "verified" if self.verified else "CHECKSUM MISMATCH"


def load_manifest(path: Path = MANIFEST) -> list[ModelFile]:
    data = json.loads(Path(path).read_text())
    return [
        ModelFile(
            name=m["name"],
            engine=m["engine"],
            file=m["file"],
            sha256=m.get("sha256"),
            licence=m["licence"],
            source=m["source"],
            package=m.get("package"),
            required=bool(m.get("required", False)),
        )
        for m in data["models"]
    ]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check(models_dir: Path, models: list[ModelFile] | None = None) -> list[ModelStatus]:
    out = []
    for m in models or load_manifest():
        try:
            p = m.path(models_dir)
        except Exception:
            p = Path(models_dir) / m.file
        if not p.is_file():
            out.append(ModelStatus(m, p, False, None, None))
            continue
        digest = sha256_of(p)
        verified = None if m.sha256 is None else digest == m.sha256
        out.append(ModelStatus(m, p, True, verified, digest))
    return out


def pull(
    models_dir: Path,
    log: Callable[[str], None] = print,
    opener: Callable[[str], object] = urllib.request.urlopen,
) -> list[ModelStatus]:
    """Download missing non-bundled files; zips (the buffalo_l pack) are unpacked."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    done: set[str] = set()
    for m in load_manifest():
        if m.package or m.path(models_dir).is_file() or m.source in done:
            continue
        log(f"downloading {m.source}")
        target = models_dir / Path(m.source).name
        with opener(m.source) as resp, open(target, "wb") as f:  # type: ignore[attr-defined]
            while chunk := resp.read(1 << 20):
                f.write(chunk)
        if target.suffix == ".zip":
            with zipfile.ZipFile(target) as z:
                pack = models_dir / target.stem
                pack.mkdir(exist_ok=True)
                for member in z.namelist():
                    if member.endswith(".onnx"):
                        (pack / Path(member).name).write_bytes(z.read(member))
            target.unlink()
        done.add(m.source)
    statuses = check(models_dir)
    for s in statuses:
        if s.present and s.model.sha256 is None:
            log(f"{s.model.name}: sha256 {s.digest} (pin it in models/manifest.json)")
    return statuses
