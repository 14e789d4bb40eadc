"""Many clients at once: the same work on many items, from one thread each, released together."""

import threading
from collections.abc import Callable, Sequence
from typing import Any


def all_at_once(work: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """work(item) for every item, all started together behind a barrier; the results in the items' order."""
    barrier = threading.Barrier(len(items))
    results: list[Any] = [None] * len(items)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = work(items[n])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
