"""The SQL that sets up a MySQL-family server's users and databases, over any administrator cursor a driver
gives (a local socket, a guest's network): never the password, only the server's hash of it."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# how MySQL's caching_sha2_password hashes begin (engines/server.caching_sha2_hash); MariaDB's begin with "*"
CACHING_SHA2 = "$A$"


def create_master(cursor: Any, user: str, password_hash: str, db_name: str | None) -> None:
    """The master user with every privilege, and the DBName database. Safe to run twice."""
    cursor.execute(f"CREATE USER IF NOT EXISTS %s@'%%' {_identified(password_hash)}", (user,))
    set_master_password(cursor, user, password_hash)
    cursor.execute("ALTER USER %s@'%%' ACCOUNT UNLOCK", (user,))  # a backup of a standby holds it locked
    cursor.execute("GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", (user,))
    if db_name:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{db_name}`")


def set_master_password(cursor: Any, user: str, password_hash: str) -> None:
    cursor.execute(f"ALTER USER %s@'%%' {_identified(password_hash)}", (user,))


def master_locked(cursor: Any, flavor: str, user: str, locked: bool) -> None:
    """A Multi-AZ standby's master user cannot log in (a guest's standby is reached on a port of its own),
    and the one that takes over can again: on that server alone, unlogged."""
    cursor.execute("SET SESSION sql_log_bin = 0")
    try:
        with past_super_read_only(cursor, flavor):
            cursor.execute(f"ALTER USER %s@'%%' ACCOUNT {'LOCK' if locked else 'UNLOCK'}", (user,))
    finally:
        cursor.execute("SET SESSION sql_log_bin = 1")


@contextmanager
def past_super_read_only(cursor: Any, flavor: str) -> Iterator[None]:
    """The block's statements on a MySQL server with super_read_only on (a standby), which refuses them even
    to its administrator: lifted for the block alone."""
    cursor.execute("SELECT @@GLOBAL.super_read_only" if flavor == "MySQL" else "SELECT 0")
    lifted = cursor.fetchone() == (1,)
    if lifted:
        cursor.execute("SET GLOBAL super_read_only = OFF")
    try:
        yield
    finally:
        if lifted:
            cursor.execute("SET GLOBAL super_read_only = ON")


def _identified(password_hash: str) -> str:
    """The clause that gives a user the hash. MySQL's hash holds any byte of its salt: it goes as hex, which
    needs no quoting (and the hash is ours, never a client's text)."""
    if password_hash.startswith(CACHING_SHA2):
        return f"IDENTIFIED WITH caching_sha2_password AS 0x{password_hash.encode().hex()}"
    return "IDENTIFIED BY PASSWORD '" + password_hash.replace("'", "") + "'"
