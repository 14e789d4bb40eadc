"""Background work as rows: a task names its resource's kind, may wait for a time of the emulator's clock or
carry a key that queues it once, is found by the workers without being woken, and never stays `running`."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from emulator.config import Settings
from emulator.model.records import Task
from emulator.runtime import boot
from emulator.store.schema import tasks
from emulator.work.runner import MAX_ATTEMPTS, UNREAD_RETRY, ResourceWork, Retry
from tests.emulator_process import wait_for


class Widget:
    """A resource of a kind the instance lifecycle knows nothing of (as a backup will be)."""

    def __init__(self):
        self.done: list[int] = []
        self.failed: list[str] = []
        self.tries = 0

    def work(self, ctx, resource, task: Task) -> None:
        self.done.append(task.id)

    def flaky(self, ctx, resource, task: Task) -> None:
        self.tries += 1
        if self.tries == 1:
            raise Retry(timedelta(minutes=5), "not yet")
        self.done.append(task.id)

    def broken(self, ctx, resource, task: Task) -> None:
        raise RuntimeError("SELECT secret FROM somewhere")

    def fail(self, ctx, resource, reason: str) -> None:
        self.failed.append(reason)


@pytest.fixture
def setup(tmp_path, clock):
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off"), clock=clock, schedule=False)
    widget = Widget()
    runtime.runner.kinds["widget"] = ResourceWork(
        load=lambda ctx, resource_id: widget,
        work={"work": widget.work, "flaky": widget.flaky, "broken": widget.broken},
        fail=widget.fail,
    )
    yield runtime, widget
    runtime.close()


def states(runtime) -> list[str]:
    with runtime.ctx.store.engine.connect() as conn:
        return list(conn.scalars(select(tasks.c.state).where(tasks.c.resource_type == "widget").order_by(tasks.c.id)))


def test_a_task_waits_for_its_time_and_is_found_without_a_wake_up(setup, clock):
    runtime, widget = setup
    store = runtime.ctx.store
    # queued behind the runner's back (no kick), due in an hour
    store.queue_task("widget", "w1", "work", {}, clock.now(), not_before=clock.now() + timedelta(hours=1))
    assert states(runtime) == ["queued"]
    clock.advance(timedelta(minutes=59))
    assert store.claim_due_task("someone-else", clock.now()) is None
    clock.advance(timedelta(minutes=1))
    wait_for(lambda: states(runtime) == ["done"], 5, "the workers to find the due task by themselves")
    assert len(widget.done) == 1


def test_a_key_queues_scheduled_work_once(setup, clock):
    runtime, widget = setup
    first = runtime.ctx.store.queue_task("widget", "w1", "work", {}, clock.now(), key="backup:w1:2026-11-24")
    runtime.ctx.kick()
    wait_for(lambda: states(runtime) == ["done"], 5, "the task")
    again = runtime.ctx.store.queue_task("widget", "w1", "work", {}, clock.now(), key="backup:w1:2026-11-24")
    assert first is not None and again is None
    assert states(runtime) == ["done"] and len(widget.done) == 1


def test_a_step_may_ask_to_be_retried_later(setup, clock):
    runtime, widget = setup
    runtime.ctx.queue("widget", "w1", "flaky")
    wait_for(lambda: widget.tries == 1 and states(runtime) == ["queued"], 5, "the first try")
    clock.advance(timedelta(minutes=5))
    runtime.ctx.kick()
    wait_for(lambda: states(runtime) == ["done"], 5, "the retry")


def test_a_failed_step_fails_its_own_resource_and_never_strands_the_task(setup):
    runtime, widget = setup
    runtime.ctx.queue("widget", "w1", "broken")
    wait_for(lambda: states(runtime) == ["failed"], 5, "the task to fail")
    assert widget.failed == ["an internal error stopped the work (the emulator's log has the details)"]
    assert runtime.ctx.store.list_instances() == []


def test_a_task_of_a_kind_nobody_does_ends_failed_instead_of_holding_its_resource(setup):
    runtime, _ = setup
    runtime.ctx.queue("gizmo", "g1", "work")
    runtime.ctx.queue("widget", "w1", "vanish")
    wait_for(lambda: states(runtime) == ["failed"] and gizmo_states(runtime) == ["failed"], 5, "both to fail")


def test_a_resource_that_cannot_be_read_a_moment_is_tried_again_then_given_up_on(setup, clock):
    runtime, widget = setup
    reads = []

    def unreadable(ctx, resource_id):
        reads.append(resource_id)
        if resource_id == "w1" and len(reads) == 1 or resource_id == "w2":
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return widget

    runtime.runner.kinds["widget"] = replace(runtime.runner.kinds["widget"], load=unreadable)
    runtime.ctx.queue("widget", "w1", "work")
    wait_for(lambda: reads and states(runtime) == ["queued"], 5, "the task to wait after its first read failed")
    clock.advance(UNREAD_RETRY)
    runtime.ctx.kick()
    wait_for(lambda: states(runtime) == ["done"], 5, "the task done at its second read")
    assert len(widget.done) == 1

    runtime.ctx.queue("widget", "w2", "work")
    for attempt in range(1, MAX_ATTEMPTS):
        wait_for(lambda: reads.count("w2") == attempt and states(runtime)[-1] == "queued", 5,  # noqa: B023
                 "the task to wait")
        clock.advance(UNREAD_RETRY)
        runtime.ctx.kick()
    wait_for(lambda: states(runtime) == ["done", "failed"], 5, "the task to be given up on")


def test_a_task_end_the_store_refuses_is_written_again(setup):
    runtime, widget = setup
    store = runtime.ctx.store
    finish = store.finish_task
    refusals = []

    def locked_once(*args, **kwargs):
        if not refusals:
            refusals.append(args)
            raise OperationalError("UPDATE", {}, Exception("database is locked"))
        return finish(*args, **kwargs)

    store.finish_task = locked_once
    runtime.ctx.queue("widget", "w1", "work")
    wait_for(lambda: states(runtime) == ["done"], 5, "the task's end written at the next look")
    assert len(refusals) == 1 and len(widget.done) == 1


def gizmo_states(runtime) -> list[str]:
    with runtime.ctx.store.engine.connect() as conn:
        return list(conn.scalars(select(tasks.c.state).where(tasks.c.resource_type == "gizmo")))
