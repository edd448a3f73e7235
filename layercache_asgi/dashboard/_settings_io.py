"""Changing settings at runtime: re-read the config file, or take the dashboard editor's YAML.

Either way the new settings are validated first, then swapped into the runtime
(``Runtime.reload``); requests in flight keep the snapshot they started with. The
editor never shows secrets. When the app has a config file the editor shows that file
as it is and saves the edited text verbatim (``_config_text``); otherwise it shows the
effective settings, with the keys and the session secret hidden and kept as they
are unless the submitted YAML sets them, and credentials in URLs masked and restored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from .._config import ConfigError, Settings, changed_paths, check_no_lost_sections, load_settings
from .._errors import ProxyError
from .._runtime import Runtime
from ._config_text import (
    HIDDEN,
    SECRET_URLS,
    fingerprint,
    hidden_index,
    hidden_item,
    hide_secrets,
    masked_url,
    restore_secrets,
)

__all__ = [
    "RESTART_REQUIRED",
    "apply_settings",
    "check_no_lost_sections",
    "editor_yaml",
    "read_config_file",
    "reload_from_file",
    "save_editor_yaml",
]

# Read once at start-up: a change is stored but takes effect on the next start.
RESTART_REQUIRED = (
    "proxy.host",
    "proxy.port",
    "database",
    "upstream.max_connections",
    "caching.semantic.enabled",
    "caching.semantic.model",
    "caching.semantic.model_path",
    "dashboard.session_secret",
    "dashboard.enabled",
)
_SECRETS = (("proxy", "proxy_api_key"), ("proxy", "admin_api_key"), ("dashboard", "session_secret"))


def apply_settings(runtime: Runtime, new: Settings) -> dict[str, Any]:
    """Swap ``new`` in; report what changed and what only a restart will apply."""
    changed = changed_paths(runtime.settings, new)
    runtime.reload(new)
    restart = [p for p in changed if any(p == r or p.startswith(r + ".") for r in RESTART_REQUIRED)]
    return {"status": "reloaded", "changed": changed, "restart_required": restart}


async def reload_from_file(runtime: Runtime, path: Path | None) -> dict[str, Any]:
    """``POST /v1/config/reload``: re-read the app's config file, validate, apply."""
    if path is None:
        raise ProxyError(409, "this app was not built from a config file; nothing to reload")
    try:
        new = await asyncio.to_thread(load_settings, path)
        check_no_lost_sections(runtime.settings, new)
    except ConfigError as exc:
        raise ProxyError(400, f"config not reloaded: {exc}") from None
    return apply_settings(runtime, new)


def _revealed(settings: Settings) -> dict[str, Any]:
    """The settings as plain data, secrets included (for writing the file, never for showing)."""

    def plain(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    data: dict[str, Any] = plain(settings.model_dump(mode="python"))
    return data


def _urls(data: Any) -> dict[tuple[Any, ...], tuple[tuple[str, ...], dict[str, Any], str]]:
    """Every URL that may carry credentials (each provider's api_base, ...): place -> (pattern, holder, key)."""
    found: dict[tuple[Any, ...], tuple[tuple[str, ...], dict[str, Any], str]] = {}
    for pattern in SECRET_URLS:
        holders: list[tuple[tuple[Any, ...], Any]] = [((), data)]
        for key in pattern[:-1]:
            step: list[tuple[tuple[Any, ...], Any]] = []
            for place, holder in holders:
                if isinstance(holder, dict):
                    items = holder.items() if key == "*" else [(key, holder.get(key))]
                    step += [((*place, k), v) for k, v in items]
                elif isinstance(holder, list) and key == "*":
                    step += [((*place, i), v) for i, v in enumerate(holder)]
            holders = step
        last = pattern[-1]
        for place, holder in holders:
            if isinstance(holder, dict) and isinstance(holder.get(last), str):
                found[(*place, last)] = (pattern, holder, last)
    return found


def _masked(pattern: tuple[str, ...], url: str) -> str | None:
    return masked_url(url, database=pattern == ("database", "url"))


def editor_yaml(settings: Settings) -> str:
    """The effective settings as YAML for the editor, without secrets."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    for section, key in _SECRETS:
        data.get(section, {}).pop(key, None)
    for i, entry in enumerate(data["proxy"]["client_keys"]):
        if entry.get("key") is not None:
            entry["key"] = hidden_item(i)  # names its entry: reordering cannot hand a key to another tenant
    for pattern, holder, key in _urls(data).values():
        holder[key] = _masked(pattern, holder[key]) or holder[key]
    header = (
        "# Effective settings. Secrets (proxy.proxy_api_key, proxy.admin_api_key, dashboard.session_secret) are\n"
        "# not shown; they are kept as they are unless you set them here. Hidden client keys and masked URLs\n"
        "# are put back from the entry each placeholder names.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def settings_from_editor(text: str, current: Settings) -> Settings:
    """Validate the editor's YAML, putting back the secrets it does not show."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None
    if data is None:
        raise ConfigError("the settings are empty (write `{}` to ask for the defaults)")
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping")
    for section, key in _SECRETS:
        secret = getattr(getattr(current, section), key)
        part = data.setdefault(section, {})
        if isinstance(part, dict) and key not in part and secret is not None:
            part[key] = secret.get_secret_value()
    known = _revealed(current)
    entries = data["proxy"].get("client_keys") if isinstance(data.get("proxy"), dict) else None
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        shown_as = hidden_index(entry.get("key")) if isinstance(entry, dict) else None
        if isinstance(entry, dict) and (shown_as is not None or entry.get("key") == HIDDEN):
            current_keys = known["proxy"]["client_keys"]
            was = current_keys[shown_as].get("key") if shown_as is not None and shown_as < len(current_keys) else None
            if was is None:
                raise ConfigError(f"proxy.client_keys.{i}.key: its hidden value is unknown; type the value again")
            entry["key"] = was
    # A masked URL goes back to the current value it stands for, matched by where it stands.
    originals = {place: holder[key] for place, (_, holder, key) in _urls(known).items()}
    for place, (pattern, holder, key) in _urls(data).items():
        old = originals.get(place)
        if old is not None and holder[key] == _masked(pattern, old):
            holder[key] = old
        elif "***" in holder[key]:
            where = ".".join(str(p) for p in place)
            raise ConfigError(f"{where}: its hidden credentials are unknown here; type the URL again")
    try:
        return Settings.model_validate(data)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _file_yaml(settings: Settings) -> str:
    data = _revealed(settings)
    return "# Written by the layercache-asgi dashboard.\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    # The file may hold keys: the new one keeps the old one's permissions (e.g. 0600).
    with contextlib.suppress(OSError):
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
    os.replace(tmp, path)


def read_config_file(path: Path) -> tuple[str, str]:
    """The config file for the editor: its text with secrets hidden, and its fingerprint."""
    text = path.read_text(encoding="utf-8")
    return hide_secrets(text), fingerprint(text)


def _save_file_text(path: Path, text: str, expected: str, current: Settings) -> Settings:
    original = path.read_text(encoding="utf-8")
    if fingerprint(original) != expected:
        raise ProxyError(409, f"not saved: {path.name} changed since this page was loaded; reload the page")
    text = restore_secrets(text, original)
    new = Settings.from_yaml(text, source=path.name)
    check_no_lost_sections(current, new)
    _write_atomically(path, text)
    return new


async def save_editor_yaml(
    runtime: Runtime, text: str, path: Path | None, *, file_fingerprint: str | None = None
) -> dict[str, Any]:
    """The config page's save: validate, write the config file (if the app has one), apply.

    With ``file_fingerprint`` the text is the config file as the editor showed it
    (:func:`read_config_file`): it is written as typed, comments and all, with the hidden
    secrets put back. Without it the text is the effective settings (apps configured in
    code, or a file the editor could not show), and the file is rewritten from them.
    """
    text = text.replace("\r\n", "\n")  # browsers send a textarea's line ends as CRLF
    try:
        if path is not None and file_fingerprint is not None:
            new = await asyncio.to_thread(_save_file_text, path, text, file_fingerprint, runtime.settings)
        else:
            new = settings_from_editor(text, runtime.settings)
            check_no_lost_sections(runtime.settings, new)
            if path is not None:
                await asyncio.to_thread(_write_atomically, path, _file_yaml(new))
    except ConfigError as exc:
        raise ProxyError(400, f"not saved: {exc}") from None
    result = apply_settings(runtime, new)
    result["written_to"] = str(path) if path is not None else None
    return result
