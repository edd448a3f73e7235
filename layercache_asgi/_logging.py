"""Logging: structlog set up once per process, plus a ring buffer per app for the dashboard.

structlog's configuration is process-wide, so it is installed once (unless the host
configured structlog itself, which is then left alone). Output goes through the stdlib
logger ``layercache`` only: its handler renders JSON (``logging.format: json``) or
console lines, and it does not propagate, so the host's root handlers stay untouched.

Every line carries the request id bound by the ingress. Values are scrubbed: key-shaped
strings are redacted always, prompt-bearing fields are dropped unless
``logging.log_prompts``. Lines logged while a request of an app is being served carry
that app's id (bound by the RecordMetrics stage) and go to its ring buffer only; lines
with no app (start-up, background tasks of a lone app) go to every live buffer.
"""

from __future__ import annotations

import collections
import logging
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from ._config import Settings
from ._errors import redact

__all__ = [
    "APP_KEY",
    "PROMPT_KEYS",
    "LogBuffer",
    "configure_logging",
    "logs_at",
    "reconfigure_logging",
    "release_logging",
    "route_fastembed_logs",
    "route_litellm_logs",
]

APP_KEY = "lc_app"
LOGGER_NAME = "layercache"
# Fields that may hold prompt or answer text: dropped unless ``logging.log_prompts``.
PROMPT_KEYS = frozenset({"prompt", "messages", "body", "query", "query_text", "content", "system", "text", "answer"})
_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}
_MAX_VALUE = 1000

_live: weakref.WeakValueDictionary[str, LogBuffer] = weakref.WeakValueDictionary()
_lock = threading.Lock()


class LogBuffer:
    """The newest log lines of one app (bounded), and that app's level and prompt policy."""

    def __init__(self, settings: Settings) -> None:
        self.app_id = uuid.uuid4().hex[:12]
        self._lines: collections.deque[dict[str, Any]] = collections.deque(maxlen=settings.logging.ring_buffer_size)
        self.level = logging.INFO
        self.log_prompts = False
        # Told of every warning or error line (component, event) whatever the level: the metrics
        # count them, so each degradation shows as a metric as well as a log line.
        self.on_fault: Callable[[str, str], None] | None = None
        self.apply(settings)

    def apply(self, settings: Settings) -> None:
        """Take the ``logging`` section of (reloaded) settings."""
        self.level = _LEVELS[settings.logging.level]
        self.log_prompts = settings.logging.log_prompts
        size = settings.logging.ring_buffer_size
        if size != self._lines.maxlen:
            self._lines = collections.deque(self._lines, maxlen=size)

    def append(self, line: dict[str, Any]) -> None:
        self._lines.append(line)

    def tail(self, limit: int = 200, *, min_level: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` lines, oldest first, optionally at or above ``min_level``."""
        lines = list(self._lines)
        if min_level:
            floor = _LEVELS.get(min_level.upper(), 0)
            lines = [line for line in lines if _LEVELS.get(str(line.get("level", "")).upper(), 0) >= floor]
        return lines[-limit:] if limit > 0 else []


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value[:_MAX_VALUE])
    if isinstance(value, bool | int | float) or value is None:
        return value
    return redact(repr(value)[:_MAX_VALUE])


def _route(logger: Any, method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """Pick the app buffers this line belongs to, apply their policy, and tee it there."""
    app_id = event.pop(APP_KEY, None)
    name = str(event.get("logger", ""))
    ours = name == LOGGER_NAME or name.startswith(LOGGER_NAME + ".")
    if not ours:
        return event
    every = [b for b in ([_live.get(app_id)] if app_id else list(_live.values())) if b is not None]
    level = _LEVELS.get(str(event.get("level", "info")).upper(), logging.INFO)
    if level >= logging.WARNING:
        component = name.removeprefix(LOGGER_NAME).lstrip(".") or "core"
        for buffer in every:
            if buffer.on_fault is not None:
                buffer.on_fault(component, str(event.get("event", "")))
    targets = [b for b in every if level >= b.level]
    if not targets and _live:
        raise structlog.DropEvent
    keep_prompts = bool(targets) and all(b.log_prompts for b in targets)
    for key in list(event):
        if key in PROMPT_KEYS and key != "event" and not keep_prompts:
            event[key] = "[omitted]"
        else:
            event[key] = _scrub_value(event[key])
    line = dict(event)
    for buffer in targets:
        buffer.append(line)
    return event


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (test runners and hosts swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_shared: list[Any] = [
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _renderer(fmt: str) -> Any:
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


def _handler() -> _StderrHandler:
    logger = logging.getLogger(LOGGER_NAME)
    for handler in logger.handlers:
        if isinstance(handler, _StderrHandler):
            return handler
    handler = _StderrHandler()
    logger.addHandler(handler)
    logger.propagate = False  # our lines are rendered here; the host's root handlers stay as they were
    return handler


def _install(fmt: str) -> None:
    handler = _handler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(fmt)],
            foreign_pre_chain=[*_shared, structlog.processors.format_exc_info],
        )
    )
    if structlog.is_configured() and not getattr(structlog.get_config().get("context_class"), "_layercache", False):
        return  # the host configured structlog: its pipeline decides where our lines go
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            *_shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            _route,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        context_class=_Context,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # so a reload (format, level) takes effect at once
    )


class _Context(dict):  # type: ignore[type-arg]
    """The event-dict class; its marker tells our configuration from a host's."""

    _layercache = True


def logs_at(name: str, level: int = logging.INFO) -> bool:
    """Whether a line at ``level`` from logger ``name`` could be kept: asked before building one that
    is often dropped (a bound logger, the context merged, the fields; ~20 us). Only our own
    configuration answers no, for the level its ``filter_by_level`` would drop anyway (the stdlib
    logger caches that answer until a level changes); a host's structlog pipeline decides for itself."""
    if not getattr(structlog.get_config()["context_class"], "_layercache", False):
        return True
    return logging.getLogger(name).isEnabledFor(level)


def _update_level() -> None:
    levels = [b.level for b in _live.values()]
    logging.getLogger(LOGGER_NAME).setLevel(min(levels) if levels else logging.INFO)


def configure_logging(settings: Settings) -> LogBuffer:
    """Set up logging for one app (idempotent per process) and return the app's ring buffer."""
    buffer = LogBuffer(settings)
    with _lock:
        _live[buffer.app_id] = buffer
        _install(settings.logging.format)
        _update_level()
    return buffer


def reconfigure_logging(buffer: LogBuffer, settings: Settings) -> None:
    """Apply reloaded ``logging`` settings: level, format, prompt policy, buffer size."""
    with _lock:
        buffer.apply(settings)
        _install(settings.logging.format)
        _update_level()


def release_logging(buffer: LogBuffer) -> None:
    """Forget an app's buffer when it shuts down."""
    with _lock:
        _live.pop(buffer.app_id, None)
        _update_level()


# -- the libraries' own log lines ------------------------------------------------------------

_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
_routed: set[str] = set()


def route_litellm_logs() -> None:
    """LiteLLM's stdlib loggers write through our handler (our format) instead of their own."""
    with _lock:
        if "litellm" in _routed:
            return
        _routed.add("litellm")
        handler = _handler()
        for name in _LITELLM_LOGGERS:
            logger = logging.getLogger(name)
            for own in [h for h in logger.handlers if h is not handler]:
                logger.removeHandler(own)
            logger.addHandler(handler)
            logger.propagate = False


def route_fastembed_logs() -> None:
    """fastembed logs with loguru, in loguru's format: its lines come to ``layercache.fastembed``
    instead, at debug level (a download it retries is detail; the semantic cache says in one line
    what it waits for). loguru's default stderr handler, if still installed, keeps every other line."""
    try:
        from loguru import logger
    except ImportError:
        return
    with _lock:
        if "fastembed" in _routed:
            return
        _routed.add("fastembed")
        ours = logging.getLogger(f"{LOGGER_NAME}.fastembed")

        def from_fastembed(record: Mapping[str, Any]) -> bool:
            return str(record["name"] or "").startswith("fastembed")

        try:
            logger.remove(0)  # loguru's default handler: put back without fastembed's lines
        except ValueError:
            pass  # the host set loguru up itself; fastembed's lines reach its handlers too
        else:
            logger.add(sys.stderr, filter=lambda record: not from_fastembed(record))
        logger.add(lambda message: ours.debug("%s", message.record["message"]), filter=from_fastembed, level=0)
