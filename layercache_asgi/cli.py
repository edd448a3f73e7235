"""The ``layercache-asgi`` command: serve, migrate the database, write and check the config.

``serve`` (uvicorn with the config), ``db upgrade|current|check``, ``schema`` (the config's
JSON Schema, for IDE completion) and ``check-config`` (problems with their line numbers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._auth import admin_key, admin_off
from ._config import CONFIG_ENV, ConfigError, config_path_from_env, load_settings
from ._version import __version__

__all__ = ["main"]

SCHEMA_FILE = "layercache.schema.json"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 check failed, 2 usage or config error)."""
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="layercache-asgi", description="An LLM caching proxy as an ASGI app.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config_help = f"config file (default: ${CONFIG_ENV}, else ./layercache.yaml, else defaults)"

    serve = commands.add_parser("serve", help="run the proxy with uvicorn")
    serve.add_argument("--config", "-c", type=Path, help=config_help)
    serve.add_argument("--host", help="bind address (default: proxy.host from the config)")
    serve.add_argument("--port", type=int, help="port (default: proxy.port from the config)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database migrations")
    db.add_argument(
        "action",
        choices=["upgrade", "current", "check"],
        help="upgrade to the newest schema; show the current revision; or check that the database is at the newest "
        "revision and the models agree with the migrations (exit 1 if not)",
    )
    db.add_argument("--url", help="database URL (default: database.url from the config)")
    db.add_argument("--config", "-c", type=Path, help=config_help)
    db.set_defaults(run=_db)

    schema = commands.add_parser("schema", help="write the config file's JSON Schema (for IDE completion)")
    schema.add_argument(
        "-o", "--output", default=SCHEMA_FILE, help=f"output file, '-' for stdout (default: {SCHEMA_FILE})"
    )
    schema.set_defaults(run=_schema)

    check = commands.add_parser("check-config", help="validate a config file; print each problem with its line")
    check.add_argument("file", type=Path, nargs="?", help="the YAML file (default: the file serve would read)")
    check.set_defaults(run=_check_config)
    return parser


# -- serve ------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    config: Path | None = args.config or config_path_from_env()
    settings = load_settings(config)  # fail here, clearly, rather than in every worker
    if config is not None:
        # Workers import ``layercache_asgi:app``, which reads the file named here.
        os.environ[CONFIG_ENV] = str(config.resolve())
    if admin_key(settings) is None:
        print(f"layercache-asgi: {admin_off(settings)}", file=sys.stderr)
    uvicorn.run(
        "layercache_asgi:app",
        host=args.host or settings.proxy.host,
        port=args.port if args.port is not None else settings.proxy.port,
        workers=args.workers,
        log_level=settings.logging.level.lower(),
        # The app believes X-Forwarded-* only from proxy.trusted_proxies; uvicorn would trust loopback.
        proxy_headers=False,
    )
    return 0


# -- db ---------------------------------------------------------------------------------


def _db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    url: str = args.url or load_settings(args.config).database.url
    try:
        return asyncio.run(_db_action(args.action, url))
    except (SQLAlchemyError, OSError) as exc:
        print(f"error: {_display_url(url)}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}", file=sys.stderr)
        return 2


async def _db_action(action: str, url: str) -> int:
    from .db import _migrate
    from .db._database import restrict_sqlite_file

    restrict_sqlite_file(url)  # before anything opens (and so creates) it
    shown = _display_url(url)
    before = await _migrate.current(url)
    if action == "current":
        print(before or "base (no migrations applied)")
        return 0
    head = _migrate.head()
    if action == "upgrade":
        if before is not None and not _migrate.is_known(before):
            print(
                f"{shown}: at revision {before}, written by a newer layercache-asgi; not touching it", file=sys.stderr
            )
            return 1
        await _migrate.upgrade(url)
        after = await _migrate.current(url)
        print(f"{shown}: already at {after}" if after == before else f"{shown}: upgraded to {after}")
        return 0
    if before != head:
        print(
            f"{shown}: at {before or 'base'}, the newest is {head}: run `layercache-asgi db upgrade`", file=sys.stderr
        )
        return 1
    differences = await _migrate.check(url)
    if not differences:
        print(f"{shown}: at {head}; the models and the migrations agree")
        return 0
    print(f"{shown}: the models and the migrations differ (a migration is missing):", file=sys.stderr)
    for difference in differences:
        print(f"  {difference}", file=sys.stderr)
    return 1


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database>"


# -- schema and check-config ------------------------------------------------------------


def _schema(args: argparse.Namespace) -> int:
    from ._config_check import config_json_schema

    text = config_json_schema()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


def _check_config(args: argparse.Namespace) -> int:
    from ._config_check import check_config_text

    file: Path | None = args.file or config_path_from_env()
    if file is None:
        print("no config file given and none found: the defaults apply", file=sys.stderr)
        return 0
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"{file}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    problems = check_config_text(text)
    for problem in problems:
        print(problem.format(str(file)))
    if problems:
        print(f"{file}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
        return 1
    print(f"{file}: OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
