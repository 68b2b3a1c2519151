"""Terraform deploys what the app serves: checkov's AWS checks, routes, limits, formatting."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI

from huchu.config import Settings

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "infra" / "terraform"
FUNCTIONS = ("photos", "catalog", "averages", "admin")
# Served by the embedded app only (its signed /files/ links are not in the OpenAPI document).
EMBEDDED_ONLY = {"GET /healthz", "GET /readyz"}


def checkov_binary() -> str | None:
    """checkov has its own virtualenv (its pins clash with Huchu's): see the Makefile."""
    candidates = [
        os.environ.get("HUCHU_CHECKOV", ""),
        str(Path(sys.prefix) / "tools" / "checkov" / "bin" / "checkov"),
        shutil.which("checkov") or "",
    ]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def checkov_pin() -> str:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (pin,) = extras["checkov"]
    return str(pin).split("==")[1]


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    binary = checkov_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("checkov is missing: `make test` installs it into .venv/tools/checkov")
        pytest.skip("checkov is not installed (make test installs it)")
    out = subprocess.run(
        [binary, "-d", str(TERRAFORM), "--framework", "terraform", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    assert out.stdout.strip(), out.stderr[-2000:]
    report = json.loads(out.stdout)
    return cast(dict[str, Any], report[0] if isinstance(report, list) else report)


def test_checkov_finds_no_failed_check(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    assert summary["checkov_version"] == checkov_pin()
    assert summary["parsing_errors"] == 0
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in checkov_report["results"]["failed_checks"]
    ]
    assert failed == []
    # Every file is scanned, the Qdrant module too.
    scanned = {c["file_path"] for c in checkov_report["results"]["passed_checks"]}
    assert "/modules/store_instance/main.tf" in scanned and "/functions.tf" in scanned
    assert summary["passed"] > 250


def test_every_skip_is_written_in_the_code_with_a_reason(checkov_report: dict[str, Any]) -> None:
    sources = "\n".join(p.read_text() for p in TERRAFORM.rglob("*.tf"))
    written = dict(re.findall(r"#checkov:skip=(\w+):(.+)", sources))
    for check in checkov_report["results"]["skipped_checks"]:
        reason = check["check_result"].get("suppress_comment", "")
        assert check["check_id"] in written, check["check_id"]
        assert len(reason.split()) >= 5, f"{check['check_id']} needs a reason: {reason!r}"


def function_app(name: str) -> FastAPI:
    """The function's FastAPI app, as its Lambda handler serves it."""
    module = importlib.import_module(f"functions.{name}")
    factory = getattr(module, "create_app", None)
    if factory is not None and factory.__module__ == module.__name__:
        return cast(FastAPI, factory(Settings()))
    app = getattr(module, "app", None)
    if isinstance(app, FastAPI):
        return app
    app = FastAPI()
    app.include_router(module.router)
    return app


def route_keys(app: FastAPI) -> set[str]:
    """Every method and path the app answers, from its OpenAPI document."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}


def terraform_routes() -> dict[str, str]:
    return cast(dict[str, str], json.loads((TERRAFORM / "routes.json").read_text()))


def test_api_gateway_routes_are_exactly_the_functions_routes() -> None:
    served = {key: name for name in FUNCTIONS for key in route_keys(function_app(name))}
    assert terraform_routes() == served


def test_every_api_route_of_the_embedded_app_is_deployed(tmp_path: Path) -> None:
    from functions.embedded import create_embedded_app
    from huchu.context import Context
    from huchu.stores.objects import LocalObjectStore, UrlSigner

    settings = Settings().model_copy(update={"data_dir": tmp_path})
    objects = LocalObjectStore(tmp_path / "objects", UrlSigner(b"k" * 32))
    # Building the app touches no store or engine, so they stay unbuilt.
    ctx = Context(settings, objects, cast(Any, None), cast(Any, None))
    embedded = route_keys(create_embedded_app(ctx, scheduler=False))
    assert embedded - EMBEDDED_ONLY == set(terraform_routes())


def tf_locals(name: str) -> str:
    return (TERRAFORM / name).read_text()


def test_function_commands_are_handlers_of_the_image() -> None:
    commands = re.findall(r'command = "([\w.]+)"', tf_locals("main.tf"))
    assert len(commands) == 5
    for command in commands:
        module, attr = command.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), attr)), command


def test_limits_agree_with_the_app_and_api_gateway() -> None:
    main = tf_locals("main.tf")
    variables = tf_locals("variables.tf")
    found = re.search(r'variable "max_upload_mib" \{[^}]*default\s*=\s*(\d+)', variables, re.S)
    assert found is not None
    mib = int(found.group(1))
    assert mib * 1024 * 1024 == Settings().max_upload_bytes
    # API Gateway ends a request at 30 s: the HTTP functions must stop before it does.
    timeouts = dict(re.findall(r"(\w+)\s*=\s*\{ command = \"[\w.]+\",.*timeout = (\d+) \}", main))
    assert set(timeouts) == {"photos", "catalog", "averages", "admin", "recompute"}
    assert all(int(t) < 30 for name, t in timeouts.items() if name != "recompute")
    assert "staging/" in tf_locals("storage.tf") and "days = 1" in tf_locals("storage.tf")


def test_terraform_is_formatted() -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    out = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def hcl_block(text: str, opening: str) -> str:
    """The block that starts with ``opening`` (up to its matching brace)."""
    start = text.index(opening)
    depth = 0
    for i in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start : i + 1]
    raise AssertionError(f"unclosed block {opening!r}")


def test_the_page_reaches_every_route_through_its_own_origin() -> None:
    """admin.html's PUT /api/events/{event} once failed a CORS preflight that allowed no
    PUT: the page now calls /api/* on its own CloudFront distribution, which must pass
    every method the routes use to API Gateway, with the header the functions require."""
    site = tf_locals("site.tf")
    behaviour = hcl_block(site, "ordered_cache_behavior {")
    assert 'path_pattern               = "/api/*"' in behaviour
    found = re.search(r"allowed_methods\s*=\s*\[([^\]]*)\]", behaviour)
    assert found is not None
    allowed = set(re.findall(r'"(\w+)"', found.group(1)))
    used = {key.split()[0] for key in terraform_routes()}
    assert used | {"OPTIONS"} <= allowed
    assert 'target_origin_id           = "api"' in behaviour
    assert "data.aws_cloudfront_cache_policy.disabled.id" in behaviour
    api_origin = hcl_block(site, 'origin {\n    origin_id   = "api"')
    assert 'name  = "X-Huchu-Origin"' in api_origin and "var.origin_secret" in api_origin
    assert 'HUCHU_ORIGIN_REQUIRED      = "true"' in tf_locals("main.tf")
    assert "local.site_origin" in hcl_block(tf_locals("outputs.tf"), 'output "api_url"')


def test_every_route_is_throttled_and_clients_are_limited_by_the_web_acl() -> None:
    """API Gateway limits each route (by kind); the web ACL limits each client on the API
    and on uploads, so one client cannot use the whole upload budget."""
    stage = hcl_block(tf_locals("api.tf"), 'resource "aws_apigatewayv2_stage" "default"')
    assert "for_each = local.route_kinds" in hcl_block(stage, 'dynamic "route_settings"')
    kinds = hcl_block(tf_locals("main.tf"), "route_kinds = {")
    assert "for r, fn in local.routes" in kinds
    limits = hcl_block(tf_locals("variables.tf"), 'variable "route_limits"')
    rates = dict(re.findall(r"(\w+)\s*=\s*\{ rate = (\d+)", limits))
    assert set(rates) == {"upload", "read", "write", "admin"}
    assert re.findall(r'"(\w+)"', kinds) == ["upload", "admin", "admin", "read", "write"]
    assert int(rates["upload"]) < int(rates["read"])

    acl = hcl_block(tf_locals("waf.tf"), 'resource "aws_wafv2_web_acl" "site"')
    rules = {
        name: hcl_block(acl[acl.rindex("rule {", 0, acl.index(f'"{name}"')) :], "rule {")
        for name in ("api-per-address", "uploads-per-address", "uploads-per-client")
    }
    for rule in rules.values():
        assert "rate_based_statement" in rule and "block {}" in rule
    assert 'search_string         = "/api/"' in rules["api-per-address"]
    for name in ("uploads-per-address", "uploads-per-client"):
        assert "^/api/(photos|uploads)(/[^/]+/process)?$" in rules[name]
        assert 'search_string         = "POST"' in rules[name]
    assert 'name = "x-huchu-owner"' in rules["uploads-per-client"]
    assert "web_acl_id          = aws_wafv2_web_acl.site.arn" in tf_locals("site.tf")


def test_routes_that_write_go_to_functions_whose_role_writes() -> None:
    """Every non-GET route's function may write or delete objects (the detail of which
    objects: tests/infra/test_permissions.py runs the code against the roles)."""
    granted = json.loads((TERRAFORM / "permissions.json").read_text())
    writers = {
        name
        for name, statements in granted.items()
        if any({"s3:PutObject", "s3:DeleteObject"} & set(s["actions"]) for s in statements)
    }
    readers_only = {"POST /api/lookalikes"}  # analyses a photo, stores nothing
    for key, function in terraform_routes().items():
        if not key.startswith("GET ") and key not in readers_only:
            assert function in writers, key


def provider_mirror() -> Path | None:
    """A local copy of the AWS provider (``terraform init -plugin-dir``): none is downloaded."""
    for candidate in (os.environ.get("HUCHU_TERRAFORM_PLUGIN_DIR", ""), "/opt/tf-plugins"):
        if candidate and (Path(candidate) / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return Path(candidate)
    return None


def test_terraform_validates_and_plans_what_its_tests_say(tmp_path: Path) -> None:
    """`terraform validate`, then `terraform test` (infra/terraform/tests): the stack planned
    against a mocked AWS provider, with and without managed stores."""
    mirror = provider_mirror()
    if shutil.which("terraform") is None or mirror is None:
        pytest.skip("terraform or a local copy of its AWS provider is not installed")
    work = tmp_path / "infra" / "terraform"
    shutil.copytree(TERRAFORM, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    shutil.copyfile(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}
    env |= {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    for args in (
        ["init", "-backend=false", "-input=false", f"-plugin-dir={mirror}"],
        ["validate"],
        ["test"],
    ):
        out = subprocess.run(
            ["terraform", *args, "-no-color"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, (
            f"terraform {args[0]}:\n{out.stdout[-4000:]}{out.stderr[-4000:]}"
        )
