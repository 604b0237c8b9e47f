# One image for the API, the worker and migrations: `analytics serve --no-worker`, `analytics worker`,
# `analytics migrate`. Production points DATABASE_URL / REDIS_URL at real servers.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv
WORKDIR /srv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_PREFERENCE=only-system
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv sync --frozen --no-dev

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home analytics
WORKDIR /srv
COPY --from=build --chown=analytics:analytics /srv /srv
ENV PATH="/srv/.venv/bin:$PATH" PYTHONUNBUFFERED=1 ANALYTICS_DATA_DIR=/srv/data
USER analytics
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/_health').status != 200)"
CMD ["uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
