"""Single flight: identical concurrent requests share one upstream call.

The first request with a key leads; later ones with the same key follow and wait
(bounded) for the answer the leader stored. Followers whose leader fails, or stored
nothing, go upstream themselves; if the leader's client left, the first follower back
leads in its place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass

from ..wire._completion import Completion

__all__ = ["Flight", "SingleFlight"]


@dataclass
class _Landing:
    future: asyncio.Future[Completion | None]
    leader_left: bool = False  # the leader's client went away before it had an answer


@dataclass
class Flight:
    key: Hashable
    leader: bool
    landing: _Landing

    @property
    def leader_left(self) -> bool:
        """The leader was cancelled for a client that left: a follower should lead in its place."""
        return self.landing.leader_left


class SingleFlight:
    def __init__(self) -> None:
        self._flights: dict[Hashable, _Landing] = {}

    def join(self, key: Hashable) -> Flight:
        landing = self._flights.get(key)
        if landing is not None:
            return Flight(key, False, landing)
        landing = _Landing(asyncio.get_running_loop().create_future())
        self._flights[key] = landing
        return Flight(key, True, landing)

    def land(self, flight: Flight, completion: Completion | None, *, leader_left: bool = False) -> None:
        """The leader is done: hand its stored answer (or None) to the followers."""
        if not flight.leader:
            return
        if self._flights.get(flight.key) is flight.landing:
            del self._flights[flight.key]
        if not flight.landing.future.done():
            flight.landing.leader_left = leader_left
            flight.landing.future.set_result(completion)

    async def wait(self, flight: Flight, timeout: float) -> Completion | None:
        """A follower's wait: the leader's answer, or None when it had none or took too long."""
        try:
            # Shielded: a follower whose own client leaves must not cancel what the others wait for.
            return await asyncio.wait_for(asyncio.shield(flight.landing.future), max(0.0, timeout))
        except TimeoutError:
            return None

    def __len__(self) -> int:
        return len(self._flights)
