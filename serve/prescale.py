"""Pre-scale the detector before the doors open: ``python -m serve.prescale N [CONFIG]``.

Autoscaling reacts to load it has already seen (a burst of uploads can be over before a
new replica has loaded its engine), so ahead of the QR code going up an operator raises
the detector's floor to N replicas, and afterwards deploys the checked-in config again:

    python -m serve.prescale 4 > /tmp/prescaled.yaml && serve deploy /tmp/prescaled.yaml
    ...  # the event
    serve deploy serve/config.yaml

Only ``autoscaling_config`` changes, which Serve applies to the running application
without restarting replicas (its ``max_replicas`` is raised to N when below).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

CONFIG = Path(__file__).with_name("config.yaml")


def prescaled(config: dict[str, Any], detectors: int) -> dict[str, Any]:
    """The Serve config with the Detector kept at ``detectors`` replicas or more."""
    if detectors < 1:
        raise ValueError("pre-scale to at least one detector replica")
    out = copy.deepcopy(config)
    found = False
    for app in out["applications"]:
        for deployment in app.get("deployments", []):
            if deployment["name"] == "Detector":
                scaling = deployment["autoscaling_config"]
                scaling["min_replicas"] = detectors
                scaling["max_replicas"] = max(int(scaling["max_replicas"]), detectors)
                found = True
    if not found:
        raise ValueError("the config has no Detector deployment")
    return out


def main(argv: list[str]) -> int:
    if not argv or not argv[0].isdigit():
        print("usage: python -m serve.prescale N [CONFIG]  (N detector replicas)", file=sys.stderr)
        return 2
    source = Path(argv[1]) if len(argv) > 1 else CONFIG
    try:
        config = prescaled(yaml.safe_load(source.read_text()), int(argv[0]))
    except (OSError, ValueError, KeyError) as exc:
        print(f"serve.prescale: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(yaml.safe_dump(config, sort_keys=False, default_flow_style=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
