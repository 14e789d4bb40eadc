"""Where a DB server lives, behind one small interface (drivers/factory.py picks one by name); what every
driver shares: the spec of a server, its errors, its ports, and waiting for it to answer."""

import hashlib
import os
import pathlib
import socket
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

import pymysql

from emulator.failures import Failure
from emulator.model.engine_versions import EngineVersion

# The DB log files as RDS names them, and the file each server writes them to in its log directory.
LOG_FILES = {
    "error/mysql-error.log": "error.log",
    "slowquery/mysql-slowquery.log": "slowquery.log",
    "general/mysql-general.log": "general.log",
    # the MariaDB audit plugin's (option group option MARIADB_AUDIT_PLUGIN)
    "audit/server_audit.log": "audit.log",
}
# The logs RDS rotates every hour: the hour a file covers (UTC, 0-23) becomes its suffix, so that the
# file of the same hour a day later replaces it and 24 hours are kept.
ROTATED = ("slowquery/mysql-slowquery.log", "general/mysql-general.log")
# How long the emulator's own statements may wait on a server (seconds): each is quick, and one that waits
# this long is on a server that blocks (its disk full, say), whose connection is let go.
ADMIN_TIMEOUT = 60
# Below this much room a server's storage is full: InnoDB grows its files by several MiB at a time.
FULL_BELOW = 16 * 2**20


def log_file_of(name: str) -> str | None:
    """The file a log's RDS name (rotated ones included, `....log.13`) is kept in; None for any other name."""
    if name in LOG_FILES:
        return LOG_FILES[name]
    base, _, hour = name.rpartition(".")
    if base in ROTATED and hour.isascii() and hour.isdigit() and str(int(hour)) == hour and int(hour) < 24:
        return f"{LOG_FILES[base]}.{hour}"
    return None


# Where a backup's data ends in its server's binary log: (file, position), or (None, None) without one.
BinlogPoint = tuple[str | None, int | None]


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
    # The server's configuration beyond what the driver itself decides: its parameter group's values.
    parameters: dict[str, str] = field(default_factory=dict)
    # What a guest is sized by: its memory and CPUs, and its disk.
    instance_class: str = "db.t3.micro"
    allocated_storage: int = 20
    # The engine version whose server runs it (None: a spec made only to stop a server found on disk).
    version: EngineVersion | None = None
    # A Multi-AZ standby's: no client may reach it (each driver keeps them out its own way).
    standby: bool = False
    # It replicates from another server (a read replica's, a standby's): a guest gets its way to a source.
    follows: bool = False
    # What its option group's options make of its configuration (engines/plugins.py; model/options.py)
    options: dict[str, str] = field(default_factory=dict)
    # Encryption at rest: the data key (hex) its tablespaces, logs and binary logs are encrypted with; None:
    # not encrypted. Never shown (no repr).
    data_key: str | None = field(default=None, repr=False)
    # The certificate authority its TLS certificate is signed by (rds-ca-rsa2048-g1...); None: no TLS.
    ca_certificate: str | None = None

    @property
    def server_id(self) -> int:
        """Its server's own id (1 to 2**32 - 1), from its resource id: replication tells servers apart by it."""
        return int.from_bytes(hashlib.sha256(self.resource_id.encode()).digest()[:4]) % (2**32 - 1) + 1


@dataclass(frozen=True)
class LogFile:
    size: int
    last_written: float  # seconds since the epoch


class DriverError(Failure):
    """A server could not be brought to the state asked for. The message is for users: no SQL, no secrets."""


class HostRefused(DriverError):
    """The host could not run the server (no room for it, libvirt refused the guest): whatever its
    configuration, so not the parameter group's fault."""


class InsufficientCapacity(Exception):
    """The host has no room for another server of the class asked for; the message says why."""


class PortUnavailable(Exception):
    """The port asked for is held by something else on this machine."""


class CertificateIssuer(Protocol):
    """Server certificates for the drivers that serve TLS (host/certificates.py makes them)."""

    def issue(self, server: str, authority: str, address: str) -> pathlib.Path:
        """A folder with server-cert.pem, server-key.pem and ca.pem for `server` at `address`, signed by the
        named authority."""


class InUse(Protocol):
    """The endpoints instances hold, asked about one at a time: the store answers each from its index (reading
    them all cost half a create at 1000 instances)."""

    def endpoint_held(self, address: str, port: int) -> bool: ...

    def address_held(self, address: str) -> bool: ...


class Driver(Protocol):
    def versions(self) -> dict[EngineVersion, str]:
        """The engine versions the driver's instances can run, each with the full version its server reports
        (that upgrades go to)."""

    def reach(self) -> list[pathlib.Path]:
        """The host's folders the engine's tools (run in the server's tree) must see to reach the driver's
        servers: their sockets' folder."""

    def endpoints(self, host: str, requested: int | None, in_use: InUse,
                  ports: Iterable[int]) -> Iterable[tuple[str, int]]:
        """Addresses and ports a new server could listen on, best first, none of them held by an instance: on
        `host`, the requested port alone or free ones of `ports`, in their order (or on addresses of the
        driver's own).
        PortUnavailable when the requested port is held by another program."""

    def admit(self, spec: ServerSpec) -> AbstractContextManager[None]:
        """Room for the spec's server (its class, its parameters), held for its resource from entering the
        block until its server runs (released if the block fails); InsufficientCapacity when the host has
        none."""

    def provision(self, spec: ServerSpec) -> None:
        """Create the server's storage and start it. Idempotent."""

    def restart(self, spec: ServerSpec) -> None:
        """Stop the server if it runs, and start it with the spec's configuration and size (a reboot)."""

    def resize(self, spec: ServerSpec) -> None:
        """Give the server the spec's allocated storage, where the driver sizes storage at all."""

    def reconcile(self, specs: list[ServerSpec]) -> list[str]:
        """Bring what the driver keeps in line with the store's instances (a guest's title after a rename),
        and say what it finds of its own that belongs to none of them."""

    def admin(self, spec: ServerSpec) -> AbstractContextManager[Any]:
        """A DB-API cursor on the running server, as an administrator: the engine's SQL runs over it."""

    def backup(self, spec: ServerSpec, sink: BinaryIO, progress: Callable[[float], None]) -> BinlogPoint:
        """A consistent hot backup of the running server into `sink`, telling `progress` the share done
        (0-1) as it goes; where the backup's data ends in the server's binary log (file, position)."""

    def ready_backup(self, spec: ServerSpec) -> pathlib.Path | None:
        """What `backup` would write of a server that holds nothing but what a new one does, made once by the
        engine's own tool (a restore of it makes the master user again, as every restore does); None where
        a new server is not made from a ready data directory, or none was backed up."""

    def seed(self, spec: ServerSpec, source: BinaryIO) -> None:
        """Make the server's storage from a backup (what `backup` wrote) instead of an empty server; the
        next provision starts it. Does nothing to a server already provisioned."""

    def client_options(self, spec: ServerSpec) -> dict[str, str] | None:
        """Options of a [client] option-file group that let the engine's command-line tools (the mariadb
        client, mariadb-binlog) reach the running server as an administrator, from this host; None when
        there is no server to reach."""

    # Whether an instance may have a Multi-AZ standby here: a second server no client reaches, which takes
    # over the instance's endpoint at a failover.
    standbys: bool
    # The log files an option's plugin writes that this driver serves beside the server's own (LOG_FILES):
    # an option whose log cannot be served is not offered.
    option_logs: frozenset[str]
    # The flavors whose servers this driver runs encrypted at rest (ServerSpec.data_key).
    encrypts: frozenset[str]

    def reach_source(self, spec: ServerSpec, source: ServerSpec) -> tuple[str, int]:
        """Let the server reach `source`'s, to replicate from it; where it connects to (host, port)."""

    def system_update(self, spec: ServerSpec) -> str | None:
        """What the system under the server would gain from an update the driver can apply (a guest made from
        an older template image than the current one); None when it is current, or has no system of its own."""

    def update_system(self, spec: ServerSpec) -> None:
        """Move the stopped-then-started server, data and binary logs included, onto the current system. When
        that fails, the server runs on its old system again and DriverError says why."""

    def configure(self, spec: ServerSpec) -> None:
        """Write the server's configuration (spec.parameters included); it takes effect at its next start."""

    def log_files(self, spec: ServerSpec) -> dict[str, "LogFile"]:
        """The server's DB log files that exist, by the names RDS gives them (error/mysql-error.log, ...)."""

    def read_log(self, spec: ServerSpec, name: str, offset: int, size: int) -> bytes:
        """Up to `size` bytes of a log file from `offset`. FileNotFoundError when it does not exist."""

    def rotate_logs(self, spec: ServerSpec, hour: int) -> None:
        """Set the current ROTATED logs aside as the given hour's (the server is told to reopen them next)."""

    def start(self, spec: ServerSpec) -> None:
        """Start the server and return once it answers. A no-op when it already runs."""

    def stop(self, spec: ServerSpec) -> None:
        """Stop the server cleanly. A no-op when it is not running."""

    def take_endpoint(self, spec: ServerSpec) -> None:
        """The server of a standby that took over (its replication let go; its former primary killed) answers
        on the instance's endpoint, with the spec's configuration (a primary's), at once."""

    def kill(self, spec: ServerSpec) -> None:
        """Stop the server at once, as a power cut would, and return once it is gone: a Multi-AZ failover's
        fence (the former primary never takes another write). A no-op when it is not running."""

    def is_running(self, spec: ServerSpec) -> bool: ...

    def storage_full(self, spec: ServerSpec) -> bool:
        """Whether the server's storage has no room left: its writes wait until there is."""

    def destroy(self, spec: ServerSpec) -> None:
        """Stop the server and remove everything it kept. Idempotent."""

    def stop_all(self) -> None:
        """Stop every server this driver started: the emulator is shutting down."""


def answers(spec: ServerSpec, admin: Callable[[ServerSpec], AbstractContextManager[Any]]) -> bool:
    """The server greets on its endpoint and runs SELECT 1 over the driver's administrator connection."""
    try:
        with socket.create_connection((spec.host, spec.port), timeout=1) as conn:
            if not conn.recv(4):
                return False
        with admin(spec) as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except (OSError, pymysql.MySQLError):
        return False


def no_room(path: pathlib.Path) -> bool:
    """Whether the filesystem holding `path` is full for a server: what root may still write (servers here
    run as root, who may use the blocks kept back from other users) is below what a server needs to go on."""
    try:
        found = os.statvfs(path)
    except OSError:
        return False
    blocks = found.f_bfree if os.geteuid() == 0 else found.f_bavail
    return blocks * found.f_frsize < FULL_BELOW


def until(condition: Callable[[], bool], timeout: float, poll: float) -> bool:
    """Whether the condition came true within the timeout, looking every `poll` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return condition()


def bindable(host: str, port: int, reuse: bool = True) -> bool:
    """Whether a server could listen on host:port now. `reuse`: as a server that sets SO_REUSEADDR (MariaDB);
    QEMU's forwarded ports do not, and a connection of a guest gone a moment ago (TIME_WAIT) still holds the
    port for them: it failed a guest started after another on the same port."""
    with socket.socket() as probe:
        if reuse:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def local_endpoints(host: str, requested: int | None, in_use: InUse, ports: Iterable[int],
                    reuse: bool = True) -> Iterable[tuple[str, int]]:
    """Ports on this machine's loopback: what processes (and user-mode guests' forwards) listen on."""
    if requested is not None:
        if not in_use.endpoint_held(host, requested) and not bindable(host, requested, reuse):
            raise PortUnavailable(requested)
        return [(host, requested)]
    return ((host, port) for port in ports if not in_use.endpoint_held(host, port) and bindable(host, port, reuse))
