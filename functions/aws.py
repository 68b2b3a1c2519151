"""AWS Lambda entry points: one image, one handler per function chosen by the image's ``CMD``.

``python -m awslambdaric functions.aws.photos`` (and ``catalog``, ``averages``, ``admin``).
Each handler reads the app secret from Secrets Manager once, hands HTTP API events to the
function's Mangum handler and nothing else to it: the averages handler also takes the
scheduled recompute, as EventBridge Scheduler input or as a classic "Scheduled Event".
Importing this module imports no function, store or engine: that waits for the first event.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("huchu.aws")

Handler = Callable[[Any, Any], Any]

_secrets_loaded = False
_settings_checked = False


class UnsupportedEvent(ValueError):
    """An event this function does not take (reported to Lambda as the invocation's error)."""


def load_secrets() -> None:
    """Copy the JSON secret at ``HUCHU_SECRETS_ARN`` into ``HUCHU_*`` variables, once."""
    global _secrets_loaded
    arn = os.environ.get("HUCHU_SECRETS_ARN")
    if _secrets_loaded or not arn:
        return
    import boto3

    raw = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    values = json.loads(raw)
    if not isinstance(values, dict):
        raise ValueError("the app secret must be a JSON object of HUCHU_* values")
    for key, value in values.items():
        # Plain settings from the function's configuration win over the secret.
        if key.startswith("HUCHU_") and isinstance(value, str) and value:
            os.environ.setdefault(key, value)
    _secrets_loaded = True


def start() -> None:
    """Once per container: the secrets, then the settings checked, so that a production
    function missing a shared store fails every invocation with the variable's name instead
    of keeping a store of its own in /tmp."""
    global _settings_checked
    load_secrets()
    if not _settings_checked:
        from huchu.config import Settings

        Settings().check_production()
        _settings_checked = True


def is_http(event: Any) -> bool:
    """An API Gateway (HTTP API v2 or REST) or load balancer request, which Mangum takes."""
    if not isinstance(event, Mapping):
        return False
    context = event.get("requestContext")
    return isinstance(context, Mapping) and (
        "http" in context or "httpMethod" in event or "elb" in context
    )


def schedule_target(event: Any) -> str | None:
    """The event slug a schedule payload recomputes ("*" for every event), or None."""
    if not isinstance(event, Mapping):
        return None
    if event.get("huchu") == "recompute":  # EventBridge Scheduler's input (Terraform)
        return str(event.get("event") or "*")
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        detail = event.get("detail")
        wanted = detail.get("event") if isinstance(detail, Mapping) else None
        return str(wanted or "*")
    return None


def _http_handler(name: str) -> Handler:
    def handler(event: Any, context: Any) -> Any:
        start()
        if not is_http(event):
            raise UnsupportedEvent(f"the {name} function takes HTTP API events only")
        module = importlib.import_module(f"functions.{name}")
        return module.handler(event, context)

    handler.__name__ = name
    handler.__doc__ = f"Lambda handler of the {name} function (HTTP API events)."
    return handler


photos = _http_handler("photos")
catalog = _http_handler("catalog")
admin = _http_handler("admin")
_averages_http = _http_handler("averages")


def averages(event: Any, context: Any) -> Any:
    """Lambda handler of the averages function: HTTP API events and the scheduled recompute."""
    target = schedule_target(event)
    if target is None:
        return _averages_http(event, context)
    start()
    from functions.averages import schedule_handler

    answer = schedule_handler({"event": target}, context)
    log.info("scheduled recompute: %s", answer)
    return answer
