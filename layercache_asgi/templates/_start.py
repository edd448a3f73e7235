"""Start the template registry (after the database) and import the templates folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from ._model import TemplateSpec
from ._registry import TemplateRegistry
from ._store import DatabaseStore, MemoryStore

if TYPE_CHECKING:
    from .._runtime import Runtime

__all__ = ["start_templates"]

log = structlog.get_logger("layercache.templates")


async def start_templates(runtime: Runtime) -> None:
    """Set ``runtime.templates``: database-backed, or in memory when the database is unavailable."""
    if runtime.db is not None:
        registry = TemplateRegistry(DatabaseStore(runtime.db), persistent=True, enhancements=runtime.enhancements)
    else:
        log.warning("templates_in_memory", reason="the database is unavailable; template changes will not persist")
        registry = TemplateRegistry(MemoryStore(), persistent=False, enhancements=runtime.enhancements)

        async def persist() -> None:
            await _move_to_database(runtime, registry)

        runtime.on_database(persist)
    runtime.templates = registry
    await _import_folder(runtime, registry)


async def _move_to_database(runtime: Runtime, registry: TemplateRegistry) -> None:
    """The database came back: keep what was saved in memory meanwhile, then store there from now on."""
    kept = await registry.latest_all()
    registry.store = DatabaseStore(runtime.db)
    registry.persistent = True
    registry.invalidate()
    fields = set(TemplateSpec.model_fields)
    await registry.import_specs([TemplateSpec.model_validate(t.model_dump(include=fields)) for t in kept])
    log.info("templates_persistent", carried_over=len(kept))
    await _import_folder(runtime, registry)


async def _import_folder(runtime: Runtime, registry: TemplateRegistry) -> None:
    folder = runtime.settings.enhancements.templates_dir
    if folder is None:
        return
    try:
        report = await registry.reload(folder)
    except Exception as exc:  # a failing import must not stop the proxy
        log.error("templates_import_failed", folder=folder, error=type(exc).__name__, detail=str(exc)[:200])
        return
    for error in report.errors:
        log.warning("template_file_skipped", folder=folder, detail=error)
    log.info("templates_imported", folder=folder, created=report.created, unchanged=len(report.unchanged))
