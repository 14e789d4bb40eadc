"""The SQL that changes a running server's configuration, over any administrator cursor a driver gives."""

from typing import Any

from emulator.engines.server import parse_version

# Values of these kinds go into SET GLOBAL as they are (they were checked to be numbers or ON/OFF words);
# any other is quoted, since the server takes a string there.
UNQUOTED = ("integer", "float", "boolean")


def set_global(cursor: Any, name: str, value: str | None, data_type: str) -> None:
    """SET GLOBAL name = value; None sets the server's own default. `name` is from the server's catalogue."""
    if value is None:
        cursor.execute(f"SET GLOBAL {name} = DEFAULT")
    elif data_type in UNQUOTED:
        cursor.execute(f"SET GLOBAL {name} = {value}")
    else:
        cursor.execute(f"SET GLOBAL {name} = %s", (value,))


def reopen_logs(cursor: Any) -> None:
    """The slow and general logs were set aside: the server starts new files."""
    cursor.execute("FLUSH SLOW LOGS")
    cursor.execute("FLUSH GENERAL LOGS")


def binlog_status(cursor: Any, flavor: str) -> tuple[str, int] | None:
    """The binary log file the server writes, and its position in it; None when it keeps none. (MySQL has
    named the statement SHOW BINARY LOG STATUS since 8.2, and no longer takes MariaDB's name.)"""
    cursor.execute("SHOW BINARY LOG STATUS" if flavor == "MySQL" else "SHOW MASTER STATUS")
    row = cursor.fetchone()
    return (row[0], int(row[1])) if row else None


def transactions(cursor: Any, flavor: str) -> str:
    """The transactions the server's binary log holds, as its GTIDs say: the same string as long as nothing
    was written (the log's own events, a checkpoint or a rotation, leave it as it is)."""
    cursor.execute("SELECT @@global.gtid_executed" if flavor == "MySQL" else "SELECT @@global.gtid_binlog_pos")
    return str(cursor.fetchone()[0])


def version(cursor: Any) -> str | None:
    """The server's version as RDS reports it ("9.7.4", "10.11.19"); None with no server behind the cursor."""
    cursor.execute("SELECT VERSION()")
    row = cursor.fetchone()
    return parse_version(row[0])[1] if row else None


def reload_tls(cursor: Any, flavor: str) -> None:
    """The running server takes its certificate files again, for new connections."""
    cursor.execute("ALTER INSTANCE RELOAD TLS" if flavor == "MySQL" else "FLUSH SSL")
