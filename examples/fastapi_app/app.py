"""An inventory service that already exists, with an LLM caching proxy mounted at /llm.

Run from the repository root::

    uvicorn --app-dir examples/fastapi_app app:app --port 8000

then point the SDKs at it: ``OpenAI(base_url="http://127.0.0.1:8000/llm/v1")`` or
``Anthropic(base_url="http://127.0.0.1:8000/llm")``. The proxy reads
``$LAYERCACHE_CONFIG``, else ``./layercache.yaml``, else its defaults.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from layercache_asgi import LayerCacheApp


class Item(BaseModel):
    name: str
    quantity: int = 0


class Inventory:
    """The service's own state (a database in real life)."""

    def __init__(self) -> None:
        self.items: dict[int, Item] = {}

    def add(self, item: Item) -> int:
        item_id = len(self.items) + 1
        self.items[item_id] = item
        return item_id


def create_app(llm: LayerCacheApp | None = None) -> FastAPI:
    """The service; ``llm`` defaults to a LayerCacheApp configured the usual way."""
    llm = llm if llm is not None else LayerCacheApp()
    inventory = Inventory()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Mounted apps get no lifespan events of their own: the host enters the proxy's,
        # so it starts with the service (not on the first request) and closes with it.
        inventory.add(Item(name="widget", quantity=3))
        async with llm.lifespan():
            yield

    app = FastAPI(title="Inventory", lifespan=lifespan)

    @app.get("/items")
    async def list_items() -> dict[int, Item]:
        return inventory.items

    @app.post("/items", status_code=201)
    async def add_item(item: Item) -> dict[str, int]:
        return {"id": inventory.add(item)}

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> Item:
        if item_id not in inventory.items:
            raise HTTPException(status_code=404, detail="no such item")
        return inventory.items[item_id]

    app.mount("/llm", llm)
    return app


app = create_app()
