"""DB snapshots and the archived binary logs that point-in-time restores replay."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from emulator.model.keys import snapshot_key
from emulator.model.records import Event
from emulator.model.snapshot import Snapshot
from emulator.store.base import StoreBase
from emulator.store.checks import (
    check_observed,
    check_quota,
    check_snapshot_available,
    check_snapshot_unread,
    insert_events,
    insert_task,
    queue_storage_removal,
    upsert_tags,
)
from emulator.store.errors import NameTaken, TaskConflict
from emulator.store.schema import binlogs, snapshots, tags


class Snapshots(StoreBase):
    def queue_snapshot(
        self, snapshot: Snapshot, pairs: list[tuple[str, str]], now: datetime, kind: str = "backup",
        params: dict[str, Any] | None = None, observed: Iterable[str] = ("running",),
    ) -> None:
        """The snapshot (status `creating`), its tags, and the instance's task that takes it (a backup, or
        a stop or delete after it), in one transaction. NameTaken when the name is in use; StateConflict
        unless the instance's observed state is one of `observed`; TaskConflict when it has a task under way."""
        try:
            with self._tx() as conn:
                check_observed(conn, snapshot.instance_resource_id, observed)
                if conn.scalar(select(snapshots.c.identifier).where(snapshots.c.identifier == snapshot.identifier)):
                    raise NameTaken(snapshot.identifier)
                _check_manual_quota(conn, snapshot)
                conn.execute(insert(snapshots).values(snapshot.to_row()))
                upsert_tags(conn, snapshot_key(snapshot.identifier), pairs)
                insert_task(conn, "db-instance", snapshot.instance_resource_id, kind,
                             {"snapshot": snapshot.identifier, **(params or {})}, now)
        except IntegrityError:
            raise TaskConflict(snapshot.instance_resource_id) from None

    def add_snapshot(self, snapshot: Snapshot, pairs: list[tuple[str, str]], events: Iterable[Event] = ()) -> None:
        """The snapshot, its tags, and the events that tell of it; NameTaken when the name is in use."""
        try:
            with self._tx() as conn:
                _check_manual_quota(conn, snapshot)
                conn.execute(insert(snapshots).values(snapshot.to_row()))
                upsert_tags(conn, snapshot_key(snapshot.identifier), pairs)
                insert_events(conn, events)
        except IntegrityError:
            raise NameTaken(snapshot.identifier) from None

    def add_copy(self, snapshot: Snapshot, pairs: list[tuple[str, str]], source_key: str, now: datetime) -> None:
        """A copy of a snapshot (status `creating`), its tags, and the task that copies the bytes, in one
        transaction; NameTaken when the name is in use, SnapshotGone when the source is no longer available."""
        try:
            with self._tx() as conn:
                check_snapshot_available(conn, snapshot.source_snapshot)
                _check_manual_quota(conn, snapshot)
                conn.execute(insert(snapshots).values(snapshot.to_row()))
                upsert_tags(conn, snapshot_key(snapshot.identifier), pairs)
                insert_task(conn, "db-snapshot", snapshot.identifier, "copy", {"source_key": source_key}, now)
        except IntegrityError:
            raise NameTaken(snapshot.identifier) from None

    def get_snapshot(self, identifier: str) -> Snapshot | None:
        with self._read() as conn:
            row = conn.execute(select(snapshots).where(snapshots.c.identifier == identifier)).first()
        return Snapshot(*row) if row else None

    def list_snapshots(
        self,
        *,
        identifiers: Iterable[str] | None = None,
        instance_identifiers: Iterable[str] | None = None,
        instance_resource_ids: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        engines: Iterable[str] | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Snapshot]:
        query = select(snapshots)
        for column, values in ((snapshots.c.identifier, identifiers), (snapshots.c.engine, engines),
                               (snapshots.c.instance_identifier, instance_identifiers),
                               (snapshots.c.instance_resource_id, instance_resource_ids),
                               (snapshots.c.snapshot_type, types), (snapshots.c.status, statuses)):
            if values is not None:
                query = query.where(column.in_(list(values)))
        if after is not None:
            query = query.where(snapshots.c.identifier > after)
        with self._read() as conn:
            return [Snapshot(*row) for row in conn.execute(query.order_by(snapshots.c.identifier).limit(limit))]

    def update_snapshot(self, identifier: str, events: Iterable[Event] = (), **values: Any) -> None:
        """Change the snapshot, and write the events that tell of it in the same transaction."""
        with self._tx() as conn:
            conn.execute(update(snapshots).where(snapshots.c.identifier == identifier).values(**values))
            insert_events(conn, events)

    def retain_automated(self, resource_id: str, days: int, until: datetime | None) -> None:
        """The instance's automated snapshots outlive it, for `days` days each, restorable up to `until`."""
        with self._tx() as conn:
            conn.execute(update(snapshots).where(snapshots.c.instance_resource_id == resource_id,
                                                 snapshots.c.snapshot_type == "automated")
                         .values(retention=days, retained_until=until))

    def remove_snapshot(self, identifier: str, now: datetime, statuses: Iterable[str] = ("available", "failed"),
                        events: Iterable[Event] = ()) -> Snapshot | None:
        """Remove the snapshot and its tags if its status is one of `statuses`, queue the removal of its bytes,
        and write `events`, in one transaction; what was removed, or None. SnapshotInUse while a copy or a
        restore reads it."""
        with self._tx() as conn:
            row = conn.execute(
                select(snapshots).where(snapshots.c.identifier == identifier, snapshots.c.status.in_(list(statuses)))
            ).first()
            if row is None:
                return None
            check_snapshot_unread(conn, identifier)
            conn.execute(delete(snapshots).where(snapshots.c.identifier == identifier))
            conn.execute(delete(tags).where(tags.c.resource_id == snapshot_key(identifier)))
            queue_storage_removal(conn, [row.storage_key], now)
            insert_events(conn, events)
        return Snapshot(*row)

    # archived binary logs

    def add_binlog(self, resource_id: str, name: str, storage_key: str, size: int, closed_at: datetime,
                   clock_offset: float) -> None:
        """Record an archived file; archiving it again (after a crash) only updates the record."""
        with self._tx() as conn:
            conn.execute(delete(binlogs).where(binlogs.c.instance_resource_id == resource_id, binlogs.c.name == name))
            conn.execute(insert(binlogs).values(instance_resource_id=resource_id, name=name, storage_key=storage_key,
                                                size=size, closed_at=closed_at, clock_offset=clock_offset))

    def oldest_binlogs(self) -> dict[str, str]:
        """Each instance's oldest archived binary log, by resource id."""
        query = select(binlogs.c.instance_resource_id, func.min(binlogs.c.name)).group_by(
            binlogs.c.instance_resource_id)
        with self._read() as conn:
            return dict(conn.execute(query).all())

    def binlogs_of(self, resource_id: str) -> list[dict[str, Any]]:
        """The instance's archived binary logs, in the order the server wrote them."""
        query = select(binlogs).where(binlogs.c.instance_resource_id == resource_id).order_by(binlogs.c.name)
        with self._read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def remove_binlogs(self, resource_id: str, names: Iterable[str], now: datetime) -> None:
        """Forget these archived logs, and queue the removal of their bytes."""
        which = (binlogs.c.instance_resource_id == resource_id, binlogs.c.name.in_(list(names)))
        with self._tx() as conn:
            keys = conn.scalars(select(binlogs.c.storage_key).where(*which)).all()
            conn.execute(delete(binlogs).where(*which))
            queue_storage_removal(conn, keys, now)


def _check_manual_quota(conn: Connection, snapshot: Snapshot) -> None:
    if snapshot.snapshot_type == "manual":
        check_quota(conn, "ManualSnapshots", snapshots, snapshots.c.snapshot_type == "manual")
