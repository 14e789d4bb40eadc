"""Durable background work. A task is a row in the store that names the kind of resource it works on; worker
threads claim due tasks (queued, and past their earliest start) by a conditional write, whether a handler
woke them or not. A step may ask to be retried later; any other failure fails what the task worked on and
ends the task `failed`: no task is left `running`. A task left running by a process that died is run
again (its steps are idempotent), up to MAX_ATTEMPTS times.
"""

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from emulator.context import Context
from emulator.failures import Failure
from emulator.model.records import Task

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
# How often an idle worker looks for work that became due without anyone waking it (wall-clock seconds).
POLL = 0.5
# A task whose resource could not be read (the store busy a moment, say) is tried again after this long.
UNREAD_RETRY = timedelta(seconds=5)


class Retry(Exception):
    """Run this task again after a while: the step may succeed then."""

    def __init__(self, after: timedelta, reason: str):
        super().__init__(reason)
        self.after = after


@dataclass(frozen=True)
class Then:
    """What a task's work may return: the resource's next task, queued as this one ends."""

    kind: str
    params: dict[str, Any]


@dataclass(frozen=True)
class ResourceWork:
    """What tasks on one kind of resource do: find the resource, the work of each task kind, and what a
    failure leaves behind (`reason` is for users)."""

    load: Callable[[Context, str], Any]
    work: dict[str, Callable[[Context, Any, Task], Then | None]]
    fail: Callable[[Context, Any, str], None]


class TaskRunner:
    def __init__(self, ctx: Context, workers: int, kinds: dict[str, ResourceWork]):
        self.ctx = ctx
        self.kinds = kinds
        self.owner = uuid.uuid4().hex
        self._wake = threading.Condition()
        self._generation = 0
        self._closed = False
        self._unrecorded: list[Callable[[], None]] = []
        self._threads = [
            threading.Thread(target=self._loop, name=f"task-{n}", daemon=True) for n in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def resume_orphans(self) -> None:
        """At start-up: tasks a dead process left running are queued again, or fail after MAX_ATTEMPTS."""
        for task in self.ctx.store.orphaned_tasks(self.owner):
            if task.attempts >= MAX_ATTEMPTS:
                self._fail(task, f"its {task.kind} was interrupted {task.attempts} times")
            else:
                log.info("resuming task %s (%s) for %s", task.id, task.kind, task.resource_id)
                self.ctx.store.requeue_task(task.id)

    def kick(self) -> None:
        """One worker is enough for what was just queued; the others find any more at their next look."""
        with self._wake:
            self._generation += 1
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    def _loop(self) -> None:
        self.ctx.store.in_background()
        while True:
            with self._wake:
                if self._closed:
                    return
                seen = self._generation
            self._record_late()
            self.ctx.foreground.wait_for_a_pause()
            try:
                task = self.ctx.store.claim_due_task(self.owner, self.ctx.clock.now())
            except Exception:  # noqa: BLE001 - a store hiccup must not end the worker
                log.exception("could not claim a task")
                task = None
            if task is not None:
                self._execute(task)
                continue
            with self._wake:
                if not self._closed and self._generation == seen:
                    self._wake.wait(POLL)

    def _execute(self, task: Task) -> None:
        self._record(self._outcome(task))

    def _outcome(self, task: Task) -> Callable[[], None]:
        """Run the task; what it came to, as the write that records it. No failure escapes: a task that
        raised anywhere (its kind unknown, its resource unreadable, its work broken) ends or waits."""
        store, now = self.ctx.store, self.ctx.clock.now()
        kind = self.kinds.get(task.resource_type)
        if kind is None or task.kind not in kind.work:
            log.error("task %s names work this emulator does not do: %s on a %s", task.id, task.kind,
                      task.resource_type)
            return partial(store.finish_task, task.id, "failed", "this emulator does not do such work")
        try:
            resource = kind.load(self.ctx, task.resource_id)
        except Exception:  # noqa: BLE001 - a store busy a moment, most likely: the task waits and tries again
            log.exception("task %s (%s) could not read %s", task.id, task.kind, task.resource_id)
            if task.attempts < MAX_ATTEMPTS:
                return partial(store.retry_task, task.id, now + UNREAD_RETRY)
            return partial(store.finish_task, task.id, "failed", "its resource could not be read")
        if resource is None:
            return partial(store.finish_task, task.id, "done")
        try:
            then = kind.work[task.kind](self.ctx, resource, task)
        except Retry as retry:
            log.warning("task %s (%s) for %s will be retried: %s", task.id, task.kind, task.resource_id, retry)
            return partial(store.retry_task, task.id, self.ctx.clock.now() + retry.after)
        except Exception as error:  # noqa: BLE001 - any failure ends the task `failed`, never stuck
            log.exception("task %s (%s) for %s failed", task.id, task.kind, task.resource_id)
            return self._failed(task, _for_users(error), kind, resource)
        follow = (then.kind, then.params, self.ctx.clock.now()) if then is not None else None
        return partial(store.finish_task, task.id, "done", then=follow)

    def _failed(self, task: Task, reason: str, kind: ResourceWork, resource: Any) -> Callable[[], None]:
        """The resource failed (its status and event), then the task's end to record."""
        try:
            kind.fail(self.ctx, resource, reason)
        except Exception:  # noqa: BLE001 - the task ends `failed` all the same
            log.exception("could not mark %s failed after task %s", task.resource_id, task.id)
        return partial(self.ctx.store.finish_task, task.id, "failed", reason)

    def _fail(self, task: Task, reason: str) -> None:
        kind = self.kinds.get(task.resource_type)
        try:
            resource = kind.load(self.ctx, task.resource_id) if kind is not None else None
        except Exception:  # noqa: BLE001 - the task ends `failed` all the same
            log.exception("task %s could not read %s", task.id, task.resource_id)
            resource = None
        if kind is None or resource is None:
            self._record(partial(self.ctx.store.finish_task, task.id, "failed", reason))
        else:
            self._record(self._failed(task, reason, kind, resource))

    def _record(self, write: Callable[[], None]) -> None:
        """Write a task's end; one the store refused (locked, say) is written again at each worker's next
        look, never dropped: until it is, the task would hold its resource `running`."""
        try:
            write()
        except Exception:  # noqa: BLE001
            log.exception("could not record a task's end: tried again shortly")
            self._unrecorded.append(write)

    def _record_late(self) -> None:
        for _ in range(len(self._unrecorded)):
            try:
                write = self._unrecorded.pop(0)
            except IndexError:
                return
            self._record(write)


def _for_users(error: Exception) -> str:
    """A driver's message is written for users; anything else may hold SQL or worse, and stays in the log."""
    if isinstance(error, Failure):
        return str(error)
    return "an internal error stopped the work (the emulator's log has the details)"
