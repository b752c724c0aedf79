# taizhang in a container.
#   docker build -t taizhang .                 the bot and the web app (PDF export off)
#   docker build --target pdf -t taizhang:pdf . the same with LibreOffice, for PDF exports
# Settings come from the environment (see .env.example); state lives in /data.

# The base images, replaceable where Docker Hub and ghcr.io cannot be reached (a mirror, or
# the images deploy/local-images.sh builds from a Debian mirror): see docs/deploy.md.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13

FROM ${UV_IMAGE} AS uv

# ---------------------------------------------------------------- build: the locked venv
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first, from the lock alone, so a code change reuses this layer. (No BuildKit
# features: the file builds with the classic builder too, and fetches no frontend image.)
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY scheduler ./scheduler
COPY ledger ./ledger
COPY locales ./locales
COPY sandbox ./sandbox
COPY web ./web
RUN uv sync --frozen --no-dev --no-editable
# The message catalogues compiled once here (as the bytecode is), not at each start.
RUN /app/.venv/bin/python -c "import locales; locales.translations()"

# ---------------------------------------------------------------- runtime: the bot
FROM ${PYTHON_IMAGE} AS bot
# CJK fonts for what the bot draws (the status chart brings its own from PyPI; these serve
# LibreOffice in the pdf target and any font lookup by name).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk tini \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system taizhang && useradd --system --gid taizhang --home /data taizhang \
    && mkdir -p /data && chown taizhang:taizhang /data
COPY --from=build --chown=taizhang:taizhang /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data
WORKDIR /app
USER taizhang
VOLUME ["/data"]
EXPOSE 8080 8090 9100
ENTRYPOINT ["tini", "--", "taizhang"]
CMD ["run"]

# ---------------------------------------------------------------- runtime with LibreOffice
FROM bot AS pdf
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends libreoffice-writer-nogui \
    && rm -rf /var/lib/apt/lists/*
USER taizhang
