"""The filesystem that holds the data directory, as an account's storage quota reads it."""

import os
import pathlib


def size(path: pathlib.Path) -> int:
    """The bytes of the filesystem holding `path` (0 when it cannot be read)."""
    try:
        found = os.statvfs(path)
    except OSError:
        return 0
    return found.f_blocks * found.f_frsize
