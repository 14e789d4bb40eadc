"""The host-to-guest channel: jobs the guest's agent runs (a hot backup out, a seed in), and the
guest's clock kept to the host's."""

import logging
import pathlib
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import BinaryIO

import pymysql

from emulator.drivers.base import BinlogPoint, DriverError, ServerSpec
from emulator.drivers.libvirt.shared import (
    ADMIN,
    BACKUP_OVERHEAD,
    CLOCK_ROUNDS,
    CLOCK_TOLERANCE,
    JOB_TIMEOUT,
    admin_sql,
    job_answer,
)
from emulator.engines import backup

log = logging.getLogger(__name__)


class GuestJobs:
    """Part of LibvirtDriver (driver.py), whose attributes it uses."""

    def backup(self, spec: ServerSpec, sink: BinaryIO, progress: Callable[[float], None]) -> BinlogPoint:
        """mariadb-backup runs inside the guest (rds-job) and streams to us over the job port; a second
        connection tells how it went."""
        with self.admin(spec) as cursor:
            cursor.execute("SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables")
            estimate = int(cursor.fetchone()[0]) + BACKUP_OVERHEAD
        token = self._job_token(spec)
        with self._job(spec, token, "backup") as conn:
            copied = 0
            while chunk := conn.recv(backup.CHUNK):
                sink.write(chunk)
                copied += len(chunk)
                progress(min(copied / estimate, 0.99))
        with self._job(spec, token, "status") as conn:
            logged = job_answer(conn, "backup")
        return backup.binlog_point(logged)

    def ready_backup(self, spec: ServerSpec) -> pathlib.Path | None:
        return None  # a guest's image holds no backup of its data directory: its first backup is a real one

    def seed(self, spec: ServerSpec, source: BinaryIO) -> None:
        """The guest starts with an empty server, the backup streams in over the job port and is prepared
        beside its data directory, and its server restarts on it (with this guest's administrator)."""
        home = self._home(spec)
        if (home / "seeded").exists():
            return
        self.provision(spec)
        with self._job(spec, self._job_token(spec), "restore") as conn:
            while chunk := source.read(backup.CHUNK):
                conn.sendall(chunk)
            conn.shutdown(socket.SHUT_WR)
            job_answer(conn, "restore")
        with self.admin(spec) as cursor:
            cursor.execute("SELECT %s INTO DUMPFILE %s",
                           (admin_sql(self._password(spec), self._flavor(spec)),
                            f"/run/rds/admin-{time.time_ns()}.sql"))
        self.restart(spec)
        (home / "seeded").touch()

    def client_options(self, spec: ServerSpec) -> dict[str, str]:
        return {"host": spec.host, "port": str(self._port(spec)), "user": ADMIN, "password": self._password(spec)}

    def reach_source(self, spec: ServerSpec, source: ServerSpec) -> tuple[str, int]:
        return self.network.reach_source(self._home(spec), (source.host, source.port))

    def _keep_time(self, spec: ServerSpec) -> None:
        """Bring the guest's clock to the host's, to within a few milliseconds: a guest's clock starts from
        a whole second (its RTC, or the time it was given after a restore from the template), and its server
        stamps the binary log with it, which point-in-time restore reads by the second."""
        try:
            offset = self._clock_offset(spec)
            # what a setting itself leaves the clock behind by (its own run time, under emulation): learnt from
            # the first, and made up for in the next
            lag = 0.0
            for _ in range(CLOCK_ROUNDS):
                if abs(offset) <= CLOCK_TOLERANCE:
                    return
                shift = -offset - lag
                with self._job(spec, self._job_token(spec), f"clock {shift:+.6f}") as conn:
                    job_answer(conn, "clock setting")
                log.info("guest %s's clock was %+.3f s off the host's: set", spec.identifier, offset)
                was, offset = offset, self._clock_offset(spec)
                lag = offset - was - shift
        except (DriverError, OSError, pymysql.MySQLError) as error:
            log.warning("guest %s's clock could not be set: %s", spec.identifier, error)

    def _clock_offset(self, spec: ServerSpec) -> float:
        """The guest's clock minus the host's, seconds, measured over SQL (half a round trip is the error)."""
        with self.admin(spec) as cursor:
            before = time.time()
            cursor.execute("SELECT UNIX_TIMESTAMP(NOW(6))")
            guest = float(cursor.fetchone()[0])
            after = time.time()
        return guest - (before + after) / 2

    def _job_token(self, spec: ServerSpec) -> str:
        """A token for the guest's rds-job, left in the guest over SQL: only who can do that may ask."""
        token = secrets.token_hex(16)
        with self.admin(spec) as cursor:
            cursor.execute("SELECT %s INTO DUMPFILE %s", (token + "\n", f"/run/rds/job-{time.time_ns()}"))
        return token

    def _job(self, spec: ServerSpec, token: str, kind: str) -> AbstractContextManager[socket.socket]:
        return job_at(self.network.job_endpoint(spec.host, self._home(spec)), token, kind)


@contextmanager
def job_at(address: tuple[str, int], token: str, kind: str) -> Iterator[socket.socket]:
    """A connection to a guest's rds-job at `address`, the job asked for with its token."""
    try:
        conn = socket.create_connection(address, timeout=JOB_TIMEOUT)
    except OSError as error:
        raise DriverError(f"the guest's job port did not answer: {error}") from None
    with conn:
        conn.sendall(f"{token} {kind}\n".encode())
        yield conn

