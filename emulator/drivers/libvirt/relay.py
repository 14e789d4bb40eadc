"""Connections relayed to what a file names when each is made (`host port`), so that the file, not a
guest's boot, says where they go. Standard library only, and never a word on standard error.

- `relay.py FILE`: run by QEMU for each connection a user-mode guest opens to its source address
  (domain.py's guestfwd), the connection as standard input and output (and error): a replica's server
  reaches its source's forwarded port.
- `relay.py --listen HOST PORT FILE`: an instance's endpoint, held for a Multi-AZ instance's guests once a
  standby took over (endpoints.py): each client's connection goes to the forwarded port of whichever guest
  is primary.

Only loopback addresses are relayed to: never anything else."""

import ipaddress
import os
import selectors
import socket
import sys
import threading

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


def relayed(conn: socket.socket, path: str) -> None:
    """One connection, to what the file names now; closed at once when it names nothing it may reach."""
    target = upstream(path)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=CONNECT_TIMEOUT) as source:
            source.settimeout(None)
            relay(conn, source)
    except OSError:
        return


def serve(host: str, port: int, path: str) -> None:
    """Every connection to host:port, each in a thread of its own. The port is bound with SO_REUSEADDR: the
    connections a killed guest's forward closed still hold it (TIME_WAIT), which QEMU's bind does not pass."""
    with socket.create_server((host, port)) as listener:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=_closing, args=(conn, path), daemon=True).start()


def _closing(conn: socket.socket, path: str) -> None:
    with conn:
        relayed(conn, path)


def main() -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # QEMU's: standard error is the guest's connection too
    if len(sys.argv) == 5 and sys.argv[1] == "--listen":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 2:
        guest = socket.socket(fileno=os.dup(0))
        guest.setblocking(True)  # as QEMU left it, it may not be
        relayed(guest, sys.argv[1])


if __name__ == "__main__":
    main()
