"""Binary log archiving, each instance on a worker of its own: a server that blocks (its disk full, say)
holds its own archiving only, never the others', whose LatestRestorableTime keeps moving."""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime

from emulator.context import Context
from emulator.model.instance import Instance

log = logging.getLogger(__name__)
# Workers, so that a few servers blocked at once still leave the others theirs; each blocked one frees its
# worker when its connection's read times out.
WORKERS = 4
# How long a pass waits for its instances before it records the times of those done (seconds): one still
# at work is recorded at a later pass.
PASS_SECONDS = 20.0


class Archivers:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="archive", initializer=ctx.store.in_background)
        self.busy: set[str] = set()
        self.lock = threading.Lock()

    def each(self, instances: list[Instance], work: Callable[[Instance], datetime | None]) -> dict[str, datetime]:
        """work(instance) for each instance not still at work from an earlier pass; the times the finished
        ones returned, by resource id."""
        started: dict[Future[datetime | None], str] = {}
        for instance in instances:
            with self.lock:
                if instance.resource_id in self.busy:
                    log.info("binary logs of %s: still at work since an earlier pass", instance.identifier)
                    continue
                self.busy.add(instance.resource_id)
            started[self.pool.submit(self._one, work, instance)] = instance.resource_id
        done, _ = wait(started, timeout=PASS_SECONDS)
        return {started[future]: until for future in done if (until := future.result()) is not None}

    def _one(self, work: Callable[[Instance], datetime | None], instance: Instance) -> datetime | None:
        try:
            return work(instance)
        finally:
            with self.lock:
                self.busy.discard(instance.resource_id)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
