"""The reads on the Describe path, compiled once and run straight on DB-API connections."""

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import JSON, and_, bindparam, func, insert, literal_column, select
from sqlalchemy.engine import Engine

from emulator.model.instance import JOINED_FIELDS, Instance
from emulator.store.schema import ACTIVE, events, instances, tags, tasks

# In the order of Instance's fields, so that a row is the Instance's positional arguments, the joined ones last.
INSTANCE_COLUMNS = [instances.c[f.name] for f in fields(Instance) if f.name not in JOINED_FIELDS]
# Statements built once: SQLAlchemy then reuses their compiled form, which matters on the Describe path.
# The task under way, if any (there is at most one an instance), joined to its instance. The states are
# written into the SQL: bound values in an IN list would be re-expanded on every execution.
UNDER_WAY = and_(
    tasks.c.resource_id == instances.c.resource_id,
    tasks.c.state.in_([literal_column(f"'{state}'") for state in ACTIVE]),
)
# A read replica's source, and a source's read replicas (identifiers joined by commas, which none holds):
# read with the instance, so that a replica made or promoted changes the rows that describe its source too.
_source, _replica = instances.alias("source"), instances.alias("replica")
REPLICATION = [
    select(_source.c.identifier).where(_source.c.resource_id == instances.c.replica_source)
    .scalar_subquery().label("source_identifier"),
    select(func.group_concat(_replica.c.identifier)).where(_replica.c.replica_source == instances.c.resource_id)
    .scalar_subquery().label("replica_names"),
]
JOINED = [tasks.c.kind.label("task"), tasks.c.params.label("task_params"), *REPLICATION]
INSTANCES = select(*INSTANCE_COLUMNS, *JOINED).select_from(instances.outerjoin(tasks, UNDER_WAY))
BY_IDENTIFIER = INSTANCES.where(instances.c.identifier == bindparam("identifier"))
BY_RESOURCE_ID = INSTANCES.where(instances.c.resource_id == bindparam("resource_id"))
WITH_TAGS = (
    select(*INSTANCE_COLUMNS, *JOINED, tags.c.key, tags.c.value)
    .select_from(
        instances.outerjoin(tasks, UNDER_WAY).outerjoin(tags, tags.c.resource_id == instances.c.resource_id)
    )
    .where(instances.c.identifier == bindparam("identifier"))
    .order_by(tags.c.seq)
)


# What each reading connection keeps between changes: answers of a few rows (a lookup), not listings.
KEPT_ROWS = 64
KEPT_ANSWERS = 1024


class Prepared:
    """A SELECT compiled once and run straight on a DB-API connection, each value converted by its column's
    own type. On the Describe path SQLAlchemy's execution machinery costs several times the query itself;
    this keeps the types and the SQL SQLAlchemy's, and skips the rest."""

    def __init__(self, statement: Any, kept: bool = False):
        """`kept`: its answers are kept while the database does not change (see _Reader)."""
        self.statement = statement
        self.kept = kept
        self.sql: str | None = None

    def rows(self, readers: "Readers", **params: Any) -> Sequence[tuple]:
        return self.convert(self.raw(readers, **params))

    def raw(self, readers: "Readers", **params: Any) -> Sequence[tuple]:
        """The rows as SQLite gives them."""
        if self.sql is None:
            self._compile(readers.engine)
        # the statement's own bound values (an OFFSET's 0, say) under the caller's
        values = self.compiled.construct_params(params)
        return readers.fetch(self.sql, [values[name] for name in self.names], self.kept)

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


class Readers:
    """DB-API connections kept for the prepared reads. Borrowing one from SQLAlchemy's pool and giving it back
    (which rolls back) took about 15 µs of a 45 µs lookup; each of these reads is one statement in autocommit, so
    it leaves nothing to roll back. list.pop and list.append are atomic: no lock is needed."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.idle: list[_Reader] = []

    def fetch(self, sql: str, values: list[Any], kept: bool) -> Sequence[tuple]:
        try:
            reader = self.idle.pop()
        except IndexError:
            reader = _Reader(self._new())
        try:
            return reader.kept(sql, values) if kept else tuple(reader.connection.execute(sql, values).fetchall())
        finally:
            self.idle.append(reader)

    def close(self) -> None:
        while self.idle:
            self.idle.pop().connection.close()

    def _new(self) -> Any:
        """A connection taken out of the pool for good, set up as every other one (WAL, autocommit)."""
        pooled = self.engine.raw_connection()
        connection = pooled.driver_connection
        pooled.detach()
        return connection


class _Reader:
    """One connection, and the small answers it gave since the database last changed. SQLite's data_version
    moves whenever another connection commits, and these connections never write: while it stands still, an
    answer read before is the answer now; checking the version costs a tenth of the lookup's join."""

    __slots__ = ("connection", "version", "answers")

    def __init__(self, connection: Any):
        self.connection = connection
        self.version: int | None = None
        self.answers: dict[tuple, tuple[tuple, ...]] = {}

    def kept(self, sql: str, values: list[Any]) -> tuple[tuple, ...]:
        version = self.connection.execute("PRAGMA data_version").fetchone()[0]
        key = (sql, *values)
        if version != self.version:
            self.version = version
            self.answers.clear()
        elif (kept := self.answers.get(key)) is not None:
            return kept
        rows = tuple(self.connection.execute(sql, values).fetchall())
        if len(rows) <= KEPT_ROWS:
            if len(self.answers) >= KEPT_ANSWERS:
                self.answers.clear()
            self.answers[key] = rows
        return rows


# Clients poll one instance far more often than anything changes. Not the endpoint reads: they come before a
# write, and the version check would be one more wait for the GIL for them (each SQLite call lets it go).
FAST_WITH_TAGS = Prepared(WITH_TAGS, kept=True)
# Endpoints asked about one at a time, from the unique endpoint index: a create asks about a port or two, where
# reading every endpoint in use took half of it at 1000 instances.
ON_ADDRESS = instances.c.address == bindparam("address")
FAST_ENDPOINT_HELD = Prepared(select(instances.c.port).where(ON_ADDRESS, instances.c.port == bindparam("port")))
FAST_ADDRESS_HELD = Prepared(select(instances.c.port).where(ON_ADDRESS).limit(1))
# (as ORDER BY ... LIMIT 1, which SQLite answers from the index's end; max() read every port of the address)
FAST_HIGHEST_PORT = Prepared(
    select(instances.c.port).where(ON_ADDRESS, instances.c.port.between(bindparam("low"), bindparam("high")))
    .order_by(instances.c.port.desc()).limit(1)
)
# A DescribeDBInstances page with no filter: the first one, and those after a marker.
ORDERED = INSTANCES.order_by(instances.c.identifier).limit(bindparam("limit"))
FAST_FIRST_PAGE = Prepared(ORDERED)
FAST_NEXT_PAGE = Prepared(ORDERED.where(instances.c.identifier > bindparam("after")))
FAST_ALL = Prepared(INSTANCES.order_by(instances.c.identifier))
# Inserts whose values come as parameters, so that their compiled form is reused.
INSERT_INSTANCE = insert(instances)
INSERT_EVENT = insert(events)
INSERT_TAG = insert(tags)
INSERT_TASK = insert(tasks)
TAGS_OF = select(tags).where(tags.c.resource_id.in_(bindparam("ids", expanding=True))).order_by(tags.c.seq)
