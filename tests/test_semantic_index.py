"""A bucket scanned on a worker thread while the event loop changes it (big buckets are
searched off the loop): the scan reads the rows as they were when it was handed off."""

from __future__ import annotations

import queue
import threading

import numpy as np

from layercache_asgi.semantic._index import Bucket, Rows

DIM = 16
FAR_FUTURE = 4e9


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def filled(n: int) -> Bucket:
    bucket = Bucket(DIM)
    for i in range(n):
        bucket.add(i + 1, unit(i), f"question {i}", FAR_FUTURE)
    return bucket


def test_rows_keep_what_was_read_while_the_bucket_grows_and_compacts() -> None:
    bucket = filled(100)
    probe = unit(7)
    rows = bucket.rows()
    before, _ = rows.scan(probe, 0.0, 0.0, 8)
    for i in range(100, 300):  # past the capacity: the arrays are replaced
        bucket.add(i + 1, unit(i), f"question {i}", FAR_FUTURE)
    for entry_id in range(1, 200):  # more than half removed: compacted into new arrays
        bucket.remove(entry_id)
    assert bucket.size < 300  # it did compact
    after, _ = rows.scan(probe, 0.0, 0.0, 8)
    assert [(c.entry_id, c.query) for c in after] == [(c.entry_id, c.query) for c in before]
    assert after[0].entry_id == 8 and after[0].query == "question 7"
    # The bucket itself now answers from what it holds.
    assert all(c.entry_id >= 200 for c in bucket.search(probe, 0.0, 0.0, 8))


def test_a_scan_on_another_thread_never_sees_the_bucket_half_changed() -> None:
    # What the store does for a bucket over 4,096 rows: the rows are read on the loop (here the
    # main thread), scanned on a worker thread while the loop keeps adding and removing. Reading
    # the bucket's size and arrays from the worker raised IndexError ("boolean index did not
    # match") under load.
    bucket = filled(4_000)
    errors: list[BaseException] = []
    handed: queue.Queue[Rows | None] = queue.Queue()

    def scanner() -> None:
        probe = unit(1)
        while (rows := handed.get()) is not None:
            try:
                found, nearest = rows.scan(probe, 0.5, 0.0, 8)
                assert nearest is not None and all(c.query.startswith("question") for c in found)
            except BaseException as exc:  # any failure is the finding
                errors.append(exc)

    thread = threading.Thread(target=scanner)
    thread.start()
    try:
        next_id = 4_001
        for round_ in range(60):
            for _ in range(150):
                handed.put(bucket.rows())
                bucket.add(next_id, unit(next_id), f"question {next_id}", FAR_FUTURE)
                next_id += 1
            for entry_id in range(round_ * 120 + 1, round_ * 120 + 121):
                bucket.remove(entry_id)
    finally:
        handed.put(None)
        thread.join()
    assert errors == []
    assert bucket.size == bucket.live + bucket.removed


def test_a_scan_returns_the_best_live_rows_above_the_threshold_most_similar_first() -> None:
    """Against a brute-force reference: expired rows never come back, ties keep row order, and the
    nearest similarity is the best live row's whatever the threshold."""
    bucket = filled(300)
    for entry_id in range(1, 300, 7):
        bucket.expires[bucket.positions[entry_id]] = 10.0  # expired at now=100
    bucket.add(1000, unit(42), "a twin of question 42", FAR_FUTURE)  # a tie with row 43
    for seed, threshold, limit in [(42, 0.0, 8), (5, 0.3, 3), (9, -1.0, 1), (11, 0.99, 8), (42, 0.0, 400)]:
        probe = unit(seed)
        found, nearest = bucket.scan(probe, threshold, 100.0, limit)
        live = [(float(bucket.vectors[i] @ probe), i) for i in range(bucket.size) if bucket.expires[i] > 100.0]
        ranked = sorted(live, key=lambda s_i: (-s_i[0], s_i[1]))
        expected = [int(bucket.ids[i]) for s, i in ranked if s >= threshold][:limit]
        assert [c.entry_id for c in found] == expected
        assert nearest is not None and abs(nearest - ranked[0][0]) < 1e-5
        for c in found:
            assert abs(c.similarity - float(bucket.vectors[bucket.positions[c.entry_id]] @ probe)) < 1e-5
