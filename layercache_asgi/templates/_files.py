"""Templates as YAML or JSON files: one template, a list, or ``{"templates": [...]}`` per file."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from ._model import Template, TemplateSpec

__all__ = ["FILE_SUFFIXES", "TemplateFileError", "dump_templates", "parse_templates", "read_folder"]

FILE_SUFFIXES = (".yaml", ".yml", ".json")
# Bookkeeping an export writes; an import ignores it (the store assigns versions).
_EXPORT_ONLY = ("version", "created_at", "updated_at")


class TemplateFileError(ValueError):
    """A template document that is not valid YAML/JSON or does not describe templates."""


def parse_templates(text: str, *, source: str = "<body>") -> list[TemplateSpec]:
    """Parse YAML (a superset of JSON) into template specs; raise :class:`TemplateFileError`."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateFileError(f"{source}: not valid YAML or JSON: {exc}") from None
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
