"""The SQL that sets up a MySQL-family server's users and databases, over any administrator cursor a driver
gives (a local socket, a guest's network): never the password, only the server's hash of it."""

from typing import Any


def create_master(cursor: Any, user: str, password_hash: str, db_name: str | None) -> None:
    """The master user with every privilege, and the DBName database. Safe to run twice."""
    cursor.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY PASSWORD %s", (user, password_hash))
    set_master_password(cursor, user, password_hash)
    cursor.execute("GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", (user,))
    if db_name:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{db_name}`")


def set_master_password(cursor: Any, user: str, password_hash: str) -> None:
    cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY PASSWORD %s", (user, password_hash))
