"""Network namespaces a test makes for itself, so that DB servers can be reached from addresses other than the
host's own without any traffic leaving the test's namespaces: a server side and a client side, joined by a
veth pair. `inside(name)` moves the calling thread into one; a socket made there stays there, and a process
started there (the emulator, and the libvirtd it starts) lives there."""

import ctypes
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.emulator_process import kill

CLONE_NEWNET = 0x40000000
SERVER = "10.77.0.1"
# two addresses on the client side: one a group will let in, one it will not
ALLOWED, DENIED = "10.77.0.2", "10.77.0.3"
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Pair:
    server: str
    client: str


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@contextmanager
def pair() -> Iterator[Pair]:
    tag = secrets.token_hex(3)
    made = Pair(f"rdst-srv-{tag}", f"rdst-cli-{tag}")
    try:
        _ip("netns", "add", made.server)
        _ip("netns", "add", made.client)
        _ip("link", "add", f"rdsts{tag}", "netns", made.server, "type", "veth", "peer", "name", f"rdstc{tag}",
            "netns", made.client)
        for namespace, device, addresses in ((made.server, f"rdsts{tag}", [SERVER]),
                                             (made.client, f"rdstc{tag}", [ALLOWED, DENIED])):
            for address in addresses:
                _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", device)
            _ip("-n", namespace, "link", "set", device, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
        yield made
    finally:
        for namespace in (made.server, made.client):
            kill_everything_in(namespace)
            subprocess.run(["ip", "netns", "del", namespace], check=False, capture_output=True)


def kill_everything_in(namespace: str) -> list[int]:
    """Whatever still runs in the namespace (a libvirtd started there, say); the pids."""
    listed = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False)
    return kill([int(pid) for pid in listed.stdout.split()])


@contextmanager
def inside(namespace: str) -> Iterator[None]:
    with open("/proc/thread-self/ns/net") as home, open(f"/run/netns/{namespace}") as there:
        _setns(there.fileno())
        try:
            yield
        finally:
            _setns(home.fileno())


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
