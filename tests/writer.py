"""A client that keeps writing to an instance's endpoint, one autocommit row at a time, through failovers: it
records what the server acknowledged and when, and when it was refused or dropped."""

import threading
import time

import pymysql

from tests.emulator_process import wait_for
from tests.mysql_client import connect


class Writer:
    def __init__(self, endpoint: dict, user: str, password: str, database: str):
        self.endpoint, self.user, self.password, self.database = endpoint, user, password, database
        self.acknowledged: list[int] = []
        self.times: list[float] = []  # when each was acknowledged (time.monotonic())
        self.errors: list[str] = []
        self.failed_at: list[float] = []  # when each error was seen
        self._first = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)

    def __enter__(self) -> "Writer":
        with connect(self.endpoint, self.user, self.password, self.database) as conn, conn.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS written (id INT PRIMARY KEY)")
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM written")
            self._first = cursor.fetchone()[0] + 1  # after an earlier writer's
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def longest_gap_between(self, start: float, end: float, failing: bool = False) -> float:
        """The longest time without an acknowledgement from `start` to `end` (time.monotonic()); `failing`:
        only among those in which the server refused or dropped the writer (an outage, not a slow commit)."""
        inside = [start, *(moment for moment in self.times if start < moment < end), end]
        gaps = [(earlier, later) for earlier, later in zip(inside, inside[1:], strict=False)
                if not failing or any(earlier <= moment <= later for moment in self.failed_at)]
        return max((later - earlier for earlier, later in gaps), default=0.0)

    def wait_for(self, count: int, timeout: float) -> None:
        """Until `count` more writes are acknowledged than now."""
        target = len(self.acknowledged) + count
        try:
            wait_for(lambda: len(self.acknowledged) >= target, timeout, f"{target} writes acknowledged",
                     interval=0.01)
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}: the writer had {len(self.acknowledged)} (alive: "
                                 f"{self._thread.is_alive()}; errors: {self.errors[-3:]})") from None

    def _run(self) -> None:
        next_id = self._first
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = connect(self.endpoint, self.user, self.password, self.database)
                with conn.cursor() as cursor:
                    cursor.execute("INSERT INTO written (id) VALUES (%s)", (next_id,))
            except (pymysql.MySQLError, OSError) as error:
                self.errors.append(repr(error))
                self.failed_at.append(time.monotonic())
                if conn is not None:
                    conn.close()
                conn = None
                next_id += 1  # it may or may not have been committed: never asked again
                self._stop.wait(0.01)  # before connecting again: a server that refuses answers at once
                continue
            self.times.append(time.monotonic())
            self.acknowledged.append(next_id)
            next_id += 1
        if conn is not None:
            conn.close()

    def stored(self) -> set[int]:
        with connect(self.endpoint, self.user, self.password, self.database) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT id FROM written")
            return {row[0] for row in cursor.fetchall()}
