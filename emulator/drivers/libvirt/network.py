"""How guests are reached, as configured: `user` (QEMU forwards a port of the host's loopback to the
guest's 3306; the default here), or `bridge` (the 2013 recipe's br0: each guest has a static address of a
configured pool and its own MAC). Each yields the endpoints a new instance may take; the store's unique
endpoint decides between creates racing for one."""

import ipaddress
import pathlib
import secrets
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from emulator.drivers.base import InUse, bindable, local_endpoints
from emulator.drivers.libvirt.domain import JOB_PORT, BridgeNetwork, UserNetwork

MYSQL_PORT = 3306
# Where user-mode guests' job ports are forwarded from, apart from instances' ports (--ports).
JOB_PORTS = range(20000, 30000)
# Run by QEMU for a user-mode guest's connections to its source address.
RELAY = pathlib.Path(__file__).with_name("relay.py")
# Where the template guest's server is forwarded from while it is being saved: apart from instances' ports,
# which a create may have chosen but not yet bound.
TEMPLATE_PORTS = range(30000, 30100)
# The file in a guest's home that says where its source address leads (relay.py reads it).
UPSTREAM = "upstream"


@dataclass(frozen=True)
class BridgePool:
    """`br0:192.168.10.20-192.168.10.60/24,gateway=192.168.10.1,nameserver=192.168.10.1`"""

    bridge: str
    first: ipaddress.IPv4Address
    last: ipaddress.IPv4Address
    prefix: int
    gateway: str
    nameserver: str

    @classmethod
    def parse(cls, text: str) -> "BridgePool":
        try:
            bridge, rest = text.split(":", 1)
            span, *options = rest.split(",")
            addresses, prefix = span.split("/")
            first, last = (ipaddress.IPv4Address(a) for a in addresses.split("-"))
            named = dict(option.split("=", 1) for option in options)
            pool = cls(bridge, first, last, int(prefix), named.pop("gateway"), named.pop("nameserver"))
        except (ValueError, KeyError) as error:
            raise ValueError(f"a bridge pool reads like {cls.__doc__}: {error}") from None
        if named or not bridge or first > last or not 0 < pool.prefix <= 32:
            raise ValueError(f"a bridge pool reads like {cls.__doc__}")
        return pool

    def addresses(self) -> Iterable[str]:
        for number in range(int(self.first), int(self.last) + 1):
            yield str(ipaddress.IPv4Address(number))


class UserMode:
    def __init__(self) -> None:
        self._choosing = threading.Lock()

    def endpoints(self, host: str, requested: int | None, in_use: InUse,
                  ports: Iterable[int]) -> Iterable[tuple[str, int]]:
        return local_endpoints(host, requested, in_use, ports, reuse=False)

    def network(self, address: str, port: int, home: pathlib.Path, job_port: int | None = None,
                follows: bool = False) -> UserNetwork:
        """`job_port`: the template guest's, which is not an instance's and keeps none in its home. `follows`:
        the guest replicates, and gets its way to its source (only then: QEMU runs the relay outside libvirt's
        own sandbox, which every other guest keeps)."""
        return UserNetwork(address, port, job_port if job_port is not None else self._job_port(address, home),
                           relay=(sys.executable, "-I", str(RELAY), str(home / UPSTREAM)) if follows else ())

    def reach_source(self, home: pathlib.Path, source: tuple[str, int]) -> tuple[str, int]:
        """A guest reaches another's forwarded port through its own source address, which QEMU relays to
        what its home's upstream file names at each connection (and to nothing without one)."""
        kept = home / UPSTREAM
        kept.with_suffix(".new").write_text(f"{source[0]} {source[1]}\n")
        kept.with_suffix(".new").replace(kept)
        return UserNetwork.source_address, MYSQL_PORT

    def job_endpoint(self, address: str, home: pathlib.Path) -> tuple[str, int]:
        return address, self._job_port(address, home)

    def _job_port(self, address: str, home: pathlib.Path) -> int:
        """The host's port forwarded to the guest's job port: chosen once among those no other guest of
        this driver kept, then kept in its home."""
        kept = home / "job-port"
        with self._choosing:
            if not kept.exists():
                taken = {path.read_text().strip() for path in home.parent.glob("*/job-port")}
                port = next(port for port in JOB_PORTS if str(port) not in taken and bindable(address, port, False))
                home.mkdir(parents=True, exist_ok=True)
                kept.write_text(f"{port}\n")
            return int(kept.read_text())

    def guest_port(self, port: int) -> int:
        return MYSQL_PORT  # what the host's port is forwarded to


class BridgeMode:
    def __init__(self, pool: BridgePool):
        self.pool = pool

    def endpoints(self, host: str, requested: int | None, in_use: InUse,
                  ports: Iterable[int]) -> Iterable[tuple[str, int]]:
        """Each guest has an address of its own: the port is the one asked for, or MySQL's (not `ports`)."""
        port = requested or MYSQL_PORT
        return ((address, port) for address in self.pool.addresses() if not in_use.address_held(address))

    def network(self, address: str, port: int, home: pathlib.Path, job_port: int | None = None,
                follows: bool = False) -> BridgeNetwork:
        return BridgeNetwork(self.pool.bridge, mac(home), f"{address}/{self.pool.prefix}", self.pool.gateway,
                             self.pool.nameserver)


    def guest_port(self, port: int) -> int:
        return port  # the guest's server listens on its own address, on the instance's port

    def reach_source(self, home: pathlib.Path, source: tuple[str, int]) -> tuple[str, int]:
        return source  # guests on one bridge reach each other's addresses

    def job_endpoint(self, address: str, home: pathlib.Path) -> tuple[str, int]:
        return address, JOB_PORT


def template_ports(address: str) -> tuple[int, int]:
    """The template guest's server and job ports, while it is saved: apart from instances' job ports too (it
    is saved at start-up, while the first instance may be choosing its own)."""
    free = (port for port in TEMPLATE_PORTS if bindable(address, port, False))
    return next(free), next(free)


def mac(home: pathlib.Path) -> str:
    """The guest's MAC: drawn at random once (locally administered, QEMU's 52:54:00 prefix), then kept in its
    home, so that it stays the same across restarts."""
    kept = home / "mac"
    if not kept.exists():
        home.mkdir(parents=True, exist_ok=True)
        kept.write_text("52:54:00:" + ":".join(f"{byte:02x}" for byte in secrets.token_bytes(3)) + "\n")
    return kept.read_text().strip()


def mode(name: str, pool: str | None) -> UserMode | BridgeMode:
    if name == "user":
        return UserMode()
    if name == "bridge":
        if not pool:
            raise ValueError("bridge networking needs a pool of addresses (--bridge-pool)")
        return BridgeMode(BridgePool.parse(pool))
    raise ValueError(f"unknown guest network {name!r}: choose user or bridge")
