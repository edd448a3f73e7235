"""A prompt template: named, versioned L0 (system) and L1 (context, tools) content plus default enhancements."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .._request import EnhancementList

__all__ = ["NAME_PATTERN", "Template", "TemplateSpec", "split_reference", "tool_name"]

# Names travel in URL paths (DELETE /v1/prompts/templates/{name}); "@" selects a version.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,199}$"
_VERSION = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits only (str.isdigit takes superscripts too)


class TemplateSpec(BaseModel):
    """What a user writes (API body, YAML/JSON file): everything but the version bookkeeping."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="Selected per request with lc_template.")
    description: str = ""
    system: str = Field(default="", description="L0: prepended to the system prompt.")
    context: str = Field(default="", description="L1: static context, sent after the system prompt.")
    tools: list[dict[str, Any]] | None = Field(
        default=None, description="L1: tools in OpenAI or Anthropic form, merged into the request's tools."
    )
    enhancements: EnhancementList = Field(
        default_factory=list, description="Default lc_enhancements (names or {name, options})."
    )

    @field_validator("tools", mode="after")
    @classmethod
    def _tools_have_names(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for i, tool in enumerate(value or []):
            if not tool_name(tool):
                raise ValueError(f"tools[{i}] needs a name (Anthropic 'name' or OpenAI 'function.name')")
        return value

    def same_content(self, other: TemplateSpec) -> bool:
        return self.model_dump() == other.model_dump()


class Template(TemplateSpec):
    """A stored version of a template."""

    version: int = Field(ge=1)
    created_at: str | None = None  # ISO 8601, for display
    updated_at: str | None = None

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.version}"

    def spec(self) -> TemplateSpec:
        return TemplateSpec.model_validate(self.model_dump(include=set(TemplateSpec.model_fields)))

    def export(self) -> dict[str, Any]:
        """The file form: a spec plus its version, without empty fields."""
        data = self.model_dump(exclude={"created_at", "updated_at"}, exclude_defaults=True)
        data["version"] = self.version
        if self.enhancements:
            data["enhancements"] = [e.name if not e.options else e.model_dump() for e in self.enhancements]
        return data


def tool_name(tool: dict[str, Any]) -> str | None:
    function = tool.get("function")
    name = function.get("name") if isinstance(function, dict) else tool.get("name")
    return name if isinstance(name, str) and name else None


def split_reference(reference: str) -> tuple[str, int | None]:
    """``"support"`` → (support, None: the newest); ``"support@2"`` → (support, 2).

    Names never hold "@", so anything after one must be a version: a ValueError ("bad
    version") when it is not a positive integer written plainly (``@0``, ``@x``, ``@01``).
    """
    name, at, version = reference.partition("@")
    if not at:
        return reference, None
    if not name or not _VERSION.fullmatch(version):
        raise ValueError(f"bad version in template reference {reference!r}: use name@N, N = 1, 2, ...")
    return name, int(version)
