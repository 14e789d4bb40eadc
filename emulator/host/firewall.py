"""Where DB security groups are enforced: an nftables table of the emulator's own that drops new connections
to a guarded instance's endpoint from any address outside the CIDR ranges its groups authorize.

Only instances in DB security groups are guarded (the EC2-Classic kind; instances in a VPC have VPC security
groups, which are not enforced). The host itself is inside the perimeter: the emulator manages its servers
through their endpoints, and so do the engine's tools it runs. A connection that is already open survives a
revoke, as a tracked connection does on AWS; a new one is dropped, so its client times out as on AWS.

The table is one per data directory, rewritten whole and atomically (`nft -f`) from the store each time, and
deleted when no instance is guarded and when the emulator stops its servers."""

import hashlib
import ipaddress
import logging
import pathlib
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from emulator.engines import tools
from emulator.failures import Failure

log = logging.getLogger(__name__)
NFT_TIMEOUT = 10.0
# A connection's first packet, without connection tracking (which a bridge may not have)
OPENING = "tcp flags & (syn | ack) == syn"


class FirewallError(Failure):
    """The rules could not be put in place: its message says why, for users."""


@dataclass(frozen=True)
class Guard:
    """An endpoint and the ranges let in to it."""

    address: str
    port: int
    cidrs: tuple[str, ...]


class Firewall(Protocol):
    def sync(self, guards: Callable[[], Iterable[Guard]]) -> None:
        """Make the rules what `guards` (read from the store, under the firewall's lock) says. FirewallError."""

    def remove(self) -> None:
        """Take every rule away: no server of ours listens any more."""


def table_name(data_dir: pathlib.Path) -> str:
    return "rds_emulator_" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]


def ruleset(table: str, guards: Iterable[Guard]) -> str:
    """An nft script that replaces the table with one guarding these endpoints. A guest on a bridge is reached
    through the host's bridge, not its input: the bridge table covers those."""
    ordered = sorted(guards, key=lambda guard: (guard.address, guard.port))
    host = [_rule(guard, True) for guard in ordered]
    passing = [_rule(guard, False) for guard in ordered]
    return removal(table) + "\n".join([
        f"table inet {table} {{", *_chain("input", host), *_chain("forward", passing), "}",
        f"table bridge {table} {{", *_chain("forward", passing), "}", "",
    ])


def removal(table: str) -> str:
    """Both tables made if missing, then deleted: in one script, whatever was there before."""
    return "\n".join([f"table inet {table} {{}}", f"delete table inet {table}",
                      f"table bridge {table} {{}}", f"delete table bridge {table}", ""])


def _chain(hook: str, rules: list[str]) -> list[str]:
    return [f"  chain {hook} {{", f"    type filter hook {hook} priority filter; policy accept;",
            *(f"    {rule}" for rule in rules), "  }"]


def _rule(guard: Guard, host: bool) -> str:
    """The drop; on the host's input, not for a connection from the host itself."""
    to = f"tcp dport {guard.port}" if guard.address == "0.0.0.0" else \
        f"ip daddr {guard.address} tcp dport {guard.port}"
    # nft refuses overlapping ranges in one set
    ranges = ipaddress.collapse_addresses(ipaddress.ip_network(cidr, strict=False) for cidr in guard.cidrs)
    allowed = f" ip saddr != {{ {', '.join(map(str, ranges))} }}" if guard.cidrs else ""
    return f"{to} {OPENING}{' fib saddr type != local' if host else ''}{allowed} drop"


class NftFirewall:
    def __init__(self, table: str):
        self.table = table
        self._lock = threading.Lock()
        self._applied: str | None = None

    def sync(self, guards: Callable[[], Iterable[Guard]]) -> None:
        with self._lock:
            wanted = list(guards())
            script = ruleset(self.table, wanted) if wanted else removal(self.table)
            if script == self._applied:
                return
            if not wanted and self._applied is None and _nft_binary() is None:
                return  # nothing guarded, nor ever put in place
            _nft(script)
            self._applied = script

    def remove(self) -> None:
        with self._lock:
            if _nft_binary() is None:
                return
            try:
                _nft(removal(self.table))
            except FirewallError as error:
                log.error("could not remove the DB security groups' nftables table %s: %s", self.table, error)
            self._applied = None


class Unguarded:
    """The `none` driver's: it runs no server, so there is nothing to guard."""

    def sync(self, guards: Callable[[], Iterable[Guard]]) -> None:
        pass

    def remove(self) -> None:
        pass


def _nft_binary() -> str | None:
    return shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")


def _nft(script: str) -> None:
    binary = _nft_binary()
    if binary is None:
        raise FirewallError("DB security groups are enforced with nftables, and nft is not installed "
                            "(run `make setup`, or install Debian's nftables)")
    try:
        tools.run([binary, "-f", "-"], input=script.encode(), timeout=NFT_TIMEOUT, explain=_refusal)
    except tools.ToolFailed as failed:
        raise FirewallError(str(failed).replace(f"{binary} failed:", "nft refused the rules:", 1)) from None


def _refusal(stderr: bytes) -> str:
    """nft's first line names the rule it refused; the rest repeats the script."""
    text = stderr.decode(errors="replace")
    said = text.strip().splitlines()
    return (said[0] if said else "no reason given") + (
        " (the emulator needs root, or CAP_NET_ADMIN, to enforce them)" if "Operation not permitted" in text else "")


def make(driver: str, data_dir: pathlib.Path) -> Firewall:
    return Unguarded() if driver == "none" else NftFirewall(table_name(data_dir))
