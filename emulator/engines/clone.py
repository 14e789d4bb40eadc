"""MySQL's hot physical backup: its CLONE plugin copies the running server's data into a folder (consistent:
the copy ends at one point of its redo log, and the server recovers to it as it first starts there), and
the folder travels to and from the backup storage as a tar stream. Debian carries no xtrabackup for MySQL 9."""

import pathlib
import tarfile
from collections.abc import Callable
from typing import Any, BinaryIO

from emulator.engines import live


def clone_into(cursor: Any, target: pathlib.Path) -> str | None:
    """Clone the server into `target` (which must not exist); the binary log file that was being written as
    the clone began: every transaction the copy lacks is in it or a later one (and carries its GTID, by
    which a replay skips those the copy has)."""
    status = live.binlog_status(cursor, "MySQL")
    cursor.execute("CLONE LOCAL DATA DIRECTORY = %s", (str(target),))
    return status[0] if status else None


def pack(folder: pathlib.Path, sink: BinaryIO, progress: Callable[[int], None]) -> None:
    """The folder's files, as one tar stream into `sink`; `progress` hears the bytes written so far."""
    counted = _Counted(sink, progress)
    with tarfile.open(fileobj=counted, mode="w|") as archive:  # type: ignore[call-overload]
        archive.add(str(folder), arcname=".")


def unpack(source: BinaryIO, target: pathlib.Path) -> None:
    """A packed clone into `target`, which becomes a data directory; nothing is written outside it."""
    with tarfile.open(fileobj=source, mode="r|") as archive:
        archive.extractall(target, filter="data")


class _Counted:
    def __init__(self, sink: BinaryIO, progress: Callable[[int], None]):
        self.sink, self.progress, self.written = sink, progress, 0

    def write(self, data: bytes) -> int:
        self.sink.write(data)
        self.written += len(data)
        self.progress(self.written)
        return len(data)
