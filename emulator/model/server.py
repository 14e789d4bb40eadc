"""What a DB server says of itself: its variables."""

from dataclasses import dataclass


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
