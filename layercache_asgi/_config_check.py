"""Validate a YAML config file and say what is wrong, with line numbers.

Pydantic reports locations as key paths (``caching.semantic.similarity_threshold``);
``yaml.compose`` keeps every node's position, so each error is mapped back to the line
of the key (or list item) it is about.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from ._config import Settings

__all__ = ["ConfigProblem", "check_config_text", "config_json_schema"]


@dataclass(frozen=True)
class ConfigProblem:
    line: int  # 1-based
    column: int  # 1-based
    where: str  # dotted key path, e.g. "caching.semantic.similarity_threshold"; "" for the file
    message: str

    def format(self, source: str) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{source}:{self.line}:{self.column}:{where} {self.message}"


def config_json_schema() -> str:
    """The JSON Schema of the config file, as committed in ``layercache.schema.json``."""
    schema = Settings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "layercache-asgi configuration"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def check_config_text(text: str) -> list[ConfigProblem]:
    """Every problem in a config document; empty when it validates."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return [ConfigProblem(line, column, "", f"not valid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return [ConfigProblem(1, 1, "", f"not valid YAML: {exc}")]
    if data is None:
        return [ConfigProblem(1, 1, "", "the file is empty (write `{}` to ask for the defaults)")]
    if not isinstance(data, dict) or root is None:
        return [ConfigProblem(1, 1, "", "the top level must be a mapping")]
    problems = list(_duplicate_keys(root, ()))  # YAML keeps the last silently; say so
    try:
        Settings.model_validate(data)
    except ValidationError as exc:
        problems += [_problem(root, error) for error in exc.errors()]
    return sorted(problems, key=lambda p: (p.line, p.column))


def _duplicate_keys(node: yaml.Node, path: tuple[Any, ...]) -> Iterator[ConfigProblem]:
    if isinstance(node, yaml.MappingNode):
        first: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is not None and name in first:
                line = first[name].start_mark.line + 1
                yield ConfigProblem(
                    key.start_mark.line + 1,
                    key.start_mark.column + 1,
                    _dotted((*path, name)),
                    f"duplicate key (also on line {line}; only this one would count)",
                )
            elif name is not None:
                first[name] = key
            yield from _duplicate_keys(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, index))


def _problem(root: yaml.Node, error: Any) -> ConfigProblem:
    loc: tuple[Any, ...] = tuple(error["loc"])
    pointer, value, found = _locate(root, loc)
    path = _dotted(loc[:found])
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}" + _suggestion(loc)
    elif error["type"] == "missing":
        path = _dotted(loc)
        message = "required key is missing"
    elif found == len(loc) and isinstance(value, yaml.ScalarNode):
        message += f" (got {value.value!r})"
    return ConfigProblem(pointer.start_mark.line + 1, pointer.start_mark.column + 1, path, message)


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _locate(root: yaml.Node, loc: Sequence[Any]) -> tuple[yaml.Node, yaml.Node, int]:
    """Where a location points: the node to report (a mapping entry's key), its value, and the parts matched."""
    pointer = node = root
    found = 0
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            entry = next(
                ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None
            )
            if entry is None:
                break
            pointer, node = entry
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            pointer = node = node.value[part]
        else:
            break
        found += 1
    return pointer, node, found


def _suggestion(loc: Sequence[Any]) -> str:
    # The keys allowed where the unknown one sits, following the model tree down the path.
    model: Any = Settings
    for part in loc[:-1]:
        model = _step(model, part)
        if model is None:
            return ""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _step(annotation: Any, part: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return None if field is None else _unwrap(field.annotation)
    origin = get_origin(annotation)
    if origin is dict:
        return _unwrap(get_args(annotation)[1])
    if origin is list and isinstance(part, int):
        return _unwrap(get_args(annotation)[0])
    return None


def _unwrap(annotation: Any) -> Any:
    # ``X | None`` → X, so optional sections are followed too.
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) not in (dict, list) and len(args) == 1:
        return args[0]
    return annotation
