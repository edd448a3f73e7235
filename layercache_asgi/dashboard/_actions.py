"""The dashboard's state-changing requests (all POST, all behind the CSRF check) and config reload."""

from __future__ import annotations

import hmac
import json
from typing import Any

import yaml
from starlette.responses import RedirectResponse, Response

from .._errors import ProxyError
from ._base import Dashboard, View
from ._internal import call_api, items_of
from ._pages import Pages
from ._settings_io import save_editor_yaml

__all__ = ["Actions"]


def _json_field(text: str, name: str, default: Any) -> Any:
    if not text.strip():
        return default
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{name} is not valid JSON: {exc}") from None


def _template_docs(text: str) -> list[dict[str, Any]]:
    """Templates pasted for import: one mapping, a list, or ``{templates: [...]}``, in YAML or JSON."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML or JSON: {exc}") from None
    docs = items_of(doc, "templates") if not (isinstance(doc, dict) and "name" in doc) else [doc]
    if not docs:
        raise ValueError("nothing to import: give a template mapping or a list of them")
    return docs


class Actions:
    def __init__(self, dashboard: Dashboard, pages: Pages) -> None:
        self.d = dashboard
        self.pages = pages

    async def login(self, view: View) -> Response:
        key = view.settings.proxy.proxy_api_key
        presented = (await view.form()).get("key", "")
        if key is None:
            return RedirectResponse(f"{view.base}/", status_code=303)
        if not hmac.compare_digest(presented.encode(), key.get_secret_value().encode()):
            return await self.pages.login(view, error="That is not the proxy key.", status=401)
        # A new session id on login: a session planted before it is worth nothing after.
        view.new_session = self.d.signer.new(view.settings, authenticated=True)
        return RedirectResponse(f"{view.base}/", status_code=303)

    async def logout(self, view: View) -> Response:
        view.new_session = self.d.signer.new(view.settings, authenticated=False)
        return RedirectResponse(f"{view.base}/login" if view.key_set else f"{view.base}/", status_code=303)

    async def cache_delete(self, view: View) -> Response:
        form = await view.form()
        scope = form.get("scope", "")
        if scope == "entry" and form.get("id", "").isdigit():
            result = await call_api(self.d.app, view.settings, "DELETE", f"/v1/cache/entries/{form['id']}")
            done = f"Entry {form['id']} invalidated."
        elif scope == "model" and form.get("model"):
            result = await call_api(
                self.d.app, view.settings, "DELETE", "/v1/cache/entries", params={"model": form["model"]}
            )
            done = f"Entries of model {form['model']} invalidated."
        elif scope == "all" and form.get("confirm") == "yes":
            result = await call_api(self.d.app, view.settings, "DELETE", "/v1/cache/entries", params={"all": "true"})
            done = "All entries invalidated."
        else:
            return await self.pages.cache(view, error="Say what to invalidate: one entry, a model, or all (confirmed).")
        if not result.ok:
            return await self.pages.cache(view, error=f"Not invalidated: {result.message}")
        count = result.doc.get("deleted") if isinstance(result.doc, dict) else None
        return await self.pages.cache(view, message=done + (f" ({count} removed)" if count is not None else ""))

    async def template_save(self, view: View) -> Response:
        form = await view.form()
        try:
            doc = {
                "name": form.get("name", "").strip(),
                "description": form.get("description", ""),
                "system": form.get("system", ""),
                "context": form.get("context", ""),
                "tools": _json_field(form.get("tools", ""), "tools", None),
                "enhancements": _json_field(form.get("enhancements", ""), "enhancements", []),
            }
        except ValueError as exc:
            return await self.pages.templates(view, error=str(exc))
        if not doc["name"]:
            return await self.pages.templates(view, error="A template needs a name.")
        result = await call_api(self.d.app, view.settings, "POST", "/v1/prompts/templates", body=doc)
        if not result.ok:
            return await self.pages.templates(view, error=f"Not saved: {result.message}")
        return await self.pages.templates(view, message=f"Template {doc['name']} saved.")

    async def template_delete(self, view: View) -> Response:
        name = (await view.form()).get("name", "")
        result = await call_api(self.d.app, view.settings, "DELETE", f"/v1/prompts/templates/{name}")
        if not result.ok:
            return await self.pages.templates(view, error=f"Not deleted: {result.message}")
        return await self.pages.templates(view, message=f"Template {name} deleted.")

    async def template_import(self, view: View) -> Response:
        try:
            docs = _template_docs((await view.form()).get("document", ""))
        except ValueError as exc:
            return await self.pages.templates(view, error=str(exc))
        saved = []
        for doc in docs:
            result = await call_api(self.d.app, view.settings, "POST", "/v1/prompts/templates", body=doc)
            if not result.ok:
                name = doc.get("name", "?")
                return await self.pages.templates(view, error=f"Import stopped at {name}: {result.message}")
            saved.append(str(doc.get("name", "?")))
        return await self.pages.templates(view, message=f"Imported: {', '.join(saved)}.")

    async def config_save(self, view: View) -> Response:
        text = (await view.form()).get("yaml", "")
        try:
            result = await save_editor_yaml(view.runtime, text, getattr(self.d.app, "config_path", None))
        except ProxyError as exc:
            return await self.pages.config(view, text=text, error=exc.message, status=400)
        except OSError as exc:
            return await self.pages.config(view, text=text, error=f"Not saved: {exc.strerror}", status=409)
        # Re-read the view so the page shows (and links with) the new settings.
        view.settings = view.runtime.settings
        message = "Saved and applied." + (
            f" Takes effect after a restart: {', '.join(result['restart_required'])}."
            if result["restart_required"]
            else ""
        )
        return await self.pages.config(view, message=message)
