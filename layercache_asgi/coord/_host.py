"""What the coordinator needs from the app that starts it, as protocols (``Runtime`` is one).

The coordinator applies other replicas' changes to the app's components, so it names them
(they sit below it); it never names the runtime, a stage or the dashboard, which sit above
and hold it (``Runtime.coord``, the warm-up gate), so it can be typed where it is held.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..db._watch import DatabaseHost

if TYPE_CHECKING:
    from .._auth import AuthGuard
    from .._config import Settings
    from .._lru import LRU
    from ..prompt._state import PromptState
    from ..semantic._service import SemanticCacheService
    from ..templates._registry import TemplateRegistry

__all__ = ["CoordHost", "WarmTable"]


class CoordHost(DatabaseHost, Protocol):
    @property
    def auth(self) -> AuthGuard: ...
    @property
    def semantic(self) -> SemanticCacheService | None: ...
    @property
    def templates(self) -> TemplateRegistry | None: ...
    @property
    def prompt_state(self) -> PromptState:
        """Prefix families: a family new here is announced, one seen first elsewhere is recorded."""

    @property
    def config_path(self) -> Path | None:
        """The YAML file the settings come from: what another replica's save or reload changed."""

    def reload(self, settings: Settings) -> None:
        """Swap in new settings (calling every ``on_reload`` hook, the coordinator's own too)."""


class WarmTable(Protocol):
    """A warm-up gate's registry, as far as the coordinator writes it: prefixes warm until when."""

    @property
    def warm(self) -> LRU[str, float]: ...
