"""Routes the proxy does not serve answer JSON an SDK can read, in the shape the path implies."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from layercache_asgi import LayerCacheApp, Settings

pytestmark = pytest.mark.in_process


async def test_unknown_route_is_a_json_404_naming_it(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/foo", json={"model": "gpt-4o"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["message"] == "layercache-asgi does not serve POST /v1/foo"
    assert error["type"] == "not_found_error"


async def test_unknown_route_under_messages_is_anthropic_shaped(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/messages/batches", json={})
    assert response.status_code == 404
    doc = response.json()
    assert doc["type"] == "error"
    assert doc["error"]["type"] == "not_found_error"
    assert "POST /v1/messages/batches" in doc["error"]["message"]


@pytest.mark.parametrize(("path", "wire"), [("/v1/chat/completions", "openai"), ("/v1/messages", "anthropic")])
async def test_wrong_method_is_a_json_405(http: httpx.AsyncClient, path: str, wire: str) -> None:
    response = await http.get(path)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    doc = response.json()
    message = doc["error"]["message"]
    assert message == f"layercache-asgi does not serve GET {path} (allowed: POST)"
    assert (doc.get("type") == "error") is (wire == "anthropic")


async def test_mounted_under_a_host_the_json_shape_holds(settings: Settings) -> None:
    # A host's own 404/405 (Starlette plain text here) must not answer for the proxy's prefix.
    app = LayerCacheApp(settings)
    host = Starlette(routes=[Mount("/llm", app)])
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://host.test") as http:
            missing = await http.post("/llm/v1/responses/abc", json={})
            wrong = await http.get("/llm/v1/messages")
    finally:
        await app.shutdown()
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "layercache-asgi does not serve POST /v1/responses/abc"
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "error"
