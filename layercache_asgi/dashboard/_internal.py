"""The dashboard's way to the cache and template APIs: the app's own endpoints, called in-process.

Going through ``/v1/cache/entries`` and ``/v1/prompts/templates`` with the admin key means
the dashboard gets exactly the checks and shapes API clients get, and does not depend on the
internals of the stores behind them.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from .._auth import admin_key
from .._config import Settings

__all__ = ["INTERNAL_CLIENT", "ApiResult", "call_api", "items_of"]

INTERNAL_CLIENT = "layercache.internal"


class ApiResult:
    def __init__(self, status: int, doc: Any) -> None:
        self.status = status
        self.doc = doc

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        """The API's own error message, for showing on the page."""
        if isinstance(self.doc, dict):
            err = self.doc.get("error")
            if isinstance(err, dict) and err.get("message"):
                return str(err["message"])
            if isinstance(err, str):
                return err
            if self.doc.get("detail"):
                return str(self.doc["detail"])
        return f"HTTP {self.status}"


async def call_api(
    app: Any,
    settings: Settings,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: Any = None,
    content: str | None = None,
) -> ApiResult:
    """Call one of the app's own routes in-process, with a JSON ``body`` or raw text ``content``."""
    headers = {"x-layercache-caller": "dashboard"}
    key = admin_key(settings)
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    if content is not None:  # template documents: YAML, which includes JSON
        headers["content-type"] = "application/yaml"
    # Its own client address, so a guesser locked out at 127.0.0.1 cannot lock out the dashboard's own calls.
    transport = httpx.ASGITransport(app=app, client=(INTERNAL_CLIENT, 0))
    async with httpx.AsyncClient(transport=transport, base_url="http://layercache.internal", headers=headers) as client:
        response = await client.request(method, path, params=params, json=body, content=content)
    try:
        doc = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        doc = None
    return ApiResult(response.status_code, doc)


def items_of(doc: Any, *keys: str) -> list[dict[str, Any]]:
    """The list inside an API answer: the answer itself, or under one of ``keys``."""
    if isinstance(doc, list):
        return [d for d in doc if isinstance(d, dict)]
    if isinstance(doc, dict):
        for key in (*keys, "data", "items"):
            value = doc.get(key)
            if isinstance(value, list):
                return [d for d in value if isinstance(d, dict)]
    return []
