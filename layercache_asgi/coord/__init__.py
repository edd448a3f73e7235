"""Replicas behave as one proxy: they coordinate through PostgreSQL (LISTEN/NOTIFY and claim rows).

On SQLite there is one process (a second one refuses to start, see ``_single_process``).
"""

from __future__ import annotations

from ._coordinator import Coordinator
from ._single_process import SingleProcessError
from ._start import start_coordination

__all__ = ["Coordinator", "SingleProcessError", "start_coordination"]
