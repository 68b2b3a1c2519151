"""The Lambda image's entry command answers real Lambda Runtime API traffic.

A loopback server plays the Lambda service (the Runtime API's next, response and error
calls); ``python -m awslambdaric <handler>`` is the image's entry point and runs against it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.functions.test_lambda_and_cli import api_gateway_v2

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/2018-06-01/runtime"


@dataclass
class RuntimeApi:
    """The Lambda service's side: hands out events, collects answers by request id."""

    events: queue.Queue[tuple[str, bytes]] = field(default_factory=queue.Queue)
    answers: dict[str, tuple[str, Any]] = field(default_factory=dict)
    init_errors: list[Any] = field(default_factory=list)
    done: threading.Condition = field(default_factory=threading.Condition)
    address: str = ""

    def invoke(self, event: Any, timeout: float = 60) -> tuple[str, Any]:
        """Queue one event and wait for its response or error call."""
        request_id = str(uuid.uuid4())
        self.events.put((request_id, json.dumps(event).encode()))
        deadline = time.monotonic() + timeout
        with self.done:
            while request_id not in self.answers:
                left = deadline - time.monotonic()
                if left <= 0 or self.init_errors:
                    raise AssertionError(f"no answer; init errors: {self.init_errors}")
                self.done.wait(min(left, 0.5))
            return self.answers.pop(request_id)


def _handler_class(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(
            self, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                self._reply(404)
                return
            while True:  # long poll, as the real service does
                try:
                    request_id, body = api.events.get(timeout=0.5)
                    break
                except queue.Empty:
                    continue
            deadline = int(time.time() * 1000) + 60_000
            self._reply(
                200,
                body,
                {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:ap-northeast-2:123456789012:function:huchu-test",
                    "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            parts = self.path.removeprefix(PREFIX).strip("/").split("/")
            if parts == ["init", "error"]:
                api.init_errors.append(body)
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                with api.done:
                    api.answers[parts[1]] = (parts[2], body)
                    api.done.notify_all()
            else:
                self._reply(404)
                return
            self._reply(202, b'{"status": "OK"}')

    return Handler


@pytest.fixture
def runtime_api() -> Iterator[RuntimeApi]:
    api = RuntimeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.address = f"127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


def start_runtime(
    api: RuntimeApi, handler: str, data_dir: Path, **settings: str
) -> subprocess.Popen[bytes]:
    """The image's entry command, as Lambda starts it."""
    env = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": "huchu-test",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/huchu-test",
        "AWS_LAMBDA_LOG_STREAM_NAME": "test",
        "PYTHONPATH": str(ROOT),
        "HUCHU_DATA_DIR": str(data_dir),
        "HUCHU_RECOMPUTE_SECONDS": "0",
    }
    env.pop("HUCHU_SECRETS_ARN", None)
    env |= settings
    return subprocess.Popen([sys.executable, "-m", "awslambdaric", handler], cwd=ROOT, env=env)


@pytest.fixture
def averages_runtime(runtime_api: RuntimeApi, tmp_path: Path) -> Iterator[RuntimeApi]:
    proc = start_runtime(runtime_api, "functions.aws.averages", tmp_path / "data")
    try:
        yield runtime_api
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


SCHEDULER_INPUT: dict[str, Any] = {"huchu": "recompute", "event": "*"}
CLASSIC_SCHEDULED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-26T10:00:00Z",
    "region": "ap-northeast-2",
    "resources": ["arn:aws:events:ap-northeast-2:123456789012:rule/huchu-recompute"],
    "detail": {},
}


def test_http_api_event_gets_the_functions_answer(averages_runtime: RuntimeApi) -> None:
    kind, answer = averages_runtime.invoke(
        api_gateway_v2("GET", "/api/averages", b"", "text/plain")
    )
    assert kind == "response", answer
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert body["event"] == "default" and body["cohorts"] == []

    kind, answer = averages_runtime.invoke(
        api_gateway_v2("GET", "/api/leaderboard", b"", "text/plain")
    )
    assert kind == "response" and answer["statusCode"] == 200, answer


@pytest.mark.parametrize(
    "payload", [SCHEDULER_INPUT, CLASSIC_SCHEDULED_EVENT], ids=["scheduler", "classic"]
)
def test_both_schedule_payloads_recompute(
    averages_runtime: RuntimeApi, payload: dict[str, Any]
) -> None:
    kind, answer = averages_runtime.invoke(payload)
    assert kind == "response", answer
    assert answer == {"versions": {}}  # an empty data dir: every event recomputed, none has photos


def test_an_unknown_event_is_an_invocation_error(averages_runtime: RuntimeApi) -> None:
    kind, answer = averages_runtime.invoke({"Records": [{"eventSource": "aws:sqs"}]})
    assert kind == "error"
    assert answer["errorType"] == "UnsupportedEvent"
    # The runtime keeps serving after an error.
    kind, _ = averages_runtime.invoke(SCHEDULER_INPUT)
    assert kind == "response"


def test_http_function_refuses_a_schedule_payload(runtime_api: RuntimeApi, tmp_path: Path) -> None:
    proc = start_runtime(runtime_api, "functions.aws.admin", tmp_path / "data")
    try:
        kind, answer = runtime_api.invoke(CLASSIC_SCHEDULED_EVENT)
        assert kind == "error" and answer["errorType"] == "UnsupportedEvent", answer
        kind, answer = runtime_api.invoke(
            api_gateway_v2("GET", "/api/admin/faces/nope/embedding", b"", "text/plain")
        )
        assert kind == "response" and answer["statusCode"] == 403, answer
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_production_refuses_to_serve_without_shared_stores(
    runtime_api: RuntimeApi, tmp_path: Path
) -> None:
    """Terraform's defaults (an empty Qdrant and graph URL) once left every instance with a
    vector store of its own in /tmp: now every invocation fails and names the variables."""
    data = tmp_path / "data"
    proc = start_runtime(
        runtime_api,
        "functions.aws.catalog",
        data,
        HUCHU_PRODUCTION="true",
        HUCHU_URL_SECRET="a-real-url-secret-0b6f3e",
        HUCHU_QDRANT_URL="",
        HUCHU_GRAPH_URL="",
        HUCHU_S3_BUCKET="huchu-images-123456789012",
    )
    try:
        for _ in range(2):
            kind, answer = runtime_api.invoke(
                api_gateway_v2("GET", "/api/faces", b"", "text/plain")
            )
            assert kind == "error", answer
            assert "HUCHU_QDRANT_URL" in answer["errorMessage"], answer
            assert "HUCHU_GRAPH_URL" in answer["errorMessage"], answer
            assert "HUCHU_S3_BUCKET" not in answer["errorMessage"], answer
        assert not data.exists() or not any(data.iterdir())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
