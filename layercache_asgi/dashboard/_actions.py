"""The dashboard's state-changing requests (all POST, all behind the CSRF check) and config reload."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response

from .._errors import ProxyError
from ._base import Dashboard, View
from ._internal import call_api
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


def _import_message(doc: Any) -> str:
    """What the API says an import did: one template (``created``) or a report (``created``/``unchanged``)."""
    if isinstance(doc, dict) and "version" in doc:
        reference = f"{doc.get('name')}@{doc.get('version')}"
        return f"Imported {reference}." if doc.get("created") else f"Unchanged: {reference} is identical."
    report = doc if isinstance(doc, dict) else {}
    parts = [
        f"{label}: {', '.join(report[key])}"
        for key, label in (("created", "Imported"), ("unchanged", "Unchanged"))
        if report.get(key)
    ]
    return ("; ".join(parts) or "Nothing imported") + "."


class Actions:
    def __init__(self, dashboard: Dashboard, pages: Pages) -> None:
        self.d = dashboard
        self.pages = pages

    async def login(self, view: View) -> Response:
        presented = (await view.form()).get("key", "")
        try:
            # While the address is locked out, even the right key is not tried.
            ok = view.runtime.auth.admin_login(view.request.scope, presented, view.settings)
        except ProxyError as exc:
            wait = exc.headers.get("retry-after", "60")
            error = f"Too many failed logins from your address. Try again in {wait} seconds."
            response = await self.pages.login(view, error=error, status=429)
            response.headers["retry-after"] = wait
            return response
        if not ok:
            return await self.pages.login(view, error="That is not the admin key.", status=401)
        # A success clears no failures: they age out, so other routes' wrong keys still count.
        # A new session id on login: a session planted before it is worth nothing after.
        view.new_session = self.d.signer.new(view.settings, authenticated=True)
        return RedirectResponse(f"{view.base}/", status_code=303)

    async def logout(self, view: View) -> Response:
        self.d.signer.revoke(view.session)  # a copy of the cookie is worth nothing from now on
        view.new_session = self.d.signer.new(view.settings, authenticated=False)
        return RedirectResponse(f"{view.base}/login", status_code=303)

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
        saved = result.doc if isinstance(result.doc, dict) else {}
        reference = f"{saved.get('name')}@{saved.get('version')}"
        message = f"Saved {reference}." if saved.get("created") else f"Unchanged: {reference} is identical."
        return await self.pages.templates(view, message=message)

    async def template_delete(self, view: View) -> Response:
        name = (await view.form()).get("name", "")
        path = f"/v1/prompts/templates/{quote(name, safe='')}"
        result = await call_api(self.d.app, view.settings, "DELETE", path)
        if not result.ok:
            return await self.pages.templates(view, error=f"Not deleted: {result.message}")
        return await self.pages.templates(view, message=f"Template {name} deleted.")

    async def template_import(self, view: View) -> Response:
        """A file or pasted text, handed to the API as it is: it validates every template before saving any."""
        try:
            uploaded = await view.upload("file", view.settings.proxy.max_body_bytes)
        except ValueError as exc:
            return await self.pages.templates(view, error=f"Not imported: {exc}")
        text = uploaded or (await view.form()).get("document", "")
        if not text.strip():
            return await self.pages.templates(view, error="Choose a YAML or JSON file, or paste one.")
        result = await call_api(self.d.app, view.settings, "POST", "/v1/prompts/templates", content=text)
        if not result.ok:
            return await self.pages.templates(view, error=f"Not imported: {result.message}")
        return await self.pages.templates(view, message=_import_message(result.doc))

    async def config_save(self, view: View) -> Response:
        form = await view.form()
        text, seen = form.get("yaml", ""), form.get("file_fingerprint") or None
        path = getattr(self.d.app, "config_path", None)
        try:
            result = await save_editor_yaml(view.runtime, text, path, file_fingerprint=seen)
        except ProxyError as exc:
            return await self.pages.config(view, text=text, file_fingerprint=seen, error=exc.message, status=exc.status)
        except OSError as exc:
            error = f"Not saved: {exc.strerror}"
            return await self.pages.config(view, text=text, file_fingerprint=seen, error=error, status=409)
        # Re-read the view so the page shows (and links with) the new settings.
        view.settings = view.runtime.settings
        message = "Saved and applied." + (
            f" Takes effect after a restart: {', '.join(result['restart_required'])}."
            if result["restart_required"]
            else ""
        )
        return await self.pages.config(view, message=message)
