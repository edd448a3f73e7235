"""Single flight: identical concurrent requests share one upstream call.

The first request with a key leads; later ones with the same key follow and wait
(bounded) for the answer the leader stored. Followers whose leader fails, or stored
nothing, go upstream themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass

from .._completion import Completion

__all__ = ["Flight", "SingleFlight"]


@dataclass
class Flight:
    key: Hashable
    leader: bool
    future: asyncio.Future[Completion | None]


class SingleFlight:
    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Future[Completion | None]] = {}

    def join(self, key: Hashable) -> Flight:
        future = self._flights.get(key)
        if future is not None:
            return Flight(key, False, future)
        future = asyncio.get_running_loop().create_future()
        self._flights[key] = future
        return Flight(key, True, future)

    def land(self, flight: Flight, completion: Completion | None) -> None:
        """The leader is done: hand its stored answer (or None) to the followers."""
        if not flight.leader:
            return
        if self._flights.get(flight.key) is flight.future:
            del self._flights[flight.key]
        if not flight.future.done():
            flight.future.set_result(completion)

    async def wait(self, flight: Flight, timeout: float) -> Completion | None:
        """A follower's wait: the leader's answer, or None when it had none or took too long."""
        try:
            return await asyncio.wait_for(asyncio.shield(flight.future), timeout)
        except TimeoutError:
            return None

    def __len__(self) -> int:
        return len(self._flights)
