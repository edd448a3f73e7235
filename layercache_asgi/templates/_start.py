"""Start the template registry (after the database) and import the templates folder."""

from __future__ import annotations

import structlog

from .._config import Host
from ..db import Database
from ..db._watch import DatabaseHost
from ._model import TemplateSpec
from ._registry import EnhancementCheck, TemplateRegistry
from ._store import DatabaseStore, MemoryStore

__all__ = ["start_templates"]

log = structlog.get_logger("layercache.templates")


async def start_templates(runtime: DatabaseHost, enhancements: EnhancementCheck | None) -> TemplateRegistry:
    """The template registry: database-backed, or in memory when the database is unavailable.

    ``enhancements``: the Enhance stage's registry, which templates' default enhancements are checked against.
    """
    if runtime.db is not None:
        registry = TemplateRegistry(DatabaseStore(runtime.db), persistent=True, enhancements=enhancements)
    else:
        log.warning("templates_in_memory", reason="the database is unavailable; template changes will not persist")
        registry = TemplateRegistry(MemoryStore(), persistent=False, enhancements=enhancements)

        async def persist() -> None:
            if runtime.db is not None:
                await _move_to_database(runtime, runtime.db, registry)

        runtime.on_database(persist)
    await _import_folder(runtime, registry)
    return registry


async def _move_to_database(runtime: Host, db: Database, registry: TemplateRegistry) -> None:
    """The database came back: keep what was saved in memory meanwhile, then store there from now on."""
    kept = await registry.latest_all()
    registry.store = DatabaseStore(db)
    registry.persistent = True
    registry.invalidate()
    fields = set(TemplateSpec.model_fields)
    await registry.import_specs([TemplateSpec.model_validate(t.model_dump(include=fields)) for t in kept])
    log.info("templates_persistent", carried_over=len(kept))
    await _import_folder(runtime, registry)


async def _import_folder(runtime: Host, registry: TemplateRegistry) -> None:
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
