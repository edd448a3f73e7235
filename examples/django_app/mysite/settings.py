"""A minimal Django project's settings, plus the LAYERCACHE setting the proxy reads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-example-key-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["django.contrib.contenttypes"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "mysite.urls"
DATABASES: dict[str, Any] = {}  # the example's own pages need none
USE_TZ = True

# layercache-asgi, mounted at /llm by asgi.py: a dict in the shape of layercache.yaml,
# or the path of such a file. Without this setting the proxy reads $LAYERCACHE_CONFIG,
# then ./layercache.yaml, then its defaults.
LAYERCACHE: dict[str, Any] | str = os.environ.get("LAYERCACHE_CONFIG") or {
    "database": {"url": f"sqlite+aiosqlite:///{BASE_DIR / 'layercache.db'}"},
}
