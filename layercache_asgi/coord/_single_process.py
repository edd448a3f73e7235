"""SQLite is one process's store: a second process serving the same file refuses to start.

Several workers on one SQLite file would each keep their own semantic index, warm-up gate
and template cache, with nothing to tell them about each other's changes (SQLite has no
NOTIFY), so they would serve deleted answers and pay for every prefix once per worker.
Rather than half-coordinate through the file, the first process to serve a file holds an
exclusive lock on ``<file>.lock`` for as long as it runs; any other fails to start with a
message naming PostgreSQL. The operating system drops the lock when the process ends, a
SIGKILL included, so a crash never leaves a stale lock behind.

The lock is a POSIX record lock (``fcntl.lockf``), which belongs to the process: several
apps in one process (tests, a host mounting two) share it, counted here, because closing
any descriptor of the file would release a POSIX lock for the whole process.
"""

from __future__ import annotations

import contextlib
import os
import threading

from .._errors import LayerCacheError

__all__ = ["SingleProcessError", "hold_sqlite_file", "release_sqlite_file", "sole_holder", "sqlite_path"]


class SingleProcessError(LayerCacheError, RuntimeError):
    """Another process already serves from this SQLite file."""


_lock = threading.Lock()
# lock file -> (descriptor, apps using it, pid): a forked child inherits this dict but not the lock.
_held: dict[str, tuple[int, int, int]] = {}


def sqlite_path(url: str) -> str | None:
    """The file behind a SQLite URL; None for other backends and in-memory databases."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return None
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return os.path.abspath(name)


def hold_sqlite_file(path: str) -> None:
    """Take the file for this process, or raise :class:`SingleProcessError` naming the holder."""
    import fcntl

    lock_path = path + ".lock"
    with _lock:
        if lock_path in _held and _held[lock_path][2] == os.getpid():
            fd, users, pid = _held[lock_path]
            _held[lock_path] = (fd, users + 1, pid)
            return
        try:
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError:
            return  # no folder, or read-only: the database cannot open either, and says so (uncached proxy)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SingleProcessError(
                f"another process (pid {holder}) already serves from the SQLite database {path}: "
                "SQLite keeps layercache-asgi to one process. For several workers or replicas, use "
                "PostgreSQL (database.url: postgresql+asyncpg://user:password@host/db), which they share "
                "and coordinate through; or run one worker."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _held[lock_path] = (fd, 1, os.getpid())


def release_sqlite_file(path: str) -> None:
    lock_path = path + ".lock"
    with _lock:
        if lock_path not in _held:
            return
        fd, users, pid = _held.pop(lock_path)
        if users > 1:
            _held[lock_path] = (fd, users - 1, pid)
            return
        with contextlib.suppress(OSError):
            os.close(fd)  # the lock goes with the last descriptor


def sole_holder(path: str) -> bool:
    """Whether one app of this process, and nothing else, serves the SQLite file: no row can appear
    in it that this app did not write. Asked per lookup, so it is a plain read (no lock)."""
    held = _held.get(path + ".lock")
    return held is not None and held[1] == 1 and held[2] == os.getpid()
