"""The engine's own tools for backups, kept as commands: mariadb-backup's stream of a running server, its
unpacking and preparing, and the binary log's fetching (over the replication protocol) and replaying, each
under its flavor's name (MariaDB's mariadb-binlog is MySQL's mysqlbinlog). A driver runs them where its
server lives, from the server's own tree; the options that reach the server come from the driver."""

import re
from collections.abc import Callable
from typing import BinaryIO

from emulator.engines import tools

# the size backup streams are copied in
CHUNK = tools.CHUNK

# each flavor's name for its tools: the binary log's reader, the SQL client, the system tables' upgrade
# (MySQL's server upgrades its own as it starts: it has no such tool since 8.0.16)
TOOLS = {
    "MariaDB": {"binlog": "mariadb-binlog", "client": "mariadb", "upgrade": "mariadb-upgrade"},
    "MySQL": {"binlog": "mysqlbinlog", "client": "mysql", "upgrade": None},
}
_BINLOG_POINT = re.compile(r"binlog position: filename '([^']+)', position '(\d+)'")


def hot_backup(defaults_file: str, work_dir: str, connection: list[str]) -> list[str]:
    """A consistent copy of a running server, streamed (mbstream) to standard output."""
    return ["mariadb-backup", f"--defaults-file={defaults_file}", "--backup", "--stream=mbstream",
            f"--target-dir={work_dir}", *connection]


def unpack(target: str) -> list[str]:
    return ["mbstream", "-x", "-C", target]


def prepare(target: str) -> list[str]:
    """Make the unpacked copy consistent (crash recovery on the copy), ready to be a data directory."""
    return ["mariadb-backup", "--prepare", f"--target-dir={target}"]


def client_file(options: dict[str, str]) -> str:
    """An option file's [client] group, for a client of the server (the mariadb client, mariadb-binlog):
    written to a file of the owner's only, since it may hold a password."""
    return "[client]\n" + "".join(f"{name}={value}\n" for name, value in options.items())


def fetch_binlogs(flavor: str, defaults_file: str, names: list[str], result_dir: str) -> list[str]:
    """Copy closed binary log files from the server, byte for byte, over the replication protocol."""
    return [TOOLS[flavor]["binlog"], f"--defaults-extra-file={defaults_file}", "--read-from-remote-server", "--raw",
            f"--result-file={result_dir}/", *names]


def replay_binlogs(flavor: str, files: list[str], start_position: str, stop_time: str | None) -> list[str]:
    """The SQL of the binary logs from a position in the first file (or, for MariaDB's, after a GTID state)
    up to (not including) the first event of `stop_time` (the host's local time: run it with TZ=UTC), or to
    their end. A MySQL log's transactions carry their GTIDs: a server that has one already skips it."""
    stop = [f"--stop-datetime={stop_time}"] if stop_time else []
    return [TOOLS[flavor]["binlog"], f"--start-position={start_position}", *stop, *files]


def sql_client(flavor: str, defaults_file: str) -> list[str]:
    return [TOOLS[flavor]["client"], f"--defaults-extra-file={defaults_file}", "--binary-mode",
            "--max-allowed-packet=1G"]


def binlog_point(log: str) -> tuple[str | None, int | None]:
    """Where the copy's data ends in the server's binary log, as mariadb-backup reports it."""
    match = _BINLOG_POINT.search(log)
    return (match.group(1), int(match.group(2))) if match else (None, None)


def stream(argv: list[str], sink: BinaryIO, log_path: str, progress: Callable[[int], None], size: int) -> str:
    """Run a command whose standard output is the backup of `size` bytes of data, into `sink`; what it
    logged."""
    with open(log_path, "w+b") as log:
        tools.stream(argv, sink, log, progress, timeout=tools.for_bytes(size))
        log.seek(0)
        return log.read().decode(errors="replace")


def run(argv: list[str], size: int, source: BinaryIO | None = None) -> None:
    """A tool that works through `size` bytes of a backup."""
    tools.run(argv, stdin=source, timeout=tools.for_bytes(size))
