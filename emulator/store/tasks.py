"""Durable tasks: queued with the change that asks for them, claimed by a conditional write."""

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from emulator.model.records import Task
from emulator.store.base import StoreBase
from emulator.store.checks import check_alone, check_group, check_observed, check_security_groups, deferred, insert_task
from emulator.store.errors import NameTaken, TaskConflict
from emulator.store.schema import instances, tasks


class Tasks(StoreBase):
    def queue_task(
        self,
        resource_type: str,
        resource_id: str,
        kind: str,
        params: dict[str, Any],
        now: datetime,
        *,
        observed: Iterable[str] | None = None,
        not_before: datetime | None = None,
        key: str | None = None,
        take_pending: bool = False,
        alone: bool = False,
        defer: dict[str, Any] | None = None,
        also: Iterable[tuple[str, str, str, dict[str, Any], datetime]] = (),
        **instance_values: Any,
    ) -> int | None:
        """Queue a task, and apply instance_values, in one transaction. TaskConflict when the resource has a
        task under way; StateConflict when an instance's observed state is not one of `observed`; None
        (and nothing done) when a task with this key was queued before. `take_pending`: the changes that
        waited for the maintenance window become the task's (under its own params); `defer`: these changes
        join them instead; `alone`: HasReplicas when the instance is a read replica or has any; `also`: other
        resources' tasks the change asks for (type, id, kind, params, now)."""
        try:
            with self._tx() as conn:
                if key is not None and conn.scalar(select(tasks.c.id).where(tasks.c.key == key)) is not None:
                    return None
                if observed is not None:
                    check_observed(conn, resource_id, observed)
                if alone:
                    check_alone(conn, resource_id)
                if take_pending:
                    waiting = conn.scalar(select(instances.c.pending).where(instances.c.resource_id == resource_id))
                    params = {**(waiting or {}), **params}
                    instance_values |= {"pending": {}, "pending_since": None}
                if defer:
                    instance_values |= deferred(conn, resource_id, defer, now)
                if instance_values:
                    check_group(conn, instance_values.get("parameter_group"))
                    check_security_groups(conn, instance_values.get("db_security_groups"))
                    conn.execute(
                        update(instances).where(instances.c.resource_id == resource_id).values(**instance_values)
                    )
                for task in also:
                    insert_task(conn, *task)
                return insert_task(conn, resource_type, resource_id, kind, params, now, not_before, key)
        except IntegrityError:
            if instance_values.get("identifier") and self.find_instance(instance_values["identifier"]):
                raise NameTaken(instance_values["identifier"]) from None
            raise TaskConflict(resource_id) from None

    def claim_due_task(self, owner: str, now: datetime) -> Task | None:
        """Take the oldest queued task that is due, for this runner; None when there is none. Idle workers
        look often: they only read until there is something to take."""
        due = (
            select(tasks)
            .where(tasks.c.state == "queued", or_(tasks.c.not_before.is_(None), tasks.c.not_before <= now))
            .order_by(tasks.c.id)
            .limit(1)
        )
        with self._read() as conn:
            if conn.execute(due).first() is None:
                return None
        with self._tx() as conn:
            row = conn.execute(due).first()
            if row is None:
                return None
            conn.execute(
                update(tasks)
                .where(tasks.c.id == row.id, tasks.c.state == "queued")
                .values(state="running", owner=owner, attempts=tasks.c.attempts + 1)
            )
        return _task(row, attempts=row.attempts + 1)

    def finish_task(
        self, task_id: int, state: str, error: str | None = None,
        then: tuple[str, dict[str, Any], datetime] | None = None,
    ) -> None:
        """End the task; `then` (kind, params, now) queues the resource's next task in the same transaction,
        so that no other task comes between them and a crash loses neither."""
        with self._tx() as conn:
            conn.execute(update(tasks).where(tasks.c.id == task_id).values(state=state, error=error))
            if then is not None:
                owner = select(tasks.c.resource_type, tasks.c.resource_id).where(tasks.c.id == task_id)
                row = conn.execute(owner).one()
                insert_task(conn, row.resource_type, row.resource_id, *then)

    def retry_task(self, task_id: int, not_before: datetime) -> None:
        with self._tx() as conn:
            conn.execute(
                update(tasks).where(tasks.c.id == task_id).values(state="queued", owner=None, not_before=not_before)
            )

    def orphaned_tasks(self, owner: str) -> list[Task]:
        """Tasks left running by a process that is gone."""
        with self._read() as conn:
            rows = conn.execute(select(tasks).where(tasks.c.state == "running", tasks.c.owner != owner))
            return [_task(row) for row in rows]

    def requeue_task(self, task_id: int) -> None:
        with self._tx() as conn:
            conn.execute(update(tasks).where(tasks.c.id == task_id).values(state="queued", owner=None))



def _task(row: Any, attempts: int | None = None) -> Task:
    params = row.params if isinstance(row.params, dict) else json.loads(row.params)
    return Task(
        row.id, row.resource_type, row.resource_id, row.kind, params, row.state,
        row.attempts if attempts is None else attempts,
    )

