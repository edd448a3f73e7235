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
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from .._config import ConfigError

__all__ = [
    "HIDDEN",
    "SECRET_KEYS",
    "SECRET_URLS",
    "fingerprint",
    "hidden_index",
    "hidden_item",
    "hide_secrets",
    "masked_url",
    "restore_secrets",
]

HIDDEN = "***hidden***"
# Where secrets live; "*" is any mapping key or list item. A list item's placeholder names the item
# it hides (``***hidden #2***``), so reordering or deleting entries cannot move a key to another
# entry (another tenant).
SECRET_KEYS: tuple[tuple[str, ...], ...] = (
    ("proxy", "proxy_api_key"),
    ("proxy", "admin_api_key"),
    ("proxy", "client_keys", "*", "key"),
    ("dashboard", "session_secret"),
)
# URLs whose credentials (user:password@, ?key=... and the like) are masked, the rest shown.
SECRET_URLS: tuple[tuple[str, ...], ...] = (
    ("database", "url"),
    ("providers", "*", "api_base"),
    ("models", "*", "api_base"),
)
_DATABASE_URL = ("database", "url")
_NULL = "tag:yaml.org,2002:null"
_SECRET_PARAM = re.compile(r"(?i)(key|token|secret|pass|pwd|sig|auth|cred|session)")
_PARAM = re.compile(r"(^|[&;])([^=&;]+)=([^&;#]*)")

KeyPath = tuple[str | int, ...]
_ITEM = re.compile(r"\*\*\*hidden #(\d+)\*\*\*")


def hidden_item(index: int) -> str:
    """The placeholder of the secret in list item ``index`` (0-based; shown 1-based)."""
    return f"***hidden #{index + 1}***"


def hidden_index(value: object) -> int | None:
    """The 0-based item a placeholder from :func:`hidden_item` stands for; None for anything else."""
    match = _ITEM.fullmatch(value) if isinstance(value, str) else None
    return int(match.group(1)) - 1 if match else None


def fingerprint(text: str) -> str:
    """Identifies the file's content, so a save can tell the file changed since the page was shown."""
    return hashlib.sha256(text.encode()).hexdigest()


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None


def _scalars(root: yaml.Node | None, pattern: tuple[str, ...]) -> list[tuple[KeyPath, yaml.ScalarNode]]:
    """Every non-null scalar at ``pattern`` with its concrete path, duplicates included (the last one counts)."""
    found: list[tuple[KeyPath, yaml.Node]] = [((), root)] if root is not None else []
    for key in pattern:
        step: list[tuple[KeyPath, yaml.Node]] = []
        for path, node in found:
            if isinstance(node, yaml.MappingNode):
                step += [
                    ((*path, name.value), value)
                    for name, value in node.value
                    if isinstance(name, yaml.ScalarNode) and (key == "*" or name.value == key)
                ]
            elif isinstance(node, yaml.SequenceNode) and key == "*":
                step += [((*path, i), item) for i, item in enumerate(node.value)]
        found = step
    return [(path, n) for path, n in found if isinstance(n, yaml.ScalarNode) and n.tag != _NULL and n.value != ""]


def _values(data: Any, pattern: tuple[str, ...]) -> list[Any]:
    """The same walk over loaded data."""
    found = [data]
    for key in pattern:
        step: list[Any] = []
        for value in found:
            if isinstance(value, dict):
                step += list(value.values()) if key == "*" else [value[key]] if key in value else []
            elif isinstance(value, list) and key == "*":
                step += value
        found = step
    return found


def _url_secrets(url: str, *, keep_user: bool) -> tuple[str | None, list[str]]:
    """``url`` with its credentials masked (None when it has none), and the secret parts themselves."""
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    secrets: list[str] = []
    userinfo, at, host = netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        if keep_user and colon:
            netloc, secrets = f"{user}:***@{host}", [password]
        elif not keep_user:
            netloc, secrets = f"***@{host}", [userinfo, password]

    def hide(match: re.Match[str]) -> str:
        if not _SECRET_PARAM.search(match.group(2)) or not match.group(3):
            return match.group(0)
        secrets.append(match.group(3))
        return f"{match.group(1)}{match.group(2)}=***"

    query = _PARAM.sub(hide, query)
    if not secrets:
        return None, []
    return urlunsplit(parts._replace(netloc=netloc, query=query)), [s for s in secrets if s]


def masked_url(url: str, *, database: bool = False) -> str | None:
    """``https://user:pass@host/?key=k`` → ``https://***@host/?key=***``; None when there is nothing to hide.

    Database URLs keep the user name (``app:***@db``), as SQLAlchemy shows them.
    """
    return _url_secrets(url, keep_user=database)[0]


def _shown(pattern: tuple[str, ...], path: KeyPath, value: str) -> str | None:
    """What the editor shows instead of ``value`` at ``path``; None when it is no secret."""
    if pattern in SECRET_URLS:
        return masked_url(value, database=pattern == _DATABASE_URL)
    items = [step for key, step in zip(pattern, path, strict=True) if key == "*" and isinstance(step, int)]
    return hidden_item(items[-1]) if items else HIDDEN


def _placed(pattern: tuple[str, ...], path: KeyPath, value: str) -> KeyPath:
    """Where the secret a placeholder stands for was shown: a list item's own index, else ``path``."""
    index = hidden_index(value)
    if index is None or pattern in SECRET_URLS:
        return path
    last = max(
        i for i, (key, step) in enumerate(zip(pattern, path, strict=True)) if key == "*" and isinstance(step, int)
    )
    return (*path[:last], index, *path[last + 1 :])


def _span(node: yaml.ScalarNode) -> tuple[int, int]:
    return node.start_mark.index, node.end_mark.index


def _splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _secret_values(data: Any) -> list[str]:
    values: list[str] = []
    for pattern in SECRET_KEYS:
        values += [v for v in _values(data, pattern) if isinstance(v, str)]
    for pattern in SECRET_URLS:
        for url in _values(data, pattern):
            if isinstance(url, str):
                values += _url_secrets(url, keep_user=pattern == _DATABASE_URL)[1]
    return values


def hide_secrets(text: str) -> str:
    """``text`` with every secret value replaced; ConfigError if that cannot be done safely."""
    root = _compose(text)
    edits = []
    for pattern in (*SECRET_KEYS, *SECRET_URLS):
        for path, node in _scalars(root, pattern):
            shown = _shown(pattern, path, node.value)
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
    for pattern in (*SECRET_KEYS, *SECRET_URLS):
        kept = dict(_scalars(theirs, pattern))  # the last of duplicate keys wins, as when loading
        for path, node in _scalars(mine, pattern):
            where_shown = _placed(pattern, path, node.value)
            old = kept.get(where_shown)
            if old is not None and node.value == _shown(pattern, where_shown, old.value):
                plain = old.style in (None, '"', "'") and "\n" not in original[slice(*_span(old))]
                edits.append((*_span(node), original[slice(*_span(old))] if plain else json.dumps(old.value)))
                restored.append((pattern, old.value))
            elif (
                node.value == HIDDEN
                or hidden_index(node.value) is not None
                or (pattern in SECRET_URLS and "***" in node.value)
            ):
                where = ".".join(str(p) for p in path)
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
    return all(any(n.value == value for _, n in _scalars(root, pattern)) for pattern, value in expected)
