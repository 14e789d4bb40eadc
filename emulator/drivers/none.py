"""The control-plane-only driver: no server behind an instance, which is available at once."""

import pathlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, BinaryIO

from emulator.drivers.base import BinlogPoint, InUse, LogFile, ServerSpec
from emulator.model import engine_versions
from emulator.model.engine_versions import EngineVersion


class NoServerDriver:
    def versions(self) -> dict[EngineVersion, str]:
        """Every version in the table, as the suites served it when it was written: nothing is built."""
        return {row: row.nominal for row in engine_versions.VERSIONS}

    def reach(self) -> list[pathlib.Path]:
        return []

    def endpoints(self, host: str, requested: int | None, in_use: InUse,
                  ports: Iterable[int]) -> Iterable[tuple[str, int]]:
        # nothing will listen, so the machine's other programs do not matter, only other instances
        if requested is not None:
            return [(host, requested)]
        return ((host, port) for port in ports if not in_use.endpoint_held(host, port))

    def admit(self, spec: ServerSpec) -> AbstractContextManager[None]:
        return nullcontext()

    def provision(self, spec: ServerSpec) -> None:
        pass

    def restart(self, spec: ServerSpec) -> None:
        pass

    def resize(self, spec: ServerSpec) -> None:
        pass

    def reconcile(self, specs: list[ServerSpec]) -> list[str]:
        return []

    @contextmanager
    def admin(self, spec: ServerSpec) -> Iterator[Any]:
        yield _NoServerCursor()

    def backup(self, spec: ServerSpec, sink: BinaryIO, progress: Callable[[float], None]) -> BinlogPoint:
        return None, None  # no data, and no binary log: an empty backup is the whole of it

    def ready_backup(self, spec: ServerSpec) -> pathlib.Path | None:
        return None

    def seed(self, spec: ServerSpec, source: BinaryIO) -> None:
        pass

    def client_options(self, spec: ServerSpec) -> dict[str, str] | None:
        return None

    standbys = True  # a standby here is its record, as a replica is
    option_logs = frozenset({"audit/server_audit.log"})  # records too
    encrypts = frozenset({"MariaDB", "MySQL"})

    def take_endpoint(self, spec: ServerSpec) -> None:
        pass

    def reach_source(self, spec: ServerSpec, source: ServerSpec) -> tuple[str, int]:
        return source.host, source.port

    def system_update(self, spec: ServerSpec) -> str | None:
        return None

    def update_system(self, spec: ServerSpec) -> None:
        pass

    def configure(self, spec: ServerSpec) -> None:
        pass

    def log_files(self, spec: ServerSpec) -> dict[str, LogFile]:
        return {}

    def read_log(self, spec: ServerSpec, name: str, offset: int, size: int) -> bytes:
        raise FileNotFoundError(name)

    def rotate_logs(self, spec: ServerSpec, hour: int) -> None:
        pass

    def start(self, spec: ServerSpec) -> None:
        pass

    def stop(self, spec: ServerSpec) -> None:
        pass

    def kill(self, spec: ServerSpec) -> None:
        pass

    def is_running(self, spec: ServerSpec) -> bool:
        return True

    def storage_full(self, spec: ServerSpec) -> bool:
        return False

    def destroy(self, spec: ServerSpec) -> None:
        pass

    def stop_all(self) -> None:
        pass


class _NoServerCursor:
    """The engine's SQL, sent to no server."""

    def execute(self, sql: str, args: object = None) -> int:
        return 0

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[tuple]:
        return []
