"""The engine, its connections and transactions, the schema's migrations, and the emulator's own state."""

import pathlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, delete, event, insert, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from emulator.store.errors import StoreFull
from emulator.store.prepared import Readers
from emulator.store.schema import emulator_state

MIGRATIONS = pathlib.Path(__file__).with_name("migrations")


class WriteTurns:
    """One writer at a time, a thread's nested transactions included; a writer of a request goes before the
    background's writers that wait. Background work only waits longer, and still goes in turn: a request's
    write is short, and requests come one at a time per client."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._urgent = 0
        self.background = threading.local()

    @contextmanager
    def turn(self) -> Iterator[None]:
        me = threading.get_ident()
        urgent = not getattr(self.background, "marked", False)
        with self._free:
            if self._owner == me:
                self._depth += 1
            else:
                self._urgent += urgent
                try:
                    while self._owner is not None or (not urgent and self._urgent):
                        self._free.wait()
                finally:
                    self._urgent -= urgent
                self._owner, self._depth = me, 1
        try:
            yield
        finally:
            with self._free:
                self._depth -= 1
                if not self._depth:
                    self._owner = None
                    self._free.notify_all()


class StoreBase:
    """What every part of the store shares: the engine, the write lock, the prepared reads' connections."""

    def __init__(self, url: str):
        self.engine: Engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_connect)
        event.listen(self.engine, "begin", _sqlite_begin)
        # SQLite lets one writer in at a time. Writers of this process queue here, and the next goes in as
        # soon as the last is done; waiting in SQLite's busy handler instead sleeps 1, 2, 5, 10 ms... between
        # tries, which cost each request that met a task's transaction 8 ms on average.
        self._writing = WriteTurns()
        self._readers = Readers(self.engine)
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
        """A write transaction: it takes the write lock at BEGIN, so its reads see what it will write over.
        StoreFull when the disk has no room for it."""
        try:
            with self._writing.turn(), self.engine.connect().execution_options(write=True) as conn, conn.begin():
                yield conn
        except OperationalError as error:
            if getattr(error.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                raise StoreFull() from error
            raise

    def in_background(self) -> None:
        """This thread does background work: its writes give way to those of requests waiting (a create
        waited 3.7 ms on average behind the tasks of the creates before it)."""
        self._writing.background.marked = True

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self._readers.close()
        self.engine.dispose()

    # the emulator itself

    def state(self, name: str) -> str | None:
        with self._read() as conn:
            return conn.scalar(select(emulator_state.c.value).where(emulator_state.c.name == name))

    def set_state(self, name: str, value: str) -> None:
        with self._tx() as conn:
            conn.execute(delete(emulator_state).where(emulator_state.c.name == name))
            conn.execute(insert(emulator_state).values(name=name, value=value))




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
