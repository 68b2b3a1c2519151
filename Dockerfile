# The Huchu image: API (`huchu serve`), the site, and Ray Serve inference on CPU.
# A node stage fetches the site's pinned JavaScript (npm ci); the Python stage installs
# Huchu and renders the site once, so the container serves a web page without npm.
# GPU inference: docker/gpu.Dockerfile.

FROM node:22-bookworm-slim AS site
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM python:3.11-slim-bookworm AS app
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 huchu
WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p huchu functions serve frontend cli \
    && touch huchu/__init__.py functions/__init__.py serve/__init__.py frontend/__init__.py \
    && pip install --no-cache-dir ".[serve]" \
    && pip uninstall -y huchu
COPY . .
COPY --from=site /src/frontend/node_modules ./frontend/node_modules
RUN pip install --no-cache-dir --no-deps -e . \
    && huchu frontend build --out /app/site \
    && mkdir -p /data && chown huchu /data
USER huchu
ENV HUCHU_DATA_DIR=/data HUCHU_MODELS_DIR=/app/models PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=10 \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["huchu", "serve", "--host", "0.0.0.0", "--port", "8000"]
