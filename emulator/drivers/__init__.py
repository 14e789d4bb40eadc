"""Where a DB server lives, behind one small interface; `make_driver` picks one by name."""

import pathlib
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ServerSpec:
    """What a driver needs to know of a DB instance: never the password, only the server's hash of it."""

    resource_id: str
    identifier: str
    host: str
    port: int
    master_username: str
    password_hash: str
    db_name: str | None


class DriverError(Exception):
    """A server could not be brought to the state asked for."""


class Driver(Protocol):
    def provision(self, spec: ServerSpec) -> None:
        """Create the server's storage, start it, create the master user and DBName. Idempotent."""

    def start(self, spec: ServerSpec) -> None:
        """Start the server and return once it answers. A no-op when it already runs."""

    def stop(self, spec: ServerSpec) -> None:
        """Stop the server cleanly. A no-op when it is not running."""

    def is_running(self, spec: ServerSpec) -> bool: ...

    def set_master_password(self, spec: ServerSpec) -> None:
        """Make spec.password_hash the master user's password."""

    def destroy(self, spec: ServerSpec) -> None:
        """Stop the server and remove everything it kept. Idempotent."""

    def stop_all(self) -> None:
        """Stop every server this driver started: the emulator is shutting down."""


def make_driver(name: str, data_dir: pathlib.Path) -> Driver:
    if name == "process":
        from .process import ProcessDriver

        return ProcessDriver(data_dir / "servers")
    if name == "none":
        from .none import NoServerDriver

        return NoServerDriver()
    raise ValueError(f"unknown driver {name!r}: choose process or none")
