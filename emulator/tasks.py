"""Durable background work: tasks are rows in the store, claimed by a conditional UPDATE, run off the
request thread. A task left running by a process that died is run again (its steps are idempotent), up to
MAX_ATTEMPTS times; then its instance is `failed` with an event. Nothing stays stuck.
"""

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from emulator import lifecycle
from emulator.context import Context
from emulator.store import Task

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


class TaskRunner:
    def __init__(self, ctx: Context, workers: int):
        self.ctx = ctx
        self.owner = uuid.uuid4().hex
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="task")
        self._submitted: set[int] = set()
        self._lock = threading.Lock()
        self._closed = False

    def resume_orphans(self) -> None:
        """At start-up: tasks a dead process left running are queued again, or fail after MAX_ATTEMPTS."""
        for task in self.ctx.store.orphaned_tasks(self.owner):
            if task.attempts >= MAX_ATTEMPTS:
                self.ctx.store.finish_task(task.id, "failed")
                instance = self.ctx.store.get_instance(task.resource_id)
                if instance is not None:
                    lifecycle.fail(self.ctx, instance, f"task {task.kind} was interrupted {task.attempts} times")
            else:
                log.info("resuming task %s (%s) for %s", task.id, task.kind, task.resource_id)
                self.ctx.store.requeue_task(task.id)

    def kick(self) -> None:
        with self._lock:
            if self._closed:
                return
            for task_id in self.ctx.store.queued_task_ids():
                if task_id not in self._submitted:
                    self._submitted.add(task_id)
                    self._pool.submit(self._run, task_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, task_id: int) -> None:
        try:
            task = self.ctx.store.claim_task(task_id, self.owner)
            if task is not None:
                self._execute(task)
        finally:
            with self._lock:
                self._submitted.discard(task_id)

    def _execute(self, task: Task) -> None:
        instance = self.ctx.store.get_instance(task.resource_id)
        if instance is None:
            self.ctx.store.finish_task(task.id, "done")
            return
        try:
            lifecycle.WORK[task.kind](self.ctx, instance, task)
        except Exception as error:  # noqa: BLE001 - any failure of the work ends in `failed`, never stuck
            log.exception("task %s (%s) for %s failed", task.id, task.kind, instance.identifier)
            lifecycle.fail(self.ctx, instance, str(error))
            self.ctx.store.finish_task(task.id, "failed")
        else:
            self.ctx.store.finish_task(task.id, "done")
