# One image for the API (huchu serve / functions) and the Ray Serve inference app.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY huchu ./huchu
COPY functions ./functions
COPY serve ./serve
COPY frontend ./frontend
COPY models ./models
ARG EXTRAS=""
RUN pip install --no-cache-dir -e ".${EXTRAS}"
ENV HUCHU_DATA_DIR=/data HUCHU_MODELS_DIR=/app/models
EXPOSE 8000
CMD ["huchu", "serve", "--host", "0.0.0.0", "--port", "8000"]
