"""Templates as YAML or JSON files: one template, a list, or ``{"templates": [...]}`` per file."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from .._errors import LayerCacheError
from ..wire._json import MAX_DEPTH, check_unicode
from ._model import Template, TemplateSpec

__all__ = ["FILE_SUFFIXES", "TemplateFileError", "dump_templates", "parse_templates", "read_folder"]

FILE_SUFFIXES = (".yaml", ".yml", ".json")
# Bookkeeping an export writes; an import ignores it (the store assigns versions).
_EXPORT_ONLY = ("version", "created_at", "updated_at")
# Aliases may share a tool definition or two; beyond this many extra nodes they are an expansion bomb.
MAX_ALIAS_NODES = 10_000


class TemplateFileError(LayerCacheError, ValueError):
    """A template document that is not valid YAML/JSON or does not describe templates."""


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses documents nested too deeply while they are composed.

    Composing recurses per level, so depth is bounded there; what aliases expand to is
    checked on the composed graph (:func:`_check_expansion`) before anything is built.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise TemplateFileError(f"the document is nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: yaml.Node) -> None:
    """Refuse aliases that expand the document (a 700-byte file can stand for gigabytes) or nest it too deep.

    One pass over the composed graph, each node once: its expanded size and depth from its children's.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes once expanded, depth)
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            kids = [sizes[id(k)] for k in _children(node)]
            sizes[id(node)] = (1 + sum(k[0] for k in kids), 1 + max((k[1] for k in kids), default=0))
            open_nodes.discard(id(node))
        elif id(node) not in sizes:
            if id(node) in open_nodes:
                raise TemplateFileError("an alias refers to a node that contains it")
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((k, False) for k in _children(node) if id(k) not in sizes)
    expanded, depth = sizes[id(root)]
    if expanded - len(sizes) > MAX_ALIAS_NODES:
        raise TemplateFileError(f"aliases expand the document by more than {MAX_ALIAS_NODES} nodes")
    if depth > MAX_DEPTH:
        raise TemplateFileError(f"the document is nested deeper than {MAX_DEPTH} levels")


def _load_yaml(text: str) -> Any:
    loader = _BoundedLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_expansion(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def parse_templates(text: str, *, source: str = "<body>") -> list[TemplateSpec]:
    """Parse YAML (a superset of JSON) into template specs; raise :class:`TemplateFileError`.

    Nesting, alias expansion and text that is not Unicode are refused before validation.
    """
    try:
        data: Any = _load_yaml(text)
        check_unicode(data)
    except yaml.YAMLError as exc:
        raise TemplateFileError(f"{source}: not valid YAML or JSON: {exc}") from None
    except ValueError as exc:  # ours (too deep, aliases, not Unicode) or a scalar YAML cannot build (huge int)
        raise TemplateFileError(f"{source}: {exc}") from None
    if isinstance(data, dict) and set(data) == {"templates"}:
        data = data["templates"]
    items = data if isinstance(data, list) else [data]
    specs: list[TemplateSpec] = []
    for i, item in enumerate(items):
        where = source if len(items) == 1 else f"{source}[{i}]"
        if not isinstance(item, dict):
            raise TemplateFileError(f"{where}: a template must be a mapping with at least a 'name'")
        fields = {k: v for k, v in item.items() if k not in _EXPORT_ONLY}
        try:
            specs.append(TemplateSpec.model_validate(fields))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "template"
            raise TemplateFileError(f"{where}: {field}: {first['msg']}") from None
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise TemplateFileError(f"{source}: template names appear twice: {', '.join(duplicates)}")
    return specs


def dump_templates(templates: Iterable[Template], fmt: Literal["yaml", "json"] = "yaml") -> str:
    """The export document ``{"templates": [...]}``, which :func:`parse_templates` reads back."""
    doc = {"templates": [t.export() for t in templates]}
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def read_folder(folder: Path) -> tuple[list[TemplateSpec], list[str]]:
    """Every template in ``folder``'s YAML/JSON files (sorted by file name), and one error per bad file."""
    specs: dict[str, TemplateSpec] = {}
    errors: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in FILE_SUFFIXES and p.is_file()):
        try:
            found = parse_templates(path.read_text(encoding="utf-8"), source=path.name)
        except (OSError, UnicodeDecodeError, TemplateFileError) as exc:
            errors.append(str(exc))
            continue
        for spec in found:
            if spec.name in specs:
                errors.append(f"{path.name}: template {spec.name!r} is also defined in an earlier file; kept the first")
                continue
            specs[spec.name] = spec
    return list(specs.values()), errors
