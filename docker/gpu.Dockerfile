# Inference on an NVIDIA GPU: Ray Serve with onnxruntime-gpu on a CUDA 12 + cuDNN 9 base.
#   docker build -f docker/gpu.Dockerfile -t huchu-inference-gpu .
#   docker run --gpus all -p 8000:8000 -v $PWD/models:/app/models:ro huchu-inference-gpu
# The engine picks CUDAExecutionProvider when onnxruntime-gpu sees the GPU.

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
ENV DEBIAN_FRONTEND=noninteractive PIP_BREAK_SYSTEM_PACKAGES=1 PYTHONUNBUFFERED=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-pip python3-venv libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml README.md ./
# Dependencies first (empty packages stand in for the code). onnxruntime (CPU) and
# onnxruntime-gpu install the same module: keep only the GPU build.
RUN mkdir -p huchu functions serve frontend cli \
    && touch huchu/__init__.py functions/__init__.py serve/__init__.py frontend/__init__.py \
    && pip install --no-cache-dir ".[serve,gpu]" \
    && pip uninstall -y onnxruntime huchu \
    && pip install --no-cache-dir --force-reinstall --no-deps "onnxruntime-gpu>=1.23,<1.31"
COPY huchu ./huchu
COPY serve ./serve
COPY models ./models
RUN pip install --no-cache-dir --no-deps -e .
# Replicas with num_gpus 0 (serve/config.yaml, one machine) still see the GPU: Ray would
# otherwise hide it from them. Kubernetes gives each detector its own (infra/kuberay).
ENV HUCHU_MODELS_DIR=/app/models RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES=1
EXPOSE 8000
CMD ["serve", "run", "serve/config.yaml"]
