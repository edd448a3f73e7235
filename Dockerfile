# layercache-asgi as a standalone proxy.
#   docker build -t layercache-asgi .
#   docker run -p 8000:8000 -v layercache-data:/data layercache-asgi
# The config is /app/layercache.yaml (mount your own over it); the SQLite database and
# the embedding model's download cache live in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    LAYERCACHE_CONFIG=/app/layercache.yaml \
    FASTEMBED_CACHE_PATH=/data/models

WORKDIR /app
COPY pyproject.toml README.md ./
COPY layercache_asgi ./layercache_asgi
COPY migrations ./migrations
RUN pip install . && useradd --system --home /app layercache && mkdir -p /data && chown layercache /data
COPY docker/layercache.yaml /app/layercache.yaml

USER layercache
VOLUME /data
EXPOSE 8000
CMD ["layercache-asgi", "serve", "--host", "0.0.0.0", "--port", "8000"]
