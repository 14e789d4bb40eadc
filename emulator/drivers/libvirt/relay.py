"""Run by QEMU for each connection a user-mode guest opens to its source address (domain.py's guestfwd):
the connection is this process's standard input and output, and it is relayed to the host's address and
port its guest's `upstream` file names when it connects (a replica's source's forwarded port), so that the
file, not the guest's boot, says where a replica's server reaches its source. Standard library only, and
never a word on standard error: QEMU hands the guest's connection in as that too.

Only loopback addresses are relayed to: a guest reaches its source's forward, never anything else."""

import ipaddress
import os
import selectors
import socket
import sys

CONNECT_TIMEOUT = 5
CHUNK = 65536


def upstream(path: str) -> tuple[str, int] | None:
    try:
        with open(path) as kept:
            host, port = kept.read().split()
        if not ipaddress.ip_address(host).is_loopback:
            return None
        return host, int(port)
    except (OSError, ValueError):
        return None


def relay(guest: socket.socket, source: socket.socket) -> None:
    """Bytes both ways until both sides have finished: each end's close is passed on as a half-close."""
    peer = {guest: source, source: guest}
    open_ends = {guest, source}
    with selectors.DefaultSelector() as selector:
        for end in open_ends:
            selector.register(end, selectors.EVENT_READ)
        while open_ends:
            for key, _ in selector.select():
                end = key.fileobj
                chunk = end.recv(CHUNK)
                if chunk:
                    peer[end].sendall(chunk)
                    continue
                selector.unregister(end)
                open_ends.discard(end)
                try:
                    peer[end].shutdown(socket.SHUT_WR)
                except OSError:
                    return


def main() -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # standard error is the guest's connection too
    target = upstream(sys.argv[1]) if len(sys.argv) == 2 else None
    if target is None:
        return
    guest = socket.socket(fileno=os.dup(0))
    guest.setblocking(True)  # as QEMU left it, it may not be
    try:
        source = socket.create_connection(target, timeout=CONNECT_TIMEOUT)
        source.settimeout(None)
        relay(guest, source)
    except OSError:
        return


if __name__ == "__main__":
    main()
