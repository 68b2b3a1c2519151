#!/usr/bin/env bash
# Huchu's runtime dependencies for the Lambda image, into the virtualenv $1, from the
# pyproject.toml at $2: the base dependencies and the `aws` extra (awslambdaric), with only
# the headless OpenCV, and nothing a function never reads (caches, test suites).
set -euo pipefail
venv=$1
pyproject=${2:-pyproject.toml}
python=${PYTHON:-python3}

"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --no-cache-dir --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip

"$venv/bin/python" - "$pyproject" > "$venv/requirements.txt" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["aws"]))
PY
"${pip[@]}" install -r "$venv/requirements.txt"

# insightface declares opencv-python (the GUI build: Qt, libGL, 116 MB more) although it only
# uses functions the headless build has. Both wheels write the same cv2/ folder, so remove
# both and put the headless one back alone, at the version pip chose.
headless=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')
"${pip[@]}" uninstall -y opencv-python opencv-python-headless
"${pip[@]}" install --no-deps "opencv-python-headless==$headless"

"$venv/bin/python" - <<'PY'
import importlib.metadata as m
import cv2
names = {(d.metadata["Name"] or "").lower() for d in m.distributions()}
assert "opencv-python" not in names, "the GUI OpenCV must not be in the image"
assert cv2.imdecode is not None and cv2.warpAffine is not None
print(f"headless OpenCV {cv2.__version__} only")
PY

# Slim: test suites and caches are never imported by the functions.
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
find "$site" -depth -type d \( -name tests -o -name __pycache__ \) -prune -exec rm -rf {} +
rm -f "$venv/requirements.txt"
