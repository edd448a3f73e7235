"""Configuration: one pydantic model tree, loaded from YAML.

Where the file is found: an explicit path, else ``$LAYERCACHE_CONFIG``, else
``./layercache.yaml``, else defaults. Loading is I/O, so it happens at start-up, never
at import or in a constructor.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit

import yaml
from pydantic import Field, SecretStr, field_validator, model_validator

from ._errors import LayerCacheError
from .settings._base import Section
from .settings._semantic import SemanticCacheSettings, VerifierSettings

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "CachingSettings",
    "ClientKey",
    "ConfigError",
    "DashboardSettings",
    "DatabaseSettings",
    "EnhancementSettings",
    "Host",
    "LoggingSettings",
    "MetricsSettings",
    "ModelRoute",
    "ProviderSettings",
    "ProxySettings",
    "SemanticCacheSettings",
    "Settings",
    "UpstreamSettings",
    "VerifierSettings",
    "changed_paths",
    "check_no_lost_sections",
    "config_path_from_env",
    "load_settings",
]

CONFIG_ENV = "LAYERCACHE_CONFIG"
DEFAULT_CONFIG_FILE = "layercache.yaml"


class ConfigError(LayerCacheError, ValueError):
    """The configuration file is missing, not YAML, or does not validate."""


_REMOVED = "{} was removed: the dashboard and the management routes need proxy.admin_api_key (or $LAYERCACHE_ADMIN_KEY)"


def _refuse_removed(data: Any, where: str) -> Any:
    # A clear message instead of pydantic's "extra inputs are not permitted" for a setting that now means nothing.
    if isinstance(data, dict) and "allow_writes_without_key" in data:
        raise ValueError(_REMOVED.format(f"{where}.allow_writes_without_key"))
    return data


class ClientKey(Section):
    """One key clients may present on the proxy routes, optionally bound to a tenant."""

    key: SecretStr | None = Field(default=None, description="The key itself (or name it with key_env).")
    key_env: str | None = Field(default=None, description="Environment variable holding the key.")
    tenant: str | None = Field(
        default=None, description="The tenant this key's requests use; unbound keys may name one in tenant_header."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ClientKey:
        if (self.key is None) == (self.key_env is None):
            raise ValueError("a client key needs exactly one of key or key_env")
        return self


class ProxySettings(Section):
    host: str = "127.0.0.1"
    port: int = 8000
    proxy_api_key: SecretStr | None = Field(
        default=None,
        description="A client key for the proxy routes (like one entry of client_keys, not bound to a tenant). "
        "With any client key set, clients must present one and provider keys come from the environment.",
    )
    client_keys: list[ClientKey] = Field(
        default_factory=list,
        description="Keys clients may present on the proxy routes, each optionally bound to a tenant.",
    )
    admin_api_key: SecretStr | None = Field(
        default=None,
        description="The key for the dashboard and the management APIs; unset: read from admin_api_key_env. "
        "Without one they are off (403). Never a client key.",
    )
    admin_api_key_env: str | None = Field(
        default="LAYERCACHE_ADMIN_KEY",
        description="Environment variable holding the admin key when admin_api_key is unset.",
    )
    tenant_header: str | None = Field(
        default=None,
        description="A request header naming the tenant, honoured for client keys not bound to a tenant.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDRs of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed.",
    )
    max_body_bytes: int = Field(default=32 * 1024 * 1024, description="Larger request bodies get a 413.")
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Time a client has to send its whole request body; slower ones get a 408."
    )
    freeze_heap: bool = Field(
        default=True,
        description="Once LiteLLM's import is done, take the objects alive then out of the cyclic collector's "
        "passes (gc.freeze, process-wide). Off for a host app that wants its collector untouched.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_removed(cls, data: Any) -> Any:
        return _refuse_removed(data, "proxy")

    @field_validator("trusted_proxies", mode="after")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR like 10.0.0.0/8") from None
        return value


class ProviderSettings(Section):
    api_key_env: str | None = Field(default=None, description="Environment variable holding this provider's key.")
    api_base: str | None = Field(default=None, description="Send this provider's traffic to another base URL.")


def _default_providers() -> dict[str, ProviderSettings]:
    return {
        "anthropic": ProviderSettings(api_key_env="ANTHROPIC_API_KEY"),
        "openai": ProviderSettings(api_key_env="OPENAI_API_KEY"),
        "gemini": ProviderSettings(api_key_env="GOOGLE_API_KEY"),
    }


class ModelRoute(Section):
    """A model name clients may use, and the deployment (LiteLLM model string) behind it."""

    name: str
    model: str = Field(description="LiteLLM model string, e.g. anthropic/claude-sonnet-4-5 or openai/gpt-4o.")
    api_base: str | None = None
    api_key_env: str | None = None


class UpstreamSettings(Section):
    timeout: float = Field(default=600.0, gt=0, description="Seconds to wait for an upstream response to start.")
    connect_timeout: float = Field(default=10.0, gt=0)
    num_retries: int = Field(default=0, ge=0, description="Retries of the same deployment before failing over.")
    max_connections: int = Field(default=200, ge=1)


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///./layercache.db"
    auto_upgrade: bool | None = Field(
        default=None, description="Run migrations at start-up; default: on for SQLite, off for other backends."
    )
    health_check_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the database is checked; one unreachable at start is retried with backoff from this.",
    )


class CachingSettings(Section):
    semantic: SemanticCacheSettings = SemanticCacheSettings()
    max_session_tokens: int | None = Field(default=None, ge=1, description="Trim L2 history to this many tokens.")
    anthropic_ttl: Literal["5m", "1h"] = Field(
        default="5m", description="TTL of the cache_control breakpoints added for Anthropic models."
    )
    warmup_wait_seconds: float = Field(default=5.0, ge=0, description="Max hold of followers behind a prefix writer.")
    provider_diagnostics: bool = Field(
        default=True, description="Ask Anthropic (fast path) why a prefix missed; stripped from answers."
    )
    provider_diagnostics_beta: str | None = Field(
        default="cache-diagnosis-2026-04-07", description="anthropic-beta value sent with it (null: none)."
    )
    min_prefix_tokens: dict[str, int] = Field(
        default_factory=dict, description="Extra or overriding minimum cacheable prefix per model name."
    )
    gemini_cache_ttl_seconds: int = Field(
        default=3600, ge=60, description="Lifetime of the Gemini CachedContent created for an L0+L1 prefix."
    )
    mark_only_when_reused: bool = Field(
        default=True,
        description="Add cache markers (Anthropic breakpoints, Gemini CachedContents) only where the expected "
        "reads pay for the write premium; off: mark every prefix.",
    )
    openai_prompt_cache_retention: dict[str, Literal["in_memory", "24h"]] = Field(
        default_factory=dict,
        description="prompt_cache_retention to send per OpenAI model (model id, provider/model or route name; "
        "longest model prefix matches); only for models that take it, never over a client's own value.",
    )


class EnhancementSettings(Section):
    few_shot_examples: str | None = Field(default=None, description="JSON/YAML file of examples for dynamic_few_shot.")
    few_shot_top_k: int = Field(default=3, ge=1)
    templates_dir: str | None = Field(default=None, description="Folder of template YAML/JSON files to import.")


class MetricsSettings(Section):
    snapshot_interval_seconds: float = Field(default=60.0, gt=0)
    snapshot_retention_days: float = Field(default=7.0, gt=0)
    prices: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Per-model price overrides in USD per token (input, output, cache_read...)."
    )


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console"] = "json"
    log_prompts: bool = Field(default=False, description="Include prompt bodies in logs (off: never).")
    ring_buffer_size: int = Field(default=1000, ge=10)


class DashboardSettings(Section):
    enabled: bool = True
    session_secret: SecretStr | None = None
    secure_cookies: bool = Field(
        default=False,
        description="Always mark the session cookie Secure (else only over https, as seen directly or from a "
        "trusted proxy's X-Forwarded-Proto).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) the dashboard accepts form posts from, besides its own "
        "Host and X-Forwarded-Host: for a reverse proxy that rewrites Host without saying so.",
    )

    @field_validator("allowed_origins", mode="after")
    @classmethod
    def _origins_only(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            path = parts.path not in ("", "/") or parts.query or parts.fragment
            # .port raises ValueError on a malformed port, which pydantic reports like the rest.
            if parts.scheme not in ("http", "https") or not parts.hostname or path or parts.port == 0:
                raise ValueError(f"{origin!r} is not an origin like https://dash.example.com[:port]")
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_removed(cls, data: Any) -> Any:
        return _refuse_removed(data, "dashboard")


class Settings(Section):
    """The whole configuration of one LayerCacheApp."""

    proxy: ProxySettings = ProxySettings()
    providers: dict[str, ProviderSettings] = Field(default_factory=_default_providers)
    models: list[ModelRoute] = Field(default_factory=list)
    fallbacks: dict[str, list[str]] = Field(
        default_factory=dict, description="Model name -> names tried in order when it fails with a 5xx or times out."
    )
    upstream: UpstreamSettings = UpstreamSettings()
    database: DatabaseSettings = DatabaseSettings()
    caching: CachingSettings = CachingSettings()
    enhancements: EnhancementSettings = EnhancementSettings()
    metrics: MetricsSettings = MetricsSettings()
    logging: LoggingSettings = LoggingSettings()
    dashboard: DashboardSettings = DashboardSettings()

    @field_validator("providers", mode="after")
    @classmethod
    def _keep_default_providers(cls, value: dict[str, ProviderSettings]) -> dict[str, ProviderSettings]:
        # Field by field: ``openai: {api_base: ...}`` alone keeps OPENAI_API_KEY as the key's
        # variable; only a field the file names (``api_key_env: null`` too) replaces a default.
        merged = _default_providers()
        for name, given in value.items():
            default = merged.get(name)
            if default is None:
                merged[name] = given
            else:
                merged[name] = default.model_copy(update={f: getattr(given, f) for f in given.model_fields_set})
        return merged

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>") -> Settings:
        try:
            data: Any = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: not valid YAML: {exc}") from None
        if data is None:
            # Most often a file caught half-written; defaults would silently drop every route and key setting.
            raise ConfigError(f"{source}: the file is empty (write `{{}}` to ask for the defaults)")
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the top level must be a mapping")
        try:
            return cls.model_validate(data)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None


def config_path_from_env() -> Path | None:
    """The file the standalone app reads: ``$LAYERCACHE_CONFIG``, else ``./layercache.yaml`` if present."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path(DEFAULT_CONFIG_FILE)
    return local if local.is_file() else None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings from ``path`` or the usual places; defaults when there is no file."""
    file = Path(path) if path is not None else config_path_from_env()
    if file is None:
        return Settings()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
    return Settings.from_yaml(text, source=str(file))


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}{key}."))
        return out or {prefix.rstrip("."): {}}
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return {prefix.rstrip("."): value}


def changed_paths(old: Settings, new: Settings) -> list[str]:
    """Dotted paths whose values differ (secrets compared, never returned by value)."""
    a, b = _flat(dict(old.model_dump())), _flat(dict(new.model_dump()))
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def check_no_lost_sections(current: Settings, new: Settings) -> None:
    """Raise ConfigError when ``new`` leaves out top-level sections the running settings were given:
    a file caught half-written would otherwise reset them (aliases gone, providers back on public
    endpoints). Dropping a section on purpose means writing it empty (``models: []``)."""
    lost = sorted(current.model_fields_set - new.model_fields_set)
    if lost:
        raise ConfigError(
            f"sections {', '.join(lost)} are missing, though the running settings have them "
            "(a half-written file?); to reset a section on purpose, write it empty, e.g. `models: []`"
        )


class Host(Protocol):
    """What the app gives a component it starts (``Runtime`` is one): components depend on
    this, not on the app, and hand what they built back to the caller."""

    @property
    def settings(self) -> Settings: ...
    @property
    def http(self) -> httpx.AsyncClient: ...
    def on_close(self, closer: Callable[[], Awaitable[Any]]) -> None: ...
    def on_reload(self, reloader: Callable[[Settings], None]) -> None: ...
