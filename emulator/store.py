"""Persistence: the one source of truth. SQLAlchemy Core over a SQLite file by default.

Instances, their tags, events, and durable tasks. Every method is one short transaction; callers never
hold a connection.
"""

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from emulator.model.instance import TASK_FIELDS, Instance


class UtcDateTime(TypeDecorator):
    """SQLite keeps no zone: store naive UTC, hand back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = MetaData()

instances = Table(
    "instances",
    metadata,
    Column("resource_id", String, primary_key=True),
    Column("identifier", String, unique=True, nullable=False),
    Column("engine", String, nullable=False),
    Column("engine_version", String, nullable=False),
    Column("instance_class", String, nullable=False),
    Column("master_username", String, nullable=False),
    Column("password_hash", String, nullable=False),
    Column("allocated_storage", Integer, nullable=False),
    Column("storage_type", String, nullable=False),
    Column("port", Integer, nullable=False),
    Column("availability_zone", String, nullable=False),
    Column("backup_window", String, nullable=False),
    Column("maintenance_window", String, nullable=False),
    Column("retention", Integer, nullable=False),
    Column("parameter_group", String, nullable=False),
    Column("parameter_apply_status", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("db_name", String),
    Column("address", String),
    Column("observed", String, nullable=False),
    Column("multi_az", Boolean, nullable=False),
    Column("auto_minor_version_upgrade", Boolean, nullable=False),
    Column("publicly_accessible", Boolean, nullable=False),
    Column("deletion_protection", Boolean, nullable=False),
    Column("copy_tags_to_snapshot", Boolean, nullable=False),
    Column("stopped_at", UtcDateTime),
)

tags = Table(
    "tags",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", String, nullable=False, index=True),
    Column("key", String, nullable=False),
    Column("value", String, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("date", UtcDateTime, nullable=False, index=True),
    Column("source_type", String, nullable=False),
    Column("source_id", String, nullable=False),
    Column("source_arn", String, nullable=False),
    Column("message", String, nullable=False),
    # ",backup,availability,": a LIKE on ",name," filters by one category
    Column("categories", String, nullable=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", String, nullable=False, index=True),
    Column("kind", String, nullable=False),
    Column("params", JSON, nullable=False),
    # queued -> running -> done | failed
    Column("state", String, nullable=False, index=True),
    Column("owner", String),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
)

ACTIVE = ("queued", "running")
# In the order of Instance's fields, so that a row is the Instance's positional arguments, task last.
_INSTANCE_COLUMNS = [instances.c[f.name] for f in fields(Instance) if f.name not in TASK_FIELDS]
# Statements built once: SQLAlchemy then reuses their compiled form, which matters on the Describe path.
# The task under way, if any (there is at most one an instance), joined to its instance. The states are
# written into the SQL: bound values in an IN list would be re-expanded on every execution.
_UNDER_WAY = and_(
    tasks.c.resource_id == instances.c.resource_id,
    tasks.c.state.in_([literal_column(f"'{state}'") for state in ACTIVE]),
)
_ACTIVE_TASK = [tasks.c.kind.label("task"), tasks.c.params.label("task_params")]
_INSTANCES = select(*_INSTANCE_COLUMNS, *_ACTIVE_TASK).select_from(instances.outerjoin(tasks, _UNDER_WAY))
_BY_IDENTIFIER = _INSTANCES.where(instances.c.identifier == bindparam("identifier"))
_BY_RESOURCE_ID = _INSTANCES.where(instances.c.resource_id == bindparam("resource_id"))
_WITH_TAGS = (
    select(*_INSTANCE_COLUMNS, *_ACTIVE_TASK, tags.c.key, tags.c.value)
    .select_from(
        instances.outerjoin(tasks, _UNDER_WAY).outerjoin(tags, tags.c.resource_id == instances.c.resource_id)
    )
    .where(instances.c.identifier == bindparam("identifier"))
    .order_by(tags.c.seq)
)
_TAGS_OF = select(tags).where(tags.c.resource_id.in_(bindparam("ids", expanding=True))).order_by(tags.c.seq)


@dataclass(frozen=True)
class Task:
    id: int
    resource_id: str
    kind: str
    params: dict[str, Any]
    state: str
    attempts: int


@dataclass(frozen=True)
class Event:
    date: datetime
    source_type: str
    source_id: str
    source_arn: str
    message: str
    categories: list[str]


class TaskConflict(Exception):
    """The instance already has a task under way."""


class Store:
    def __init__(self, url: str):
        self.engine: Engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    # instances

    def add_instance(self, instance: Instance, pairs: list[tuple[str, str]], now: datetime) -> bool:
        """Insert the instance, its tags and its create task; False when the identifier is taken."""
        try:
            with self._tx() as conn:
                conn.execute(insert(instances).values(instance.to_row()))
                _upsert_tags(conn, instance.resource_id, pairs)
                _insert_task(conn, instance.resource_id, "create", {}, now)
        except IntegrityError:
            return False
        return True

    def used_ports(self) -> set[int]:
        with self._tx() as conn:
            return set(conn.scalars(select(instances.c.port)))

    def find_instance(self, identifier: str) -> Instance | None:
        with self._read() as conn:
            row = conn.execute(_BY_IDENTIFIER, {"identifier": identifier}).first()
        return Instance(*row) if row else None

    def find_instance_with_tags(self, identifier: str) -> tuple[Instance, list[dict[str, str]]] | None:
        """One statement for the commonest call of all, DescribeDBInstances by identifier."""
        with self._read() as conn:
            rows = conn.execute(_WITH_TAGS, {"identifier": identifier}).all()
        if not rows:
            return None
        width = len(_INSTANCE_COLUMNS) + len(_ACTIVE_TASK)
        pairs = [{"Key": row[width], "Value": row[width + 1]} for row in rows if row[width] is not None]
        return Instance(*rows[0][:width]), pairs

    def get_instance(self, resource_id: str) -> Instance | None:
        with self._read() as conn:
            row = conn.execute(_BY_RESOURCE_ID, {"resource_id": resource_id}).first()
        return Instance(*row) if row else None

    def list_instances(
        self,
        *,
        identifiers: Iterable[str] | None = None,
        resource_ids: Iterable[str] | None = None,
        engines: Iterable[str] | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Instance]:
        query = _INSTANCES
        conditions = []
        if identifiers is not None:
            conditions.append(instances.c.identifier.in_(list(identifiers)))
        if resource_ids is not None:
            conditions.append(instances.c.resource_id.in_(list(resource_ids)))
        if engines is not None:
            conditions.append(instances.c.engine.in_(list(engines)))
        if after is not None:
            conditions.append(instances.c.identifier > after)
        query = query.where(*conditions).order_by(instances.c.identifier).limit(limit)
        with self._read() as conn:
            return [Instance(*row) for row in conn.execute(query)]

    def update_instance(self, resource_id: str, **values: Any) -> None:
        with self._tx() as conn:
            conn.execute(update(instances).where(instances.c.resource_id == resource_id).values(**values))

    def remove_instance(self, resource_id: str) -> None:
        with self._tx() as conn:
            conn.execute(delete(instances).where(instances.c.resource_id == resource_id))
            conn.execute(delete(tags).where(tags.c.resource_id == resource_id))

    # tasks

    def queue_task(
        self, resource_id: str, kind: str, params: dict[str, Any], now: datetime, **instance_values: Any
    ) -> int:
        """Queue a task unless one is under way for the instance; apply instance_values in the same transaction."""
        with self._tx() as conn:
            busy = conn.execute(
                select(tasks.c.id).where(tasks.c.resource_id == resource_id, tasks.c.state.in_(ACTIVE))
            ).first()
            if busy:
                raise TaskConflict(resource_id)
            if instance_values:
                conn.execute(
                    update(instances).where(instances.c.resource_id == resource_id).values(**instance_values)
                )
            return _insert_task(conn, resource_id, kind, params, now)

    def claim_task(self, task_id: int, owner: str) -> Task | None:
        """Take a queued task for this process; None if another took it first."""
        with self._tx() as conn:
            taken = conn.execute(
                update(tasks)
                .where(tasks.c.id == task_id, tasks.c.state == "queued")
                .values(state="running", owner=owner, attempts=tasks.c.attempts + 1)
            ).rowcount
            if not taken:
                return None
            row = conn.execute(select(tasks).where(tasks.c.id == task_id)).one()
        return _task(row)

    def finish_task(self, task_id: int, state: str) -> None:
        with self._tx() as conn:
            conn.execute(update(tasks).where(tasks.c.id == task_id).values(state=state))

    def queued_task_ids(self) -> list[int]:
        with self._tx() as conn:
            return list(conn.scalars(select(tasks.c.id).where(tasks.c.state == "queued").order_by(tasks.c.id)))

    def orphaned_tasks(self, owner: str) -> list[Task]:
        """Tasks left running by a process that is gone."""
        with self._tx() as conn:
            rows = conn.execute(select(tasks).where(tasks.c.state == "running", tasks.c.owner != owner))
            return [_task(row) for row in rows]

    def requeue_task(self, task_id: int) -> None:
        with self._tx() as conn:
            conn.execute(update(tasks).where(tasks.c.id == task_id).values(state="queued", owner=None))

    # tags

    def tags_of(self, resource_ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
        found: dict[str, list[dict[str, str]]] = {}
        with self._read() as conn:
            for row in conn.execute(_TAGS_OF, {"ids": list(resource_ids)}):
                found.setdefault(row.resource_id, []).append({"Key": row.key, "Value": row.value})
        return found

    def tags_for(self, resource_id: str) -> list[dict[str, str]]:
        return self.tags_of([resource_id]).get(resource_id, [])

    def set_tags(self, resource_id: str, pairs: list[tuple[str, str]]) -> None:
        with self._tx() as conn:
            _upsert_tags(conn, resource_id, pairs)

    def remove_tags(self, resource_id: str, keys: list[str]) -> None:
        with self._tx() as conn:
            conn.execute(delete(tags).where(tags.c.resource_id == resource_id, tags.c.key.in_(keys)))

    # events

    def add_event(self, event_: Event) -> None:
        row = event_.__dict__ | {"categories": "," + ",".join(event_.categories) + ","}
        with self._tx() as conn:
            conn.execute(insert(events).values(**row))

    def list_events(
        self,
        *,
        start: datetime,
        end: datetime,
        source_type: str | None = None,
        source_id: str | None = None,
        categories: list[str] | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[tuple[int, Event]]:
        query = select(events).where(events.c.date >= start, events.c.date <= end, events.c.id > after_id)
        if source_type:
            query = query.where(events.c.source_type == source_type)
        if source_id:
            query = query.where(events.c.source_id == source_id)
        if categories:
            query = query.where(or_(*(events.c.categories.like(f"%,{name},%") for name in categories)))
        with self._tx() as conn:
            rows = conn.execute(query.order_by(events.c.id).limit(limit))
            return [(row.id, _event(row)) for row in rows]

    def purge_events(self, before: datetime) -> int:
        with self._tx() as conn:
            return conn.execute(delete(events).where(events.c.date < before)).rowcount


def _upsert_tags(conn: Connection, resource_id: str, pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        changed = conn.execute(
            update(tags).where(tags.c.resource_id == resource_id, tags.c.key == key).values(value=value)
        ).rowcount
        if not changed:
            conn.execute(insert(tags).values(resource_id=resource_id, key=key, value=value))


def _insert_task(conn: Connection, resource_id: str, kind: str, params: dict[str, Any], now: datetime) -> int:
    result = conn.execute(
        insert(tasks).values(
            resource_id=resource_id, kind=kind, params=params, state="queued", attempts=0, created_at=now
        )
    )
    return int(result.inserted_primary_key[0])


def _task(row: Any) -> Task:
    params = row.params if isinstance(row.params, dict) else json.loads(row.params)
    return Task(row.id, row.resource_id, row.kind, params, row.state, row.attempts)


def _event(row: Any) -> Event:
    return Event(
        row.date, row.source_type, row.source_id, row.source_arn, row.message, row.categories.strip(",").split(",")
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
