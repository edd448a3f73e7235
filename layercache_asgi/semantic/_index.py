"""An in-memory copy of the stored embeddings, grouped by (tenant, exact key).

The database stays the source of truth: a bucket is filled from it, topped up with the
rows other replicas added (ids above its watermark), reloaded in full now and then, and
a row found gone when its answer is fetched is dropped here too. Vectors live in one
growable float32 matrix per bucket, so a lookup is one matrix-vector product.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Bucket", "BucketKey", "Candidate", "Rows", "VectorIndex"]

BucketKey = tuple[str, str]  # (tenant, exact key)
Vector = np.ndarray[Any, np.dtype[np.float32]]
# Buckets up to this size are searched with einsum, bigger ones with BLAS (see Bucket.scan). Measured
# with 384-dim rows, 2 ms apart: einsum 0.4 / 1.2 / 5.7 ms of CPU at 4k / 20k / 50k rows; OpenBLAS's
# threads spin after each product, 2.4 / 3.3 / 5.1 ms of CPU (at 4k: six times einsum's, the cost
# that took the bench's semantic throughput from 250 to 119 rps once a bucket passed 4,096 rows).
_EINSUM_ROWS = 32_768
# numpy >= 2: a row-wise dot product as a ufunc loop, on this thread like einsum and faster than it (about 2x
# with the bucket in cache, 10% from memory); einsum on older numpy.
_vecdot = getattr(np, "vecdot", None)


@dataclass
class Candidate:
    entry_id: int
    similarity: float
    query: str


@dataclass
class Bucket:
    dim: int
    ids: np.ndarray[Any, np.dtype[np.int64]] = field(init=False)
    vectors: Vector = field(init=False)
    expires: np.ndarray[Any, np.dtype[np.float64]] = field(init=False)  # epoch seconds; 0 = removed
    queries: list[str] = field(default_factory=list)
    positions: dict[int, int] = field(default_factory=dict)
    size: int = 0
    removed: int = 0
    watermark: int = 0  # highest id read from the database
    loaded_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.ids = np.zeros(16, dtype=np.int64)
        self.vectors = np.zeros((16, self.dim), dtype=np.float32)
        self.expires = np.zeros(16, dtype=np.float64)

    @property
    def live(self) -> int:
        return self.size - self.removed

    def add(self, entry_id: int, vector: Vector, query: str, expires: float) -> bool:
        """Add a row; False when it is here already."""
        if entry_id in self.positions:
            return False
        if self.size == len(self.ids):
            self._grow()
        i = self.size
        self.ids[i], self.vectors[i], self.expires[i] = entry_id, vector, expires
        self.queries.append(query)
        self.positions[entry_id] = i
        self.size += 1
        return True

    def rename(self, old: int, new: int) -> None:
        """A provisional id became the row's real one (the row may already be here under it)."""
        i = self.positions.pop(old, None)
        if i is None:
            return
        if new in self.positions:
            self.positions[old] = i
            self.remove(old)
            return
        self.ids[i] = new
        self.positions[new] = i

    def remove(self, entry_id: int) -> None:
        i = self.positions.pop(entry_id, None)
        if i is not None and self.expires[i] != 0:
            self.expires[i] = 0
            self.removed += 1
        if self.removed > 64 and self.removed * 2 > self.size:
            self._compact()

    def search(self, vector: Vector, threshold: float, now: float, limit: int) -> list[Candidate]:
        """Live rows at or above ``threshold``, most similar first."""
        return self.scan(vector, threshold, now, limit)[0]

    def scan(self, vector: Vector, threshold: float, now: float, limit: int) -> tuple[list[Candidate], float | None]:
        """:meth:`search`, and the similarity of the nearest live row whatever the threshold
        (None when there is none): what tuning the threshold needs to see."""
        return self.rows().scan(vector, threshold, now, limit)

    def rows(self) -> Rows:
        """The rows as they are now, to scan on another thread while the loop adds, removes
        and compacts: growing and compacting replace the arrays and the list, adding writes past
        ``size``, so these views keep what was read; a row removed meanwhile may still be
        found, and its answer's fetch drops it."""
        n = self.size
        return Rows(self.ids[:n], self.vectors[:n], self.expires[:n], self.queries, n)

    def drop_expired(self, now: float) -> None:
        stale = np.flatnonzero((self.expires[: self.size] <= now) & (self.expires[: self.size] != 0))
        for entry_id in [int(self.ids[i]) for i in stale]:  # ids first: removing may compact the arrays
            self.remove(entry_id)

    def _grow(self) -> None:
        capacity = len(self.ids) * 2
        self.ids = np.resize(self.ids, capacity)
        self.expires = np.resize(self.expires, capacity)
        vectors = np.zeros((capacity, self.dim), dtype=np.float32)
        vectors[: self.size] = self.vectors[: self.size]
        self.vectors = vectors

    def _compact(self) -> None:
        keep = np.flatnonzero(self.expires[: self.size] != 0)
        self.ids = self.ids[keep].copy()
        self.vectors = self.vectors[keep].copy()
        self.expires = self.expires[keep].copy()
        self.queries = [self.queries[i] for i in keep]
        self.size, self.removed = len(keep), 0
        self.positions = {int(entry_id): i for i, entry_id in enumerate(self.ids)}
        if self.size == 0:
            self.__post_init__()


@dataclass(frozen=True, slots=True)
class Rows:
    """What one scan reads of a bucket (see :meth:`Bucket.rows`)."""

    ids: np.ndarray[Any, np.dtype[np.int64]]
    vectors: Vector
    expires: np.ndarray[Any, np.dtype[np.float64]]
    queries: list[str]
    size: int

    def scan(self, vector: Vector, threshold: float, now: float, limit: int) -> tuple[list[Candidate], float | None]:
        if self.size == 0:
            return [], None
        # numpy's BLAS wakes its worker threads for a matrix product, and they spin for a while
        # afterwards on the cores the event loop and the embedder need: far costlier than the
        # product itself. einsum's own loops stay on this thread; big buckets (searched off the
        # loop) still get the BLAS product.
        rows = self.vectors
        if self.size > _EINSUM_ROWS:
            sims = rows @ vector
        elif _vecdot is not None:
            sims = _vecdot(rows, vector)
        else:
            sims = np.einsum("ij,j->i", rows, vector)
        sims[self.expires <= now] = -2.0
        if self.size > limit:  # the best few first: most rows of a busy bucket clear a low threshold
            top = np.sort(np.argpartition(sims, self.size - limit)[self.size - limit :])  # ties: by row, as below
            above = top[sims[top] >= threshold]
        else:
            above = np.flatnonzero(sims >= threshold)
        ranked = above[np.argsort(-sims[above], kind="stable")]
        best = float(sims.max())
        candidates = [Candidate(int(self.ids[i]), float(sims[i]), self.queries[i]) for i in ranked.tolist()]
        return candidates, best if best > -2.0 else None


class VectorIndex:
    """Buckets kept least-recently-used first; whole buckets are dropped past ``max_rows``."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._buckets: OrderedDict[BucketKey, Bucket] = OrderedDict()

    def get(self, key: BucketKey) -> Bucket | None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            self._buckets.move_to_end(key)
        return bucket

    def put(self, key: BucketKey, bucket: Bucket) -> None:
        self._buckets[key] = bucket
        self._buckets.move_to_end(key)
        self._shrink()

    def remove_ids(self, entry_ids: set[int]) -> None:
        for bucket in self._buckets.values():
            for entry_id in entry_ids & bucket.positions.keys():
                bucket.remove(entry_id)

    def clear(self) -> None:
        self._buckets.clear()

    def drop_expired(self, now: float) -> None:
        for key in list(self._buckets):
            bucket = self._buckets[key]
            bucket.drop_expired(now)
            if bucket.live == 0:
                del self._buckets[key]

    @property
    def rows(self) -> int:
        return sum(b.live for b in self._buckets.values())

    def _shrink(self) -> None:
        while len(self._buckets) > 1 and self.rows > self.max_rows:
            self._buckets.popitem(last=False)
