"""The saved template guest: one guest booted from the image, its server up, then saved by libvirt; a new
instance's guest starts from that saved state (QEMU takes it from a unix socket, `-incoming`) on a disk
overlay of the template's disk, instead of booting. The driver then gives it its own administrator
password, server id, name and clock over SQL (templates.py). A MySQL template is saved before its server
starts (held): its server names itself at its first start, so each restored guest starts it with its own
configuration, sent over the job port.

Kept beside the image it was made from (`<image>/warm-<memory MiB>-<version>/`): the template's disk
overlay (never written again), the QEMU state stream, and the template administrator's key. The version
covers the guest's device layout and the QEMU that saved it: another layout or QEMU makes another
template, since a saved state only loads into the same machine."""

import fcntl
import hashlib
import os
import pathlib
import secrets
import shutil
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from emulator.engines import tools

DISK, STREAM, KEY, READY = "disk.qcow2", "state.stream", "admin.key", "ready"
# A template saved before its server started (MySQL's, rds-init): the token its rds-job takes `go` with.
HOLD = "hold.key"
# libvirt's save image: a 92-byte header (magic, version, XML length, ...), the domain XML, then QEMU's stream.
_HEADER = struct.Struct("<16s5I56x")
_MAGIC = b"LibvirtQemudSave"



@dataclass(frozen=True)
class Warm:
    path: pathlib.Path

    @property
    def disk(self) -> pathlib.Path:
        return self.path / DISK

    @property
    def stream(self) -> pathlib.Path:
        return self.path / STREAM

    @property
    def password(self) -> str:
        return (self.path / KEY).read_text().strip()

    @property
    def hold(self) -> pathlib.Path:
        return self.path / HOLD

    @property
    def held(self) -> bool:
        return self.hold.exists()

    @property
    def ready(self) -> bool:
        return (self.path / READY).exists()


def version(domain_xml: str) -> str:
    qemu = tools.run(["qemu-system-x86_64", "--version"])
    return hashlib.sha256(domain_xml.encode() + qemu).hexdigest()[:12]


@contextmanager
def building(warm: Warm) -> Iterator[bool]:
    """Held while one emulator makes the template; True when it still has to be made."""
    warm.path.parent.mkdir(parents=True, exist_ok=True)
    with open(warm.path.parent / f".{warm.path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if warm.ready:
            yield False
            return
        shutil.rmtree(warm.path, ignore_errors=True)
        warm.path.mkdir()
        (warm.path / KEY).write_text(secrets.token_hex(32))
        (warm.path / KEY).chmod(0o600)
        yield True


def keep_stream(saved: pathlib.Path, warm: Warm) -> None:
    """QEMU's stream out of libvirt's save image: the part a new guest's QEMU takes."""
    with open(saved, "rb") as image, open(warm.stream, "wb") as stream:
        magic, _, xml_length, _, compressed, _ = _HEADER.unpack(image.read(_HEADER.size))
        if magic != _MAGIC or compressed:
            raise ValueError(f"{saved} is not an uncompressed libvirt save image")
        image.seek(_HEADER.size + xml_length)
        shutil.copyfileobj(image, stream, 4 * 2**20)
    saved.unlink()
    (warm.path / READY).touch()


def feed(warm: Warm, sock: pathlib.Path, timeout: float = 30.0) -> threading.Thread:
    """Send the saved state to the QEMU that listens on `sock` (it starts listening as it starts)."""

    def send() -> None:
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_UNIX) as conn:
            while True:
                try:
                    conn.connect(str(sock))
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        return
                    time.sleep(0.01)
            with open(warm.stream, "rb") as stream:
                size, offset = os.fstat(stream.fileno()).st_size, 0
                try:
                    while offset < size:
                        offset += os.sendfile(conn.fileno(), stream.fileno(), offset, size - offset)
                except OSError:
                    return  # QEMU went away: the start fails, and says so

    thread = threading.Thread(target=send, name=f"feed-{sock.parent.name}", daemon=True)
    thread.start()
    return thread
