"""Alembic environment for layercache-asgi.

Run through ``layercache_asgi.db._migrate`` (or ``layercache-asgi db upgrade``): it opens the
async engine, and hands one connection in ``config.attributes["connection"]``; this script
runs the migrations on it inside the caller's ``conn.run_sync(...)``.
"""

from __future__ import annotations

from alembic import context

from layercache_asgi.db._migrate import include_name
from layercache_asgi.db._tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "layercache-asgi migrations need a connection: run `layercache-asgi db upgrade` "
        "or layercache_asgi.db._migrate.upgrade(url)"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    include_name=include_name,
    compare_type=True,
    # SQLite cannot ALTER most things; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
