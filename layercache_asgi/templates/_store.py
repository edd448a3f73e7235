"""Where templates live: the ``prompt_templates`` table, or process memory when there is no database.

Saving a template whose content differs from its newest version adds a version; saving
identical content changes nothing, so re-importing a folder is idempotent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ..db import Database, PromptTemplate
from ._model import Template, TemplateSpec

__all__ = ["DatabaseStore", "MemoryStore", "Store"]


class Store(Protocol):
    async def get(self, name: str, version: int | None = None) -> Template | None: ...
    async def latest_all(self) -> list[Template]: ...
    async def versions(self, name: str) -> list[int]: ...
    async def save(self, spec: TemplateSpec) -> tuple[Template, bool]: ...
    async def delete(self, name: str) -> int: ...


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _from_row(row: PromptTemplate) -> Template:
    return Template(
        name=row.name,
        version=row.version,
        description=row.description,
        system=row.system,
        context=row.context,
        tools=row.tools,
        enhancements=row.enhancements,
        created_at=_iso(row.created_at),
        updated_at=_iso(row.updated_at),
    )


class DatabaseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, name: str, version: int | None = None) -> Template | None:
        query = select(PromptTemplate).where(PromptTemplate.name == name)
        if version is None:
            query = query.order_by(PromptTemplate.version.desc()).limit(1)
        else:
            query = query.where(PromptTemplate.version == version)
        async with self.db.session() as session:
            row = (await session.scalars(query)).first()
            return _from_row(row) if row is not None else None

    async def latest_all(self) -> list[Template]:
        newest = (
            select(PromptTemplate.name, func.max(PromptTemplate.version).label("version"))
            .group_by(PromptTemplate.name)
            .subquery()
        )
        query = (
            select(PromptTemplate)
            .join(newest, (PromptTemplate.name == newest.c.name) & (PromptTemplate.version == newest.c.version))
            .order_by(PromptTemplate.name)
        )
        async with self.db.session() as session:
            return [_from_row(row) for row in await session.scalars(query)]

    async def versions(self, name: str) -> list[int]:
        query = select(PromptTemplate.version).where(PromptTemplate.name == name).order_by(PromptTemplate.version)
        async with self.db.session() as session:
            return list(await session.scalars(query))

    async def save(self, spec: TemplateSpec) -> tuple[Template, bool]:
        # Two writers may pick the same next version; the unique (name, version) makes one retry.
        for attempt in range(3):
            latest = await self.get(spec.name)
            if latest is not None and latest.spec().same_content(spec):
                return latest, False
            now = datetime.now(UTC)
            row = PromptTemplate(
                **spec.model_dump(mode="json"),
                version=latest.version + 1 if latest is not None else 1,
                created_at=_created_at(latest, now),
                updated_at=now,
            )
            try:
                async with self.db.session() as session:
                    session.add(row)
                    await session.commit()
            except IntegrityError:
                if attempt == 2:
                    raise
                continue
            return _from_row(row), True
        raise AssertionError("unreachable")

    async def delete(self, name: str) -> int:
        async with self.db.session() as session:
            result: Any = await session.execute(delete(PromptTemplate).where(PromptTemplate.name == name))
            await session.commit()
            return int(result.rowcount or 0)


def _created_at(latest: Template | None, now: datetime) -> datetime:
    # created_at is when the template (its first version) was created; updated_at moves per version.
    if latest is not None and latest.created_at:
        return datetime.fromisoformat(latest.created_at)
    return now


class MemoryStore:
    """The fallback when the database is unavailable: templates last as long as the process."""

    def __init__(self) -> None:
        self._versions: dict[str, list[Template]] = {}

    async def get(self, name: str, version: int | None = None) -> Template | None:
        versions = self._versions.get(name) or []
        if version is None:
            return versions[-1] if versions else None
        return next((t for t in versions if t.version == version), None)

    async def latest_all(self) -> list[Template]:
        return [versions[-1] for _, versions in sorted(self._versions.items())]

    async def versions(self, name: str) -> list[int]:
        return [t.version for t in self._versions.get(name, [])]

    async def save(self, spec: TemplateSpec) -> tuple[Template, bool]:
        versions = self._versions.setdefault(spec.name, [])
        if versions and versions[-1].spec().same_content(spec):
            return versions[-1], False
        now = datetime.now(UTC).isoformat()
        template = Template(
            **spec.model_dump(),
            version=versions[-1].version + 1 if versions else 1,
            created_at=versions[0].created_at if versions else now,
            updated_at=now,
        )
        versions.append(template)
        return template, True

    async def delete(self, name: str) -> int:
        return len(self._versions.pop(name, []))
