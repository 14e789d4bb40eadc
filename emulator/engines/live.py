"""The SQL that changes a running server's configuration, over any administrator cursor a driver gives."""

from typing import Any

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
