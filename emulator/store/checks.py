"""Checks and writes that run inside another write's transaction: the store, not a caller's read, holds the
invariants."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Connection

from emulator.model import quotas
from emulator.model.records import Event
from emulator.model.validation import MAX_TAGS
from emulator.store.errors import (
    GroupGone,
    GroupMissing,
    HasReplicas,
    OptionGroupGone,
    QuotaReached,
    SnapshotGone,
    SnapshotInUse,
    SourceRefused,
    StateConflict,
    TooManyTags,
)
from emulator.store.prepared import INSERT_EVENT, INSERT_TAG, INSERT_TASK
from emulator.store.schema import (
    ACTIVE,
    db_security_groups,
    instances,
    option_groups,
    parameter_groups,
    snapshots,
    tags,
    tasks,
)


def check_group(conn: Connection, name: str | None) -> None:
    """Inside the transaction that makes an instance use a group: the group exists (default groups always
    do), so that no instance is left naming a group deleted meanwhile."""
    if name is None or name.startswith("default."):
        return
    if conn.scalar(select(parameter_groups.c.name).where(parameter_groups.c.name == name)) is None:
        raise GroupGone(name)


def check_option_group(conn: Connection, name: str | None) -> None:
    """Inside the transaction that puts an instance in an option group: the group exists (None: its default)."""
    if name is not None and conn.scalar(select(option_groups.c.name).where(option_groups.c.name == name)) is None:
        raise OptionGroupGone(name)


def check_snapshot_available(conn: Connection, identifier: str) -> None:
    """Inside the transaction that makes a copy of the snapshot, or an instance restored from it: it is still
    there and available (a delete checks its readers in its own transaction), SnapshotGone otherwise."""
    found = select(snapshots.c.identifier).where(snapshots.c.identifier == identifier,
                                                 snapshots.c.status == "available")
    if conn.scalar(found) is None:
        raise SnapshotGone(identifier)


def check_snapshot_unread(conn: Connection, identifier: str) -> None:
    """Inside the transaction that removes a snapshot: no copy of it is being made, and no restore from it is
    under way (each reads its bytes), SnapshotInUse otherwise."""
    copying = select(snapshots.c.identifier).where(snapshots.c.source_snapshot == identifier,
                                                   snapshots.c.status == "creating").limit(1)
    restoring = select(tasks.c.id).where(
        tasks.c.kind == "restore", tasks.c.state.in_(ACTIVE),
        func.json_extract(tasks.c.params, "$.snapshot") == identifier,
    ).limit(1)
    if conn.scalar(copying) is not None or conn.scalar(restoring) is not None:
        raise SnapshotInUse(identifier)


def check_security_groups(conn: Connection, names: list[str] | None) -> None:
    """Inside the transaction that puts an instance (or a rule) in DB security groups: they exist (a delete
    of one checks its instances in its own transaction), GroupMissing otherwise."""
    for name in names or []:
        if conn.scalar(select(db_security_groups.c.name).where(db_security_groups.c.name == name)) is None:
            raise GroupMissing(name)


def check_observed(conn: Connection, resource_id: str, observed: Iterable[str]) -> None:
    """Inside the transaction that queues an instance's task: StateConflict unless what the driver last
    observed of its server is one of `observed`."""
    state = conn.scalar(select(instances.c.observed).where(instances.c.resource_id == resource_id))
    if state not in set(observed):
        raise StateConflict(state)


def deferred(conn: Connection, resource_id: str, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The instance's waiting changes with `changes` joined to them, read and written in one transaction."""
    row = conn.execute(
        select(instances.c.pending, instances.c.pending_since).where(instances.c.resource_id == resource_id)
    ).first()
    if row is None:
        return {}
    return {"pending": {**(row.pending or {}), **changes}, "pending_since": row.pending_since or now}


def upsert_tags(conn: Connection, resource_id: str, pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        changed = conn.execute(
            update(tags).where(tags.c.resource_id == resource_id, tags.c.key == key).values(value=value)
        ).rowcount
        if not changed:
            conn.execute(INSERT_TAG, {"resource_id": resource_id, "key": key, "value": value})
    if pairs and conn.scalar(select(func.count()).where(tags.c.resource_id == resource_id)) > MAX_TAGS:
        raise TooManyTags(resource_id)


def insert_task(
    conn: Connection,
    resource_type: str,
    resource_id: str,
    kind: str,
    params: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
    key: str | None = None,
) -> int:
    result = conn.execute(
        INSERT_TASK,
        {
            "resource_type": resource_type, "resource_id": resource_id, "kind": kind, "params": params,
            "state": "queued", "attempts": 0, "created_at": now, "not_before": not_before, "key": key,
        },
    )
    return int(result.inserted_primary_key[0])


def insert_events(conn: Connection, events: Iterable[Event]) -> None:
    """Events written with the change they tell of: a crash never leaves one without the other."""
    for event in events:
        conn.execute(INSERT_EVENT, event.__dict__ | {"categories": "," + ",".join(event.categories) + ","})


def queue_storage_removal(conn: Connection, keys: Iterable[str], now: datetime) -> None:
    """Backup objects no row names any more are removed by a task queued with the rows' removal: the files
    go after the rows, never before, and a crash between the two only delays their removal."""
    for key in keys:
        insert_task(conn, "backup-storage", key, "delete", {}, now)


# The most read replicas one source may have: RDS's limit for MySQL and MariaDB.
MAX_REPLICAS = quotas.LIMITS["ReadReplicasPerMaster"]


def check_quota(conn: Connection, quota: str, table: Table, *where: Any) -> None:
    """Inside the transaction that adds one of the kind: QuotaReached when the account has its quota's worth."""
    if conn.scalar(select(func.count()).select_from(table).where(*where)) >= quotas.LIMITS[quota]:
        raise QuotaReached(quota)


def check_source(conn: Connection, resource_id: str) -> None:
    """Inside the transaction that makes a read replica: its source runs, no task of its own under way (a
    stop or a delete would take the server the replica is made from), and has room for one more replica."""
    row = conn.execute(select(instances.c.observed).where(instances.c.resource_id == resource_id)).first()
    if row is None:
        raise SourceRefused("gone")
    busy = select(tasks.c.id).where(tasks.c.resource_id == resource_id, tasks.c.state.in_(ACTIVE),
                                    tasks.c.kind.in_(("stop", "delete"))).limit(1)
    if row.observed != "running" or conn.scalar(busy) is not None:
        raise SourceRefused("state")
    count = conn.scalar(select(func.count()).select_from(instances).where(instances.c.replica_source == resource_id))
    if count >= MAX_REPLICAS:
        raise SourceRefused("replicas", MAX_REPLICAS)


def check_alone(conn: Connection, resource_id: str) -> None:
    """Inside the transaction that queues a stop: the instance neither follows a source nor has replicas."""
    follows = select(instances.c.replica_source).where(instances.c.resource_id == resource_id)
    followed = select(instances.c.resource_id).where(instances.c.replica_source == resource_id).limit(1)
    if conn.scalar(follows) is not None or conn.scalar(followed) is not None:
        raise HasReplicas(resource_id)
