"""The Lambda image's install path: lambda.Dockerfile copies the sources and installs them
as a normal wheel (never editable), so a file missing from the package data is missing
on AWS. Here the wheel is built from exactly what the Dockerfile copies, installed into a
fresh virtualenv (its dependencies borrowed from this one) and every page and fragment is
rendered from the installed copy."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "frontend" / "templates"
PIP = (sys.executable, "-m", "pip")


def dockerfile_sources() -> list[str]:
    """What lambda.Dockerfile copies into /build before ``pip install /build``."""
    text = (ROOT / "lambda.Dockerfile").read_text()
    copied: list[str] = []
    for line in re.findall(r"^COPY (?!--)(.+) /build/\S*$", text, re.M):
        copied += line.split()
    return [p for p in copied if not p.startswith("infra/")]


def build_wheel(out: Path) -> Path:
    src = out / "build"
    src.mkdir()
    for name in dockerfile_sources():
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(
                path, src / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules")
            )
        else:
            shutil.copyfile(path, src / name)
    subprocess.run(
        [
            *PIP,
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out / "dist"),
            str(src),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = (out / "dist").glob("huchu-*.whl")
    return wheel


def template_names() -> list[str]:
    return sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_every_template_and_static_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = [f"frontend/templates/{n}" for n in template_names()]
    sources += [str(p.relative_to(ROOT)) for p in (ROOT / "frontend" / "static").iterdir()]
    portraits = ROOT / "huchu" / "game" / "render" / "portraits"
    sources += [str(p.relative_to(ROOT)) for p in portraits.iterdir()]
    assert [s for s in sources if s not in names] == []
    assert "frontend/templates/fragments/upload_result.html" in names


def fresh_virtualenv(where: Path, wheel: Path) -> Path:
    """A virtualenv with the wheel installed; the dependencies are this interpreter's
    site-packages, added as a plain path (so this one's editable install is not seen)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    subprocess.run(
        [*PIP, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "borrowed-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return python


def test_installed_wheel_renders_every_page_and_fragment(
    wheel: Path, tmp_path: Path, photos: dict[str, bytes]
) -> None:
    python = fresh_virtualenv(tmp_path / "venv", wheel)
    for name in ("obama.jpg", "obama2.jpg"):
        (tmp_path / name).write_bytes(photos[name])
    listing = tmp_path / "templates.json"
    listing.write_text(json.dumps(template_names()))
    script = tmp_path / "installed_site.py"
    shutil.copyfile(Path(__file__).with_name("installed_site.py"), script)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUCHU_", "PYTHON"))}
    env |= {
        "HUCHU_DATA_DIR": str(tmp_path / "data"),
        "HUCHU_ENGINE": "dlib",
        "HUCHU_MODELS_DIR": str(ROOT / "models"),
        "HUCHU_ADMIN_TOKEN": "wheel-test-admin-token-9d2e",
        "HUCHU_RATE_LIMIT_PER_MINUTE": "0",
        "HUCHU_RECOMPUTE_SECONDS": "0",
    }
    out = subprocess.run(
        [str(python), "-P", str(script), str(listing), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    venv = str((tmp_path / "venv").resolve())
    assert all(path.startswith(venv) for path in report["from"]), report["from"]
    assert set(template_names()) <= set(report["rendered"])
