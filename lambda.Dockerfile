# The AWS Lambda image: one image for every function, the handler chosen by CMD
# (Terraform's image_config.command): functions.aws.photos | catalog | averages | admin.
#   docker build -f lambda.Dockerfile -t huchu-functions .
#   docker run -p 9000:8080 huchu-functions functions.aws.catalog   (with the emulator, see docs)
# Layers: dependencies (change with pyproject.toml) first, models, then the code.

FROM python:3.11-slim AS deps
COPY infra/lambda/install-deps.sh pyproject.toml /build/
RUN /build/install-deps.sh /opt/venv /build/pyproject.toml

FROM python:3.11-slim AS app
COPY --from=deps /opt/venv /opt/venv
COPY pyproject.toml README.md /build/
COPY huchu /build/huchu
COPY functions /build/functions
COPY frontend /build/frontend
COPY serve /build/serve
RUN /opt/venv/bin/python -m pip install --no-cache-dir --no-deps -q /build \
    && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib \
    && rm -rf /opt/venv/lib/python3.11/site-packages/pip /opt/venv/lib/python3.11/site-packages/pip-*

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    HUCHU_DATA_DIR=/tmp/huchu \
    HUCHU_MODELS_DIR=/opt/huchu/models
COPY --from=app /opt/venv /opt/venv
COPY models /opt/huchu/models
WORKDIR /opt/huchu
# Fail the build, not the first invocation, when a handler cannot be imported.
RUN python -c "import functions.aws as a; [getattr(a, n) for n in ('photos', 'catalog', 'averages', 'admin')]"
USER 1000
ENTRYPOINT ["/opt/venv/bin/python", "-m", "awslambdaric"]
CMD ["functions.aws.photos"]
