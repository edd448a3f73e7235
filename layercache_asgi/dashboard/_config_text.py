"""The config file in the editor: shown as it is (comments, key order), secrets hidden; saved as typed.

Secrets are found by position: the YAML is composed, not loaded, so the place of each
secret scalar in the text is known and only that span is replaced by a placeholder. On
save each placeholder still there is swapped back for the file's own value, so a secret
survives the round trip without ever reaching the browser. Replacing the placeholder
changes the secret; deleting the line removes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from .._config import ConfigError

__all__ = ["HIDDEN", "fingerprint", "hide_secrets", "restore_secrets"]

HIDDEN = "***hidden***"
_KEYS = (("proxy", "proxy_api_key"), ("dashboard", "session_secret"))
_URL = ("database", "url")
_NULL = "tag:yaml.org,2002:null"


def fingerprint(text: str) -> str:
    """Identifies the file's content, so a save can tell the file changed since the page was shown."""
    return hashlib.sha256(text.encode()).hexdigest()


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None


def _scalars(root: yaml.Node | None, path: tuple[str, ...]) -> list[yaml.ScalarNode]:
    """Every non-null scalar at ``path``, duplicates included (the last one is the one that counts)."""
    nodes: list[yaml.Node] = [root] if root is not None else []
    for key in path:
        nodes = [
            value
            for node in nodes
            if isinstance(node, yaml.MappingNode)
            for name, value in node.value
            if isinstance(name, yaml.ScalarNode) and name.value == key
        ]
    return [n for n in nodes if isinstance(n, yaml.ScalarNode) and n.tag != _NULL and n.value != ""]


def _masked_url(url: str) -> str | None:
    try:
        parsed = make_url(url)
    except Exception:
        return None
    return parsed.render_as_string(hide_password=True) if parsed.password else None


def _shown(path: tuple[str, ...], value: str) -> str | None:
    """What the editor shows instead of ``value``; None when it is no secret."""
    return _masked_url(value) if path == _URL else HIDDEN


def _span(node: yaml.ScalarNode) -> tuple[int, int]:
    return node.start_mark.index, node.end_mark.index


def _splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _secret_values(data: Any) -> list[str]:
    values = []
    for path in (*_KEYS, _URL):
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and path == _URL:
            value = make_url(value).password if _masked_url(value) else None
        if isinstance(value, str):
            values.append(value)
    return values


def hide_secrets(text: str) -> str:
    """``text`` with every secret value replaced; ConfigError if that cannot be done safely."""
    root = _compose(text)
    edits = []
    for path in (*_KEYS, _URL):
        for node in _scalars(root, path):
            shown = _shown(path, node.value)
            if shown is not None:
                # Double-quoted is valid in block and flow context alike; a block scalar owned its line end.
                end = "\n" if node.style in ("|", ">") else ""
                edits.append((*_span(node), json.dumps(shown) + end))
    hidden = _splice(text, edits)
    # Anchors, merge keys and the like can put a secret where no key path leads: show nothing then.
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None
    leaked = any(v in hidden for v in _secret_values(data) if len(v) >= 4)
    try:
        yaml.safe_load(hidden)  # an anchored secret loses its anchor with its value: the aliases dangle
    except yaml.YAMLError:
        leaked = True
    if leaked:
        raise ConfigError("a secret in this file could not be hidden")
    return hidden


def restore_secrets(edited: str, original: str) -> str:
    """``edited`` with each placeholder still in place replaced by the value it hides in ``original``."""
    mine, theirs = _compose(edited), _compose(original)
    edits = []
    restored: list[tuple[tuple[str, ...], str]] = []
    for path in (*_KEYS, _URL):
        kept = _scalars(theirs, path)
        for node in _scalars(mine, path):
            if kept and node.value == _shown(path, kept[-1].value):
                old = kept[-1]
                plain = old.style in (None, '"', "'") and "\n" not in original[slice(*_span(old))]
                edits.append((*_span(node), original[slice(*_span(old))] if plain else json.dumps(old.value)))
                restored.append((path, old.value))
            elif node.value == HIDDEN or (path == _URL and ":***@" in node.value):
                where = ".".join(path)
                raise ConfigError(f"{where}: its hidden value is no longer in the file; type the value again")
    text = _splice(edited, edits)
    if restored and not _holds(text, restored):  # the original's spelling does not fit where it now stands
        text = _splice(
            edited, [(s, e, json.dumps(value)) for (s, e, _), (_, value) in zip(edits, restored, strict=True)]
        )
    return text


def _holds(text: str, expected: list[tuple[tuple[str, ...], str]]) -> bool:
    try:
        root = _compose(text)
    except ConfigError:
        return False
    return all(any(n.value == value for n in _scalars(root, path)) for path, value in expected)
