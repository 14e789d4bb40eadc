"""Persistence: the one source of truth. SQLAlchemy Core over a SQLite file by default.

Instances, subnet groups, parameter groups, tags, events, and durable tasks. Every method is one short
transaction; callers never hold a connection. The invariants live here, in constraints and conditional
writes, not in callers' reads: one task under way per resource, one instance per identifier and per
endpoint, 50 tags a resource, no instance in a group that is gone.
The schema is made and upgraded by the Alembic migrations in emulator/migrations, at start-up.
"""

import json
import pathlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from emulator.model.instance import TASK_FIELDS, Instance
from emulator.model.snapshot import Snapshot
from emulator.model.validation import MAX_TAGS


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
    Column("subnet_group", String, nullable=False, server_default="default"),
    Column("vpc_security_groups", JSON, nullable=False, server_default="[]"),
    Column("iops", Integer),
    Column("storage_throughput", Integer),
    Column("server_parameters", JSON, nullable=False, server_default="{}"),
    Column("server_parameter_group", String),
    Column("parameter_failures", JSON, nullable=False, server_default="{}"),
    Column("logs_rotated_at", UtcDateTime),
    Column("restorable_until", UtcDateTime),
    Column("binlog_mark", JSON),
    Column("pending", JSON, nullable=False, server_default="{}"),
    Column("pending_since", UtcDateTime),
    Column("upgrade_opt_in", String),
    Column("system_update_opt_in", String),
    Column("db_security_groups", JSON, nullable=False, server_default="[]"),
    Index("uq_instances_endpoint", "address", "port", unique=True),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("identifier", String, primary_key=True),
    Column("instance_resource_id", String, nullable=False, index=True),
    Column("instance_identifier", String, nullable=False),
    Column("snapshot_type", String, nullable=False),
    Column("status", String, nullable=False),
    Column("progress", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("instance_created_at", UtcDateTime, nullable=False),
    Column("engine", String, nullable=False),
    Column("engine_version", String, nullable=False),
    Column("instance_class", String, nullable=False),
    Column("allocated_storage", Integer, nullable=False),
    Column("storage_type", String, nullable=False),
    Column("iops", Integer),
    Column("storage_throughput", Integer),
    Column("port", Integer, nullable=False),
    Column("availability_zone", String, nullable=False),
    Column("master_username", String, nullable=False),
    Column("password_hash", String, nullable=False),
    Column("db_name", String),
    Column("storage_key", String, nullable=False),
    Column("size", Integer, nullable=False),
    Column("binlog_file", String),
    Column("binlog_position", Integer),
    Column("source_snapshot", String),
    Column("restore_accounts", JSON, nullable=False, server_default="[]"),
    Column("data_time", UtcDateTime),
    Column("retention", Integer),
    Column("retained_until", UtcDateTime),
)

# An instance's binary log files, each archived once the server closed it.
binlogs = Table(
    "binlogs",
    metadata,
    Column("instance_resource_id", String, primary_key=True),
    Column("name", String, primary_key=True),
    Column("storage_key", String, nullable=False),
    Column("size", Integer, nullable=False),
    # the emulator's time when the server closed the file: everything before it is in this file or earlier
    Column("closed_at", UtcDateTime, nullable=False),
    # the emulator's clock minus the host's then, in seconds: the server stamps events with the host's time
    Column("clock_offset", Float, nullable=False),
)

# What the emulator keeps of itself: the clock's offset.
emulator_state = Table(
    "emulator_state",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", String, nullable=False),
)

parameter_groups = Table(
    "parameter_groups",
    metadata,
    Column("name", String, primary_key=True),
    Column("family", String, nullable=False),
    Column("description", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# The values users set in their groups; a default group has none, and every group's other parameters
# have their engine's or the system's value.
group_parameters = Table(
    "group_parameters",
    metadata,
    Column("group_name", String, primary_key=True),
    Column("name", String, primary_key=True),
    Column("value", String, nullable=False),
    Column("method", String, nullable=False),
)

subnet_groups = Table(
    "subnet_groups",
    metadata,
    Column("name", String, primary_key=True),
    Column("description", String, nullable=False),
    # [{"id": "subnet-...", "zone": "us-east-1a"}, ...]
    Column("subnets", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# DB security groups, and the ingress each lets in: a CIDR range (kind `cidr`) or an EC2 security group
# (kind `ec2`, recorded only: no EC2 instance reaches the emulator). Rules are `authorizing` until they are
# applied where the instances listen, then `authorized`; `revoking` until they are gone from there.
db_security_groups = Table(
    "db_security_groups",
    metadata,
    Column("name", String, primary_key=True),
    Column("description", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

db_security_group_rules = Table(
    "db_security_group_rules",
    metadata,
    Column("group_name", String, primary_key=True),
    Column("kind", String, primary_key=True),
    Column("value", String, primary_key=True),
    Column("owner_id", String),
    Column("status", String, nullable=False),
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

ACTIVE = ("queued", "running")
_ACTIVE_SQL = "state IN ('queued', 'running')"

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", String, nullable=False, index=True),
    Column("kind", String, nullable=False),
    Column("params", JSON, nullable=False),
    # queued -> running -> done | failed; a retried step goes back to queued with a later not_before
    Column("state", String, nullable=False, index=True),
    Column("owner", String),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("resource_type", String, nullable=False, server_default="db-instance"),
    # not run before this time of the emulator's clock
    Column("not_before", UtcDateTime),
    # scheduled work names itself, so that it is queued once however often its job looks
    Column("key", String),
    Column("error", String),
    UniqueConstraint("key", name="uq_tasks_key"),
    Index(
        "uq_tasks_one_under_way", "resource_type", "resource_id", unique=True,
        sqlite_where=text(_ACTIVE_SQL), postgresql_where=text(_ACTIVE_SQL),
    ),
)
MIGRATIONS = pathlib.Path(__file__).with_name("migrations")
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


class _Prepared:
    """A SELECT compiled once and run straight on a DB-API connection, each value converted by its column's
    own type. On the Describe path SQLAlchemy's execution machinery costs several times the query itself;
    this keeps the types and the SQL SQLAlchemy's, and skips the rest."""

    def __init__(self, statement: Any):
        self.statement = statement
        self.sql: str | None = None

    def rows(self, readers: "_Readers", **params: Any) -> Sequence[tuple]:
        return self.convert(self.raw(readers, **params))

    def raw(self, readers: "_Readers", **params: Any) -> list[tuple]:
        """The rows as SQLite gives them."""
        if self.sql is None:
            self._compile(readers.engine)
        # the statement's own bound values (an OFFSET's 0, say) under the caller's
        values = self.compiled.construct_params(params)
        return readers.fetch(self.sql, [values[name] for name in self.names])

    def convert(self, fetched: Sequence[tuple]) -> Sequence[tuple]:
        if not self.converting:
            return fetched  # plain columns (text, numbers): the rows as SQLite gave them
        converted = []
        for row in fetched:
            values = list(row)
            for index, convert in self.converting:
                if values[index] is not None:
                    values[index] = convert(values[index])
            converted.append(tuple(values))
        return converted

    def _compile(self, engine: Engine) -> None:
        compiled = self.compiled = self.statement.compile(engine)
        self.names = compiled.positiontup
        self.converting = [
            (index, _empty_at_once(convert) if isinstance(column.type, JSON) else convert)
            for index, column in enumerate(self.statement.selected_columns)
            if (convert := column.type.dialect_impl(engine.dialect).result_processor(engine.dialect, None))
        ]
        self.sql = str(compiled)


def _empty_at_once(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Most JSON values on a row are empty (or null): those need no parser (0.1 µs, not 1.8)."""

    def fast(value: Any) -> Any:
        if value == "{}":
            return {}
        if value == "[]":
            return []
        if value == "null":
            return None
        return convert(value)

    return fast


class _Readers:
    """DB-API connections kept for the prepared reads. Borrowing one from SQLAlchemy's pool and giving it back
    (which rolls back) took about 15 µs of a 45 µs lookup; each of these reads is one statement in autocommit, so
    it leaves nothing to roll back. list.pop and list.append are atomic: no lock is needed."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.idle: list[Any] = []

    def fetch(self, sql: str, values: list[Any]) -> list[tuple]:
        try:
            connection = self.idle.pop()
        except IndexError:
            connection = self._new()
        try:
            return connection.execute(sql, values).fetchall()
        finally:
            self.idle.append(connection)

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()

    def _new(self) -> Any:
        """A connection taken out of the pool for good, set up as every other one (WAL, autocommit)."""
        pooled = self.engine.raw_connection()
        connection = pooled.driver_connection
        pooled.detach()
        return connection


_FAST_WITH_TAGS = _Prepared(_WITH_TAGS)
_FAST_ENDPOINTS = _Prepared(select(instances.c.address, instances.c.port))
# A DescribeDBInstances page with no filter: the first one, and those after a marker.
_ORDERED = _INSTANCES.order_by(instances.c.identifier).limit(bindparam("limit"))
_FAST_FIRST_PAGE = _Prepared(_ORDERED)
_FAST_NEXT_PAGE = _Prepared(_ORDERED.where(instances.c.identifier > bindparam("after")))
_FAST_ALL = _Prepared(_INSTANCES.order_by(instances.c.identifier))
# Inserts whose values come as parameters, so that their compiled form is reused.
_INSERT_INSTANCE = insert(instances)
_INSERT_EVENT = insert(events)
_INSERT_TAG = insert(tags)
_INSERT_TASK = insert(tasks)
_TAGS_OF = select(tags).where(tags.c.resource_id.in_(bindparam("ids", expanding=True))).order_by(tags.c.seq)


@dataclass(frozen=True)
class Task:
    id: int
    resource_type: str
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


@dataclass(frozen=True)
class SubnetGroup:
    name: str
    description: str
    subnets: list[dict[str, str]]
    created_at: datetime


@dataclass
class SecurityGroup:
    name: str
    description: str
    created_at: datetime


@dataclass
class IngressRule:
    group_name: str
    kind: str  # cidr | ec2
    value: str  # the CIDR range, or the EC2 security group's name
    owner_id: str | None
    status: str  # authorizing | authorized | revoking


class GroupMissing(Exception):
    """The DB security group named is not there (any more)."""


class RuleTaken(Exception):
    """The group already lets that ingress in."""


class TaskConflict(Exception):
    """The resource already has a task under way."""


class StateConflict(Exception):
    """The resource is not in a state that allows the task."""


class NameTaken(Exception):
    """Another resource of the kind already has this name."""


class PortTaken(Exception):
    """Another instance already has this endpoint."""


class TooManyTags(Exception):
    """The resource would have more than MAX_TAGS tags."""


class GroupGone(Exception):
    """The DB parameter group an instance was to use does not exist (any more)."""


@dataclass(frozen=True)
class ParameterGroup:
    name: str
    family: str
    description: str
    created_at: datetime


@dataclass(frozen=True)
class GroupValue:
    value: str
    method: str


class Store:
    def __init__(self, url: str):
        self.engine: Engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_connect)
        event.listen(self.engine, "begin", _sqlite_begin)
        # SQLite lets one writer in at a time. Writers of this process queue here, and the next goes in as
        # soon as the last is done; waiting in SQLite's busy handler instead sleeps 1, 2, 5, 10 ms... between
        # tries, which cost each request that met a task's transaction 8 ms on average.
        self._writing = threading.RLock()
        self._readers = _Readers(self.engine)
        self.upgrade()

    def upgrade(self) -> None:
        """Bring the schema to the newest migration; a store from before migrations is stamped first."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as conn:
            config.attributes["connection"] = conn
            names = set(inspect(conn).get_table_names())
            if "instances" in names and "alembic_version" not in names:
                command.stamp(config, "0001")
            command.upgrade(config, "head")
            conn.commit()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A write transaction: it takes the write lock at BEGIN, so its reads see what it will write over."""
        with self._writing, self.engine.connect().execution_options(write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self._readers.close()
        self.engine.dispose()

    # instances

    def add_instance(
        self, instance: Instance, pairs: list[tuple[str, str]], now: datetime,
        task: tuple[str, dict[str, Any]] = ("create", {}),
    ) -> None:
        """Insert the instance, its tags and the task that makes its server (create, or restore with its
        params); NameTaken or PortTaken when either is in use."""
        try:
            with self._tx() as conn:
                _check_group(conn, instance.parameter_group)
                _check_security_groups(conn, instance.db_security_groups)
                conn.execute(_INSERT_INSTANCE, instance.to_row())
                _upsert_tags(conn, instance.resource_id, pairs)
                _insert_task(conn, "db-instance", instance.resource_id, *task, now)
        except IntegrityError:
            if self.find_instance(instance.identifier) is not None:
                raise NameTaken(instance.identifier) from None
            raise PortTaken(instance.port) from None

    def used_endpoints(self) -> set[tuple[str, int]]:
        return set(_FAST_ENDPOINTS.rows(self._readers))

    def find_instance(self, identifier: str) -> Instance | None:
        with self._read() as conn:
            row = conn.execute(_BY_IDENTIFIER, {"identifier": identifier}).first()
        return Instance(*row) if row else None

    def instance_rows(self, identifier: str) -> tuple[tuple, ...]:
        """One statement for the commonest call of all, DescribeDBInstances by identifier: the instance, its
        task under way and its tags (a row each), as SQLite holds them; none when there is no such instance.
        `instance_of` converts them."""
        return tuple(_FAST_WITH_TAGS.raw(self._readers, identifier=identifier))

    @staticmethod
    def instance_of(raw: tuple[tuple, ...]) -> tuple[Instance, list[dict[str, str]]]:
        rows = _FAST_WITH_TAGS.convert(raw)
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
        parameter_groups: Iterable[str] | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Instance]:
        unfiltered = identifiers is None and resource_ids is None and engines is None and parameter_groups is None
        if unfiltered and after is None and limit is None:
            return [Instance(*row) for row in _FAST_ALL.rows(self._readers)]
        if unfiltered and limit is not None:
            if after is None:
                return [Instance(*row) for row in _FAST_FIRST_PAGE.rows(self._readers, limit=limit)]
            return [Instance(*row) for row in _FAST_NEXT_PAGE.rows(self._readers, after=after, limit=limit)]
        query = _INSTANCES
        conditions = []
        if identifiers is not None:
            conditions.append(instances.c.identifier.in_(list(identifiers)))
        if resource_ids is not None:
            conditions.append(instances.c.resource_id.in_(list(resource_ids)))
        if engines is not None:
            conditions.append(instances.c.engine.in_(list(engines)))
        if parameter_groups is not None:
            conditions.append(instances.c.parameter_group.in_(list(parameter_groups)))
        if after is not None:
            conditions.append(instances.c.identifier > after)
        query = query.where(*conditions).order_by(instances.c.identifier).limit(limit)
        with self._read() as conn:
            return [Instance(*row) for row in conn.execute(query)]

    def record_applied(self, resource_id: str, applied: dict[str, str | None], failed: dict[str, str]) -> None:
        """Parameters the server now runs with (None: back to its default) and values it refused, merged
        into what the instance has in one transaction: appliers running side by side lose nothing."""
        with self._tx() as conn:
            row = conn.execute(
                select(instances.c.server_parameters, instances.c.parameter_failures)
                .where(instances.c.resource_id == resource_id)
            ).first()
            if row is None:
                return
            running = {**row.server_parameters, **applied}
            failures = {name: value for name, value in {**row.parameter_failures, **failed}.items()
                        if name not in applied}
            conn.execute(
                update(instances).where(instances.c.resource_id == resource_id).values(
                    server_parameters={k: v for k, v in running.items() if v is not None},
                    parameter_failures=failures,
                )
            )

    def start_log_hours(self, hour: datetime) -> None:
        """Instances whose logs no hour covers yet: their current files cover this one, from now on."""
        with self._tx() as conn:
            conn.execute(update(instances).where(instances.c.logs_rotated_at.is_(None)).values(logs_rotated_at=hour))

    def claim_rotation(self, resource_id: str, previous: datetime, hour: datetime) -> bool:
        """Move the instance's log hour from `previous` to `hour`; False when someone else already did."""
        unchanged = instances.c.logs_rotated_at == previous
        with self._tx() as conn:
            return bool(conn.execute(
                update(instances).where(instances.c.resource_id == resource_id, unchanged).values(logs_rotated_at=hour)
            ).rowcount)

    def update_instance(self, resource_id: str, **values: Any) -> None:
        """NameTaken when a rename meets another instance's identifier."""
        try:
            with self._tx() as conn:
                conn.execute(update(instances).where(instances.c.resource_id == resource_id).values(**values))
        except IntegrityError:
            raise NameTaken(values.get("identifier")) from None

    def set_restorable(self, times: dict[str, datetime]) -> None:
        """Instances restorable up to these times, by resource id, in one transaction."""
        if not times:
            return
        with self._tx() as conn:
            conn.execute(update(instances).where(instances.c.resource_id == bindparam("rid"))
                         .values(restorable_until=bindparam("until")),
                         [{"rid": rid, "until": until} for rid, until in times.items()])

    def update_instance_when(
        self, resource_id: str, observed: Iterable[str], defer: tuple[dict[str, Any], datetime] | None = None,
        **values: Any,
    ) -> bool:
        """Update the instance only while it has no task under way and its observed state is one of
        `observed`; False when it had not. `defer` (changes, now): the changes join those waiting for the
        maintenance window. NameTaken as update_instance."""
        idle = ~select(tasks.c.id).where(tasks.c.resource_id == resource_id, tasks.c.state.in_(ACTIVE)).exists()
        try:
            with self._tx() as conn:
                _check_group(conn, values.get("parameter_group"))
                _check_security_groups(conn, values.get("db_security_groups"))
                if defer:
                    values |= _deferred(conn, resource_id, *defer)
                return bool(
                    conn.execute(
                        update(instances)
                        .where(instances.c.resource_id == resource_id, instances.c.observed.in_(list(observed)), idle)
                        .values(**values)
                    ).rowcount
                )
        except IntegrityError:
            raise NameTaken(values.get("identifier")) from None

    def remove_instance(self, resource_id: str) -> None:
        with self._tx() as conn:
            conn.execute(delete(instances).where(instances.c.resource_id == resource_id))
            conn.execute(delete(tags).where(tags.c.resource_id == resource_id))

    # tasks

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
        defer: dict[str, Any] | None = None,
        **instance_values: Any,
    ) -> int | None:
        """Queue a task, and apply instance_values, in one transaction. TaskConflict when the resource has a
        task under way; StateConflict when an instance's observed state is not one of `observed`; None
        (and nothing done) when a task with this key was queued before. `take_pending`: the changes that
        waited for the maintenance window become the task's (under its own params); `defer`: these changes
        join them instead."""
        try:
            with self._tx() as conn:
                if key is not None and conn.scalar(select(tasks.c.id).where(tasks.c.key == key)) is not None:
                    return None
                if observed is not None:
                    _check_observed(conn, resource_id, observed)
                if take_pending:
                    waiting = conn.scalar(select(instances.c.pending).where(instances.c.resource_id == resource_id))
                    params = {**(waiting or {}), **params}
                    instance_values |= {"pending": {}, "pending_since": None}
                if defer:
                    instance_values |= _deferred(conn, resource_id, defer, now)
                if instance_values:
                    _check_group(conn, instance_values.get("parameter_group"))
                    _check_security_groups(conn, instance_values.get("db_security_groups"))
                    conn.execute(
                        update(instances).where(instances.c.resource_id == resource_id).values(**instance_values)
                    )
                return _insert_task(conn, resource_type, resource_id, kind, params, now, not_before, key)
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
                _insert_task(conn, row.resource_type, row.resource_id, *then)

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

    # subnet groups

    def add_subnet_group(self, group: SubnetGroup, pairs: list[tuple[str, str]]) -> None:
        try:
            with self._tx() as conn:
                conn.execute(insert(subnet_groups).values(group.__dict__))
                _upsert_tags(conn, subnet_group_key(group.name), pairs)
        except IntegrityError:
            raise NameTaken(group.name) from None

    def get_subnet_group(self, name: str) -> SubnetGroup | None:
        with self._read() as conn:
            row = conn.execute(select(subnet_groups).where(subnet_groups.c.name == name)).first()
        return SubnetGroup(*row) if row else None

    def list_subnet_groups(self, *, after: str | None = None, limit: int | None = None) -> list[SubnetGroup]:
        query = select(subnet_groups).order_by(subnet_groups.c.name).limit(limit)
        if after is not None:
            query = query.where(subnet_groups.c.name > after)
        with self._read() as conn:
            return [SubnetGroup(*row) for row in conn.execute(query)]

    def update_subnet_group(self, name: str, **values: Any) -> None:
        with self._tx() as conn:
            conn.execute(update(subnet_groups).where(subnet_groups.c.name == name).values(**values))

    def remove_subnet_group(self, name: str) -> bool:
        """False, with nothing removed, while an instance uses the group."""
        with self._tx() as conn:
            if conn.scalar(select(instances.c.resource_id).where(instances.c.subnet_group == name).limit(1)):
                return False
            conn.execute(delete(subnet_groups).where(subnet_groups.c.name == name))
            conn.execute(delete(tags).where(tags.c.resource_id == subnet_group_key(name)))
        return True

    # DB security groups

    def add_security_group(self, group: SecurityGroup, pairs: list[tuple[str, str]]) -> None:
        try:
            with self._tx() as conn:
                conn.execute(insert(db_security_groups).values(group.__dict__))
                _upsert_tags(conn, security_group_key(group.name), pairs)
        except IntegrityError:
            raise NameTaken(group.name) from None

    def get_security_group(self, name: str) -> tuple[SecurityGroup, list[IngressRule]] | None:
        with self._read() as conn:
            row = conn.execute(select(db_security_groups).where(db_security_groups.c.name == name)).first()
            rules = conn.execute(select(db_security_group_rules).where(db_security_group_rules.c.group_name == name)
                                 .order_by(db_security_group_rules.c.kind, db_security_group_rules.c.value)).all()
        return (SecurityGroup(*row), [IngressRule(*rule) for rule in rules]) if row else None

    def list_security_groups(self, *, after: str | None = None,
                             limit: int | None = None) -> list[tuple[SecurityGroup, list[IngressRule]]]:
        query = select(db_security_groups).order_by(db_security_groups.c.name).limit(limit)
        if after is not None:
            query = query.where(db_security_groups.c.name > after)
        with self._read() as conn:
            groups = [SecurityGroup(*row) for row in conn.execute(query)]
            rules = conn.execute(select(db_security_group_rules).where(
                db_security_group_rules.c.group_name.in_([group.name for group in groups]))
                .order_by(db_security_group_rules.c.kind, db_security_group_rules.c.value)).all()
        return [(group, [IngressRule(*rule) for rule in rules if rule.group_name == group.name]) for group in groups]

    def add_rule(self, rule: IngressRule, now: datetime) -> None:
        """The rule, `authorizing`, and the task that applies it, in one transaction. GroupMissing when the
        group is gone; RuleTaken when it already has the rule (in any status)."""
        try:
            with self._tx() as conn:
                _check_security_groups(conn, [rule.group_name])
                conn.execute(insert(db_security_group_rules).values(rule.__dict__ | {"status": "authorizing"}))
                _insert_task(conn, "db-security-group-rule", rule_key(rule), "apply", {}, now)
        except IntegrityError:
            raise RuleTaken(rule.value) from None

    def revoke_rule(self, rule: IngressRule, now: datetime) -> str | None:
        """An authorized rule becomes `revoking`, with the task that removes it, in one transaction. The
        rule's status before (`authorized` when it was revoked); None when the group has no such rule."""
        with self._tx() as conn:
            status = conn.scalar(select(db_security_group_rules.c.status).where(*_rule_is(rule)))
            if status == "authorized":
                conn.execute(update(db_security_group_rules).where(*_rule_is(rule)).values(status="revoking"))
                _insert_task(conn, "db-security-group-rule", rule_key(rule), "apply", {}, now)
            return status

    def get_rule(self, key: str) -> IngressRule | None:
        group_name, kind, value = key.split("/", 2)
        with self._read() as conn:
            row = conn.execute(select(db_security_group_rules).where(
                *_rule_is(IngressRule(group_name, kind, value, None, "")))).first()
        return IngressRule(*row) if row else None

    def settle_rule(self, rule: IngressRule) -> bool:
        """An authorizing rule is authorized, a revoking one gone; False when it has neither status now."""
        with self._tx() as conn:
            if rule.status == "revoking":
                statement = delete(db_security_group_rules).where(*_rule_is(rule),
                                                                  db_security_group_rules.c.status == "revoking")
            else:
                statement = update(db_security_group_rules).where(
                    *_rule_is(rule), db_security_group_rules.c.status == "authorizing").values(status="authorized")
            return conn.execute(statement).rowcount == 1

    def guarded_endpoints(self) -> list[tuple[str | None, int, list[str]]]:
        """Each endpoint of an instance in DB security groups, with the CIDR ranges they let in: those
        authorized or being authorized, not those being revoked."""
        with self._read() as conn:
            members = conn.execute(select(instances.c.address, instances.c.port,
                                          instances.c.db_security_groups)).all()
            rules = conn.execute(select(db_security_group_rules.c.group_name, db_security_group_rules.c.value)
                                 .where(db_security_group_rules.c.kind == "cidr",
                                        db_security_group_rules.c.status != "revoking")).all()
        ranges: dict[str, list[str]] = {}
        for group, cidr in rules:
            ranges.setdefault(group, []).append(cidr)
        return [(address, port, sorted({cidr for group in groups for cidr in ranges.get(group, [])}))
                for address, port, groups in members if groups]

    def remove_security_group(self, name: str) -> bool:
        """False, with nothing removed, while an instance is in the group."""
        with self._tx() as conn:
            for (groups,) in conn.execute(select(instances.c.db_security_groups)):
                if name in groups:
                    return False
            conn.execute(delete(db_security_group_rules).where(db_security_group_rules.c.group_name == name))
            conn.execute(delete(db_security_groups).where(db_security_groups.c.name == name))
            conn.execute(delete(tags).where(tags.c.resource_id == security_group_key(name)))
        return True

    # parameter groups

    def add_parameter_group(
        self, group: ParameterGroup, pairs: list[tuple[str, str]], values: dict[str, GroupValue] | None = None
    ) -> None:
        """The group, its tags and (for a copy) its values; NameTaken when the name is in use."""
        try:
            with self._tx() as conn:
                conn.execute(insert(parameter_groups).values(group.__dict__))
                _upsert_tags(conn, parameter_group_key(group.name), pairs)
                _set_values(conn, group.name, values or {})
        except IntegrityError:
            raise NameTaken(group.name) from None

    def get_parameter_group(self, name: str) -> ParameterGroup | None:
        with self._read() as conn:
            row = conn.execute(select(parameter_groups).where(parameter_groups.c.name == name)).first()
        return ParameterGroup(*row) if row else None

    def list_parameter_groups(
        self, *, after: str | None = None, limit: int | None = None, families: Iterable[str] | None = None
    ) -> list[ParameterGroup]:
        query = select(parameter_groups).order_by(parameter_groups.c.name).limit(limit)
        if after is not None:
            query = query.where(parameter_groups.c.name > after)
        if families is not None:
            query = query.where(parameter_groups.c.family.in_(list(families)))
        with self._read() as conn:
            return [ParameterGroup(*row) for row in conn.execute(query)]

    def remove_parameter_group(self, name: str) -> bool:
        """False, with nothing removed, while an instance uses the group."""
        with self._tx() as conn:
            if conn.scalar(select(instances.c.resource_id).where(instances.c.parameter_group == name).limit(1)):
                return False
            conn.execute(delete(parameter_groups).where(parameter_groups.c.name == name))
            conn.execute(delete(group_parameters).where(group_parameters.c.group_name == name))
            conn.execute(delete(tags).where(tags.c.resource_id == parameter_group_key(name)))
        return True

    def group_values(self, names: Iterable[str]) -> dict[str, dict[str, GroupValue]]:
        """What users set in each of these groups."""
        found: dict[str, dict[str, GroupValue]] = {name: {} for name in names}
        query = select(group_parameters).where(group_parameters.c.group_name.in_(list(found)))
        with self._read() as conn:
            for row in conn.execute(query):
                found[row.group_name][row.name] = GroupValue(row.value, row.method)
        return found

    def set_group_values(self, name: str, values: dict[str, GroupValue]) -> bool:
        """False, with nothing set, when the group does not exist (it was deleted meanwhile)."""
        with self._tx() as conn:
            if conn.scalar(select(parameter_groups.c.name).where(parameter_groups.c.name == name)) is None:
                return False
            _set_values(conn, name, values)
        return True

    def reset_group_values(self, name: str, names: Iterable[str] | None) -> None:
        """Back to their defaults: these parameters, or (None) all of them."""
        query = delete(group_parameters).where(group_parameters.c.group_name == name)
        if names is not None:
            query = query.where(group_parameters.c.name.in_(list(names)))
        with self._tx() as conn:
            conn.execute(query)

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
        """TooManyTags, with nothing changed, when the resource would end with more than MAX_TAGS."""
        with self._tx() as conn:
            _upsert_tags(conn, resource_id, pairs)

    def remove_tags(self, resource_id: str, keys: list[str]) -> None:
        with self._tx() as conn:
            conn.execute(delete(tags).where(tags.c.resource_id == resource_id, tags.c.key.in_(keys)))

    # events

    def add_event(self, event_: Event) -> None:
        row = event_.__dict__ | {"categories": "," + ",".join(event_.categories) + ","}
        with self._tx() as conn:
            conn.execute(_INSERT_EVENT, row)

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
        with self._read() as conn:
            rows = conn.execute(query.order_by(events.c.id).limit(limit))
            return [(row.id, _event(row)) for row in rows]

    def purge_events(self, before: datetime) -> int:
        with self._tx() as conn:
            return conn.execute(delete(events).where(events.c.date < before)).rowcount

    # snapshots

    def queue_snapshot(
        self, snapshot: Snapshot, pairs: list[tuple[str, str]], now: datetime, kind: str = "backup",
        params: dict[str, Any] | None = None, observed: Iterable[str] = ("running",),
    ) -> None:
        """The snapshot (status `creating`), its tags, and the instance's task that takes it (a backup, or
        a stop or delete after it), in one transaction. NameTaken when the name is in use; StateConflict
        unless the instance's observed state is one of `observed`; TaskConflict when it has a task under way."""
        try:
            with self._tx() as conn:
                _check_observed(conn, snapshot.instance_resource_id, observed)
                if conn.scalar(select(snapshots.c.identifier).where(snapshots.c.identifier == snapshot.identifier)):
                    raise NameTaken(snapshot.identifier)
                conn.execute(insert(snapshots).values(snapshot.to_row()))
                _upsert_tags(conn, snapshot_key(snapshot.identifier), pairs)
                _insert_task(conn, "db-instance", snapshot.instance_resource_id, kind,
                             {"snapshot": snapshot.identifier, **(params or {})}, now)
        except IntegrityError:
            raise TaskConflict(snapshot.instance_resource_id) from None

    def add_snapshot(self, snapshot: Snapshot, pairs: list[tuple[str, str]]) -> None:
        """A snapshot made whole at once (a copy); NameTaken when the name is in use."""
        try:
            with self._tx() as conn:
                conn.execute(insert(snapshots).values(snapshot.to_row()))
                _upsert_tags(conn, snapshot_key(snapshot.identifier), pairs)
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

    def update_snapshot(self, identifier: str, **values: Any) -> None:
        with self._tx() as conn:
            conn.execute(update(snapshots).where(snapshots.c.identifier == identifier).values(**values))

    def retain_automated(self, resource_id: str, days: int, until: datetime | None) -> None:
        """The instance's automated snapshots outlive it, for `days` days each, restorable up to `until`."""
        with self._tx() as conn:
            conn.execute(update(snapshots).where(snapshots.c.instance_resource_id == resource_id,
                                                 snapshots.c.snapshot_type == "automated")
                         .values(retention=days, retained_until=until))

    def remove_snapshot(self, identifier: str, statuses: Iterable[str] = ("available", "failed")) -> Snapshot | None:
        """Remove the snapshot and its tags if its status is one of `statuses`; what was removed, or None."""
        with self._tx() as conn:
            row = conn.execute(
                select(snapshots).where(snapshots.c.identifier == identifier, snapshots.c.status.in_(list(statuses)))
            ).first()
            if row is None:
                return None
            conn.execute(delete(snapshots).where(snapshots.c.identifier == identifier))
            conn.execute(delete(tags).where(tags.c.resource_id == snapshot_key(identifier)))
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

    def remove_binlogs(self, resource_id: str, names: Iterable[str]) -> None:
        with self._tx() as conn:
            conn.execute(delete(binlogs).where(binlogs.c.instance_resource_id == resource_id,
                                               binlogs.c.name.in_(list(names))))

    # the emulator itself

    def state(self, name: str) -> str | None:
        with self._read() as conn:
            return conn.scalar(select(emulator_state.c.value).where(emulator_state.c.name == name))

    def set_state(self, name: str, value: str) -> None:
        with self._tx() as conn:
            conn.execute(delete(emulator_state).where(emulator_state.c.name == name))
            conn.execute(insert(emulator_state).values(name=name, value=value))


def rule_key(rule: IngressRule) -> str:
    """A rule's task's resource id: group names hold no slash."""
    return f"{rule.group_name}/{rule.kind}/{rule.value}"


def _rule_is(rule: IngressRule) -> tuple[Any, ...]:
    return (db_security_group_rules.c.group_name == rule.group_name, db_security_group_rules.c.kind == rule.kind,
            db_security_group_rules.c.value == rule.value)


def security_group_key(name: str) -> str:
    return f"secgrp:{name}"


def subnet_group_key(name: str) -> str:
    """The tags table's key for a DB subnet group (an instance's is its DbiResourceId)."""
    return f"subgrp:{name}"


def snapshot_key(identifier: str) -> str:
    """The tags table's key for a DB snapshot."""
    return f"snapshot:{identifier}"


def parameter_group_key(name: str) -> str:
    """The tags table's key for a DB parameter group."""
    return f"pg:{name}"


def _check_group(conn: Connection, name: str | None) -> None:
    """Inside the transaction that makes an instance use a group: the group exists (default groups always
    do), so that no instance is left naming a group deleted meanwhile."""
    if name is None or name.startswith("default."):
        return
    if conn.scalar(select(parameter_groups.c.name).where(parameter_groups.c.name == name)) is None:
        raise GroupGone(name)


def _check_security_groups(conn: Connection, names: list[str] | None) -> None:
    """Inside the transaction that puts an instance (or a rule) in DB security groups: they exist (a delete
    of one checks its instances in its own transaction), GroupMissing otherwise."""
    for name in names or []:
        if conn.scalar(select(db_security_groups.c.name).where(db_security_groups.c.name == name)) is None:
            raise GroupMissing(name)


def _check_observed(conn: Connection, resource_id: str, observed: Iterable[str]) -> None:
    """Inside the transaction that queues an instance's task: StateConflict unless what the driver last
    observed of its server is one of `observed`."""
    state = conn.scalar(select(instances.c.observed).where(instances.c.resource_id == resource_id))
    if state not in set(observed):
        raise StateConflict(state)


def _deferred(conn: Connection, resource_id: str, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The instance's waiting changes with `changes` joined to them, read and written in one transaction."""
    row = conn.execute(
        select(instances.c.pending, instances.c.pending_since).where(instances.c.resource_id == resource_id)
    ).first()
    if row is None:
        return {}
    return {"pending": {**(row.pending or {}), **changes}, "pending_since": row.pending_since or now}


def _set_values(conn: Connection, group: str, values: dict[str, GroupValue]) -> None:
    for name, item in values.items():
        conn.execute(delete(group_parameters).where(group_parameters.c.group_name == group,
                                                    group_parameters.c.name == name))
        conn.execute(insert(group_parameters).values(group_name=group, name=name, value=item.value,
                                                     method=item.method))


def _upsert_tags(conn: Connection, resource_id: str, pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        changed = conn.execute(
            update(tags).where(tags.c.resource_id == resource_id, tags.c.key == key).values(value=value)
        ).rowcount
        if not changed:
            conn.execute(_INSERT_TAG, {"resource_id": resource_id, "key": key, "value": value})
    if pairs and conn.scalar(select(func.count()).where(tags.c.resource_id == resource_id)) > MAX_TAGS:
        raise TooManyTags(resource_id)


def _insert_task(
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
        _INSERT_TASK,
        {
            "resource_type": resource_type, "resource_id": resource_id, "kind": kind, "params": params,
            "state": "queued", "attempts": 0, "created_at": now, "not_before": not_before, "key": key,
        },
    )
    return int(result.inserted_primary_key[0])


def _task(row: Any, attempts: int | None = None) -> Task:
    params = row.params if isinstance(row.params, dict) else json.loads(row.params)
    return Task(
        row.id, row.resource_type, row.resource_id, row.kind, params, row.state,
        row.attempts if attempts is None else attempts,
    )


def _event(row: Any) -> Event:
    return Event(
        row.date, row.source_type, row.source_id, row.source_arn, row.message, row.categories.strip(",").split(",")
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, says when a transaction begins (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """A write transaction takes SQLite's write lock at once (BEGIN IMMEDIATE): a deferred one that reads
    first and writes second could find its snapshot stale and fail at once instead of waiting its turn.
    A read is one statement, consistent by itself: it needs no BEGIN (and saves two round trips)."""
    if conn.get_execution_options().get("write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
