"""The SQL that sets up a MySQL-family server's users and databases, over any administrator cursor a driver
gives (a local socket, a guest's network): never the password, only the server's hash of it."""

from typing import Any

# how MySQL's caching_sha2_password hashes begin (engines/server.caching_sha2_hash); MariaDB's begin with "*"
CACHING_SHA2 = "$A$"


def create_master(cursor: Any, user: str, password_hash: str, db_name: str | None) -> None:
    """The master user with every privilege, and the DBName database. Safe to run twice."""
    cursor.execute(f"CREATE USER IF NOT EXISTS %s@'%%' {_identified(password_hash)}", (user,))
    set_master_password(cursor, user, password_hash)
    cursor.execute("GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", (user,))
    if db_name:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{db_name}`")


def set_master_password(cursor: Any, user: str, password_hash: str) -> None:
    cursor.execute(f"ALTER USER %s@'%%' {_identified(password_hash)}", (user,))


def _identified(password_hash: str) -> str:
    """The clause that gives a user the hash. MySQL's hash holds any byte of its salt: it goes as hex, which
    needs no quoting (and the hash is ours, never a client's text)."""
    if password_hash.startswith(CACHING_SHA2):
        return f"IDENTIFIED WITH caching_sha2_password AS 0x{password_hash.encode().hex()}"
    return "IDENTIFIED BY PASSWORD '" + password_hash.replace("'", "") + "'"
