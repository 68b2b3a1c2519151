"""Each Lambda function's code run under the S3 permissions Terraform gives its role.

The statements come from the Terraform files (``permissions.json``, which functions.tf
turns into each role's policy, and the bucket-level ``s3:ListBucket`` statement). Every
S3 call a function makes, presigned URLs included, is checked against its role the way
S3 authorizes it (DeleteObjects key by key, refused keys under ``Errors`` in a 200; any
other refused call a 403 AccessDenied) in front of a real S3 API (moto): a route whose code
needs an action its role lacks fails here, not on AWS.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functions.wiring import assemble
from huchu.analysis import EngineSpec
from huchu.config import Settings
from huchu.context import Context
from huchu.engines.base import FaceEngine
from huchu.inference.local import LocalInference
from huchu.photos import graph_owed
from huchu.stores.factory import s3_client
from huchu.stores.falkordb_server import EmbeddedFalkorDB
from huchu.stores.ids import new_id
from huchu.stores.objects import S3ObjectStore
from huchu.stores.vectors import QdrantStore
from tests.conftest import graph_store
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "infra" / "terraform"
BUCKET = "huchu-images-123456789012"
ADMIN = "permissions-test-admin-token-3c7d"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
# Each S3 operation the store uses, the IAM action S3 authorizes it by, and on what.
ACTIONS = {
    "GetObject": ("s3:GetObject", "key"),
    "HeadObject": ("s3:GetObject", "key"),
    "PutObject": ("s3:PutObject", "key"),
    "DeleteObject": ("s3:DeleteObject", "key"),
    "ListObjectsV2": ("s3:ListBucket", "bucket"),
    "HeadBucket": ("s3:ListBucket", "bucket"),
}


def role_statements(function: str) -> list[dict[str, Any]]:
    """The function's S3 statements as functions.tf writes its role's policy."""
    source = (TERRAFORM / "functions.tf").read_text()
    assert 'jsondecode(file("${path.module}/permissions.json"))' in source
    assert re.search(
        r'sid\s*=\s*"ListObjects"\s*actions\s*=\s*\["s3:ListBucket"\]\s*'
        r"resources\s*=\s*\[aws_s3_bucket\.images\.arn\]",
        source,
    )
    granted = json.loads((TERRAFORM / "permissions.json").read_text())[function]
    statements = [
        {
            "Effect": "Allow",
            "Action": s["actions"],
            "Resource": [f"arn:aws:s3:::{BUCKET}/{k}" for k in s["keys"]],
        }
        for s in granted
    ]
    statements.append(
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{BUCKET}"]}
    )
    return statements


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM's evaluation for one identity policy: an explicit deny wins, else any allow."""
    allowed = False
    for s in statements:
        if any(fnmatchcase(action, a) for a in s["Action"]) and any(
            fnmatchcase(resource, r) for r in s["Resource"]
        ):
            if s["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


_placeholders = itertools.count()


@dataclass
class Role:
    """Checks one S3 client's calls against a role's statements, as S3 would."""

    statements: list[dict[str, Any]]
    denied: list[str] = field(default_factory=list)

    def attach(self, client: Any) -> Any:
        events = client.meta.events
        events.register("provide-client-params.s3.*", self.check)
        events.register("before-call.s3.*", self.refuse)
        events.register("after-call.s3.DeleteObjects", self.report)
        return client

    def check(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == "DeleteObjects":
            refused, kept = [], []
            for obj in params["Delete"]["Objects"]:
                if allows(
                    self.statements, "s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/{obj['Key']}"
                ):
                    kept.append(obj)
                else:  # S3 leaves the key and names it under Errors (after-call below)
                    refused.append(obj["Key"])
                    kept.append({"Key": f"refused-by-iam/{next(_placeholders)}"})
                    self.denied.append(f"s3:DeleteObject {obj['Key']}")
            params["Delete"]["Objects"] = kept
            context["refused_keys"] = refused
            return
        assert model.name in ACTIONS, f"an S3 call this test does not know: {model.name}"
        action, on = ACTIONS[model.name]
        resource = f"arn:aws:s3:::{BUCKET}" + (f"/{params['Key']}" if on == "key" else "")
        if not allows(self.statements, action, resource):
            what = "presigned " if context.get("is_presign_request") else ""
            self.denied.append(f"{what}{action} {resource}")
            context["denied"] = True

    def refuse(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        if not context.get("denied"):
            return None
        body: dict[str, Any] = {
            "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return AWSResponse("https://s3.amazonaws.com", 403, HTTPHeaders(), None), body

    def report(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        refused = context.get("refused_keys") or []
        errors = [{"Key": k, "Code": "AccessDenied", "Message": "Access Denied"} for k in refused]
        if errors:
            parsed["Errors"] = [*parsed.get("Errors", []), *errors]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@dataclass
class Deployment:
    """The five functions on one bucket, vector store and graph, each with its role."""

    settings: Settings
    contexts: dict[str, Context]
    roles: dict[str, Role]
    operator: S3ObjectStore

    def client(self, function: str) -> TestClient:
        import importlib

        module = importlib.import_module(f"functions.{function}")
        app: FastAPI = module.create_app(self.settings)
        app.state.context = self.contexts[function]
        app.state.work_after_answer = False  # as under Mangum
        return TestClient(app)


@pytest.fixture
def deployment(
    tmp_path: Path,
    s3_endpoint: str,
    bundled_engine: FaceEngine,
    graph_server: EmbeddedFalkorDB,
) -> Iterator[Deployment]:
    settings = Settings().model_copy(
        update={
            "data_dir": tmp_path / "data",
            "admin_token": ADMIN,
            "rate_limit_per_minute": 0,
            "recompute_seconds": 0,
            "s3_endpoint": s3_endpoint,
            "s3_bucket": BUCKET,
            "s3_access_key": "test",
            "s3_secret_key": "test",
            "s3_region": "us-east-1",
        }
    )
    operator = S3ObjectStore(s3_client(settings), BUCKET)
    s3_client(settings).create_bucket(Bucket=BUCKET)
    inference = LocalInference(
        EngineSpec.from_settings(Settings(engine="dlib", models_dir=ROOT / "models")),
        engine=bundled_engine,
    )
    vectors = QdrantStore(None, settings.data_dir / "qdrant")
    graph = graph_store(graph_server)
    roles, contexts = {}, {}
    for name in ("photos", "catalog", "averages", "admin", "recompute"):
        roles[name] = Role(role_statements(name))
        objects = S3ObjectStore(roles[name].attach(s3_client(settings)), BUCKET)
        contexts[name] = assemble(settings, objects, vectors, inference, graph)
    yield Deployment(settings, contexts, roles, operator)
    vectors.close()
    graph.close()
    inference.close()
    client = s3_client(settings)
    keys = operator.list("")
    if keys:
        operator.delete(keys)
    client.delete_bucket(Bucket=BUCKET)


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if "json" in answer.headers.get("content-type", "") else answer.content


def test_every_function_may_do_its_job(deployment: Deployment, photos: dict[str, bytes]) -> None:
    d = deployment
    with d.client("admin") as admin:
        ok(admin.put("/api/events/party", json={"name": "Party"}, headers=AUTH))

    faces: list[str] = []
    with d.client("photos") as client:
        for name in ("obama.jpg", "obama2.jpg", "biden.jpg"):
            body = ok(
                client.post(
                    "/api/photos",
                    files={"file": (name, photos[name], "image/jpeg")},
                    data={"consent": "true", "event": "party"},
                ),
                201,
            )
            faces.append(next(f["face_id"] for f in body["faces"] if f["accepted"]))
        data = photos["obama3.jpg"]
        ticket = ok(
            client.post(
                "/api/uploads",
                json={"event": "party", "content_type": "image/jpeg", "size": len(data)},
            ),
            201,
        )
        assert httpx.put(ticket["url"], content=data, headers=ticket["headers"]).status_code == 200
        staged = ok(
            client.post(
                f"/api/uploads/{ticket['upload_id']}/process",
                data={"consent": "true", "event": "party"},
            ),
            201,
        )

    with d.client("averages") as client:
        ok(client.post("/api/averages/recompute?event=party", headers=AUTH))
        graph_owed.owe(d.contexts["photos"], ["party"], RuntimeError("a graph outage"))
        ok(client.get("/api/graph?event=party"))
        assert graph_owed.key("party") not in d.operator.list("events/party/")
        for url in ("/api/averages", "/api/averages/history", "/api/leaderboard"):
            ok(client.get(f"{url}?event=party"))

    a, b, _ = faces
    with d.client("catalog") as client:
        graph_owed.owe(d.contexts["photos"], ["party"], RuntimeError("a graph outage"))
        ok(client.get(f"/api/faces/{a}/family"))
        assert graph_owed.key("party") not in d.operator.list("events/party/")
        image = ok(client.get(f"/api/photos/{staged['photo_id']}"))["image_url"]
        assert httpx.get(image).status_code == 200  # the role may read what it signs
        for url in (
            "/api/photos?event=party",
            "/api/faces?event=party",
            f"/api/faces/{a}",
            f"/api/faces/{a}/similar",
            f"/api/faces/{a}/graph",
            f"/api/faces/{a}/path/{b}",
            f"/api/faces/{a}/standing",
            f"/api/faces/{a}/card.png",
            f"/api/faces/{a}/card.jpg",
            "/api/events/party",
            "/api/events/party/qr.svg",
            "/api/engine",
        ):
            ok(client.get(url))
        files = {"file": ("obama.jpg", photos["obama.jpg"], "image/jpeg")}
        ok(client.post("/api/lookalikes", files=files, data={"event": "party"}))

    with d.client("admin") as client:
        ok(client.get(f"/api/admin/faces/{a}/embedding", headers=AUTH))

    with d.client("photos") as client:
        ok(client.delete(f"/api/photos/{staged['photo_id']}", headers=AUTH), 204)
    with d.client("averages") as client:  # redraws what the delete left owed
        ok(client.post("/api/averages/recompute?event=party", headers=AUTH))

    # What an upload killed midway left: the scheduled recompute sweeps it.
    from functions.averages import recompute_all

    stray = f"events/party/photos/{new_id()}/original.jpg"
    d.operator.put(stray, photos["obama.jpg"], "image/jpeg")
    versions = recompute_all(d.contexts["recompute"], sweep_after_s=0)
    assert versions["party"] > 0 and stray not in d.operator.list("events/party/photos/")

    denied = {name: role.denied for name, role in d.roles.items() if role.denied}
    assert denied == {}
