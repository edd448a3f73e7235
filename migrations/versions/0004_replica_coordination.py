"""Replicas coordinate through the database: claim rows, and (PostgreSQL) change notifications.

``coord_claims`` holds who writes a new prefix first (see ``layercache_asgi/coord/_claims.py``);
on PostgreSQL it is UNLOGGED.
On PostgreSQL, statement-level triggers NOTIFY the ``layercache`` channel when semantic
entries are inserted or deleted (their ids, or ``all`` past 500 rows: a payload holds 8000
bytes) and when prompt templates change, whoever changed them (the API, the purge, a
replica, an operator's SQL). SQLite is one process and has no NOTIFY: only the table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTRIES_FUNCTION = """
CREATE OR REPLACE FUNCTION layercache_notify_entries_{op}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids integer[];
BEGIN
    SELECT array_agg(id) INTO ids FROM (SELECT id FROM {table} LIMIT 501) AS changed;
    IF ids IS NULL THEN
        RETURN NULL;
    ELSIF array_length(ids, 1) > 500 THEN
        PERFORM pg_notify('layercache', json_build_object('k', '{op}', 'all', true)::text);
    ELSE
        PERFORM pg_notify('layercache', json_build_object('k', '{op}', 'ids', ids)::text);
    END IF;
    RETURN NULL;
END $$
"""

_TEMPLATES_FUNCTION = """
CREATE OR REPLACE FUNCTION layercache_notify_templates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('layercache', '{"k": "templates"}');
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "coord_claims",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_coord_claims")),
        # Claims are short-lived: no WAL, so taking one commits without waiting for a disk flush
        # (bench/claims.py: 8 ms -> under 1 ms here). A crash empties the table; that only frees claims.
        prefixes=["UNLOGGED"] if postgres else [],
    )
    if not postgres:
        return
    for kind, table, referencing in (("insert", "new_rows", "NEW"), ("delete", "old_rows", "OLD")):
        op.execute(_ENTRIES_FUNCTION.format(op=kind, table=table))
        op.execute(
            f"CREATE TRIGGER layercache_entries_{kind} AFTER {kind.upper()} ON semantic_entries "
            f"REFERENCING {referencing} TABLE AS {table} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION layercache_notify_entries_{kind}()"
        )
    op.execute(_TEMPLATES_FUNCTION)
    op.execute(
        "CREATE TRIGGER layercache_templates_changed AFTER INSERT OR UPDATE OR DELETE ON prompt_templates "
        "FOR EACH STATEMENT EXECUTE FUNCTION layercache_notify_templates()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS layercache_templates_changed ON prompt_templates")
        op.execute("DROP FUNCTION IF EXISTS layercache_notify_templates()")
        for kind in ("insert", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS layercache_entries_{kind} ON semantic_entries")
            op.execute(f"DROP FUNCTION IF EXISTS layercache_notify_entries_{kind}()")
    op.drop_table("coord_claims")
