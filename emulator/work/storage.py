"""Work on backup storage, never done inside a request: a snapshot's copy, and the removal of objects that no
row names any more (queued with the removal of the rows that named them)."""

import logging

from emulator.context import Context
from emulator.failures import Failure
from emulator.model.records import Task
from emulator.model.snapshot import Snapshot
from emulator.work.runner import ResourceWork

log = logging.getLogger(__name__)


def copy(ctx: Context, snapshot: Snapshot, task: Task) -> None:
    """CopyDBSnapshot's bytes: a second name for the source's (storage objects never change once written)."""
    if snapshot.status != "creating":
        return  # copied by this task's earlier, interrupted run
    try:
        ctx.backups.copy(task.params["source_key"], snapshot.storage_key)
    except FileNotFoundError:
        raise Failure(f"the snapshot {snapshot.source_snapshot} was deleted before it could be copied") from None
    done = ctx.snapshot_event(snapshot.identifier, "Manual snapshot created")
    ctx.store.update_snapshot(snapshot.identifier, [done], status="available", progress=100)


def copy_failed(ctx: Context, snapshot: Snapshot, reason: str) -> None:
    log.error("the copy into snapshot %s failed: %s", snapshot.identifier, reason)
    ctx.store.update_snapshot(snapshot.identifier, [ctx.snapshot_event(snapshot.identifier, "Snapshot failed")],
                              status="failed")


def delete(ctx: Context, key: str, task: Task) -> None:
    ctx.backups.delete(key)


def delete_failed(ctx: Context, key: str, reason: str) -> None:
    log.error("the backup object %s could not be removed: %s", key, reason)


SNAPSHOT_WORK = ResourceWork(load=lambda ctx, name: ctx.store.get_snapshot(name), work={"copy": copy},
                             fail=copy_failed)
STORAGE_WORK = ResourceWork(load=lambda ctx, key: key, work={"delete": delete}, fail=delete_failed)
