"""A newc cpio archive, the format the kernel unpacks an initramfs from, written from a directory tree."""

import os
import pathlib

_TRAILER = "TRAILER!!!"


def archive(root: pathlib.Path) -> bytes:
    """Every file, directory and symlink under root, with root's own contents at the archive's top."""
    parts = []
    for number, path in enumerate(sorted(root.rglob("*")), 1):
        stat = path.lstat()
        if path.is_symlink():
            data = os.readlink(path).encode()
        elif path.is_file():
            data = path.read_bytes()
        else:
            data = b""
        parts.append(_entry(str(path.relative_to(root)), number, stat.st_mode, data))
    parts.append(_entry(_TRAILER, 0, 0, b""))
    return b"".join(parts)


def _entry(name: str, inode: int, mode: int, data: bytes) -> bytes:
    encoded = name.encode() + b"\0"
    fields = [inode, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0]
    header = b"070701" + b"".join(f"{value:08x}".encode() for value in fields)
    return _pad(header + encoded) + _pad(data)


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)
