"""The template registry a running app uses: a store, an in-process cache, folder import."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._files import TemplateFileError, read_folder
from ._model import Template, TemplateSpec, split_reference
from ._store import Store

__all__ = ["EnhancementCheck", "ImportReport", "TemplateRegistry"]

# Other replicas' edits show up within this many seconds; this process's own edits at once.
CACHE_SECONDS = 5.0


class EnhancementCheck(Protocol):
    """What templates need of the Enhance stage's registry (``enhancements.EnhancementRegistry``)."""

    def check(self, specs: Sequence[tuple[str, Mapping[str, Any]]]) -> None: ...


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)  # name@version of each new version
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "unchanged": self.unchanged, "errors": self.errors}


class TemplateRegistry:
    """Read templates (cached per process, invalidated on change) and change them."""

    def __init__(self, store: Store, *, persistent: bool, enhancements: EnhancementCheck | None = None) -> None:
        self.store = store
        self.persistent = persistent  # False: the database is down, templates live in memory only
        # What the Enhance stage knows: a template naming anything else would fail every request using it.
        self.enhancements = enhancements
        self._cache: dict[str, tuple[float, Template | None]] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    def check(self, spec: TemplateSpec) -> None:
        """Raise :class:`TemplateFileError` when ``spec``'s enhancements would be refused per request."""
        if self.enhancements is None:
            return
        try:
            self.enhancements.check([(e.name, e.options) for e in spec.enhancements])
        except ValueError as exc:
            raise TemplateFileError(f"{spec.name}: enhancements: {exc}") from None

    async def get(self, reference: str) -> Template | None:
        """The template ``name`` (newest version) or ``name@version``; None when there is none;
        ValueError for a malformed version."""
        now = time.monotonic()
        cached = self._cache.get(reference)
        if cached is not None and cached[0] > now:
            return cached[1]
        name, version = split_reference(reference)
        template = await self.store.get(name, version)
        self._cache[reference] = (now + CACHE_SECONDS, template)
        return template

    async def latest_all(self) -> list[Template]:
        """The newest version of every template, by name."""
        return await self.store.latest_all()

    async def versions(self, name: str) -> list[int]:
        return await self.store.versions(name)

    async def save(self, spec: TemplateSpec) -> tuple[Template, bool]:
        """Store ``spec`` as a new version (True) or find it identical to the newest (False)."""
        self.check(spec)
        try:
            return await self.store.save(spec)
        finally:
            self.invalidate()

    async def delete(self, name: str) -> int:
        """Delete every version of ``name``; how many there were."""
        try:
            return await self.store.delete(name)
        finally:
            self.invalidate()

    async def import_specs(self, specs: list[TemplateSpec]) -> ImportReport:
        """Save every spec, after checking them all (one bad spec saves none)."""
        for spec in specs:
            self.check(spec)
        report = ImportReport()
        for spec in specs:
            template, created = await self.save(spec)
            (report.created if created else report.unchanged).append(template.reference)
        return report

    async def reload(self, folder: str | Path) -> ImportReport:
        """Import every YAML/JSON file in ``folder``; files that fail are reported, the rest imported."""
        path = Path(folder)
        if not await asyncio.to_thread(path.is_dir):
            return ImportReport(errors=[f"templates folder {path} does not exist"])
        specs, errors = await asyncio.to_thread(read_folder, path)
        valid = []
        for spec in specs:
            try:
                self.check(spec)
            except TemplateFileError as exc:
                errors.append(str(exc))
                continue
            valid.append(spec)
        report = await self.import_specs(valid)
        report.errors.extend(errors)
        return report
