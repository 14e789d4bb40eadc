"""What a DB server is, as the engines read it off the server itself: its binary and its variables."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerBinary:
    flavor: str  # "MariaDB" or "MySQL"
    version: str  # "10.11.19"
    server: str | None  # path of mariadbd / mysqld, None when nothing is installed
    install_db: str | None


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None
    type: str  # the server's VARIABLE_TYPE: BOOLEAN, INT UNSIGNED, DOUBLE, ENUM, SET, VARCHAR, ...
    comment: str
    minimum: str | None
    maximum: str | None
    choices: str | None  # comma-separated, for BOOLEAN, ENUM, SET and FLAGSET
    dynamic: bool  # SET GLOBAL may change it
