"""The layout's rules, checked: imports flow downward, nothing is built at import time."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("huchu", "functions", "serve", "frontend", "cli")
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_contracts_hold() -> None:
    out = lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("huchu/schemas.py", "import functions.app", "Imports flow downward"),
        ("serve/batching.py", "import functions.photos", "Imports flow downward"),
        ("huchu/inference/wire.py", "import huchu.photos.catalog", "knows no use case"),
        ("huchu/stores/ids.py", "from huchu.game import state", "building blocks"),
        ("huchu/context.py", "from huchu.game import erase", "context is wired at the edge"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("node_modules")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # the forbidden import\n")
    out = lint_imports(tmp_path)
    assert out.returncode != 0, out.stdout
    assert "1 broken" in out.stdout
    broken = [row for row in out.stdout.splitlines() if row.endswith("BROKEN")]
    assert len(broken) == 1 and contract in broken[0], out.stdout


# Calls that build something heavy (an app, settings, an engine) or register a hook.
BUILDERS = {
    "build",
    "build_app",
    "build_context",
    "create_app",
    "create_embedded_app",
    "Settings",
    "ServeSettings",
    "FastAPI",
    "Mangum",
    "on_delete",
}


def _called(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return None


def module_level_builds(path: Path) -> list[str]:
    """Module-level statements that build at import time, and every ``asyncio.run``."""
    tree = ast.parse(path.read_text())
    found = [
        f"{path}:{n.lineno} asyncio.run"
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "run"
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "asyncio"
    ]
    for stmt in tree.body:
        value = getattr(stmt, "value", None)
        if isinstance(stmt, ast.Expr) and isinstance(value, ast.Call):
            found.append(f"{path}:{stmt.lineno} call at import: {ast.unparse(stmt)[:60]}")
        elif isinstance(stmt, ast.Assign | ast.AnnAssign) and value is not None:
            for node in ast.walk(value):
                if _called(node) in BUILDERS:
                    found.append(f"{path}:{stmt.lineno} built at import: {ast.unparse(stmt)[:60]}")
    return found


def test_nothing_is_built_at_import_time() -> None:
    found = [
        hit
        for package in ("huchu", "serve", "functions")
        for path in sorted((ROOT / package).rglob("*.py"))
        for hit in module_level_builds(path)
    ]
    assert found == []


def test_the_scan_sees_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import asyncio\nfrom serve.app import build\n"
        "app = build()\n_register()\n"
        "def f() -> None:\n    asyncio.run(g())\n"
    )
    assert len(module_level_builds(bad)) == 3
