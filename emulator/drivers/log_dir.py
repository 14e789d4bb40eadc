"""An instance's DB log files, kept in one directory of the host under the names of LOG_FILES (error.log,
slowquery.log, general.log, and the rotated `slowquery.log.13`): what both drivers serve, one way; and
what the end of an error log says went wrong."""

import os
import pathlib
import shutil

from emulator.drivers.base import LOG_FILES, ROTATED, LogFile, log_file_of

# What a server's error log says, and what a user can do about it.
LOG_REASONS = [
    ("Address already in use", "port {port} is in use by another program on this machine"),
    ("No space left on device", "the disk holding the data directory is full"),
    ("Cannot allocate memory", "the machine is out of memory"),
    ("Out of memory", "the machine is out of memory"),
    ("unknown variable", "its configuration names an option this server does not know"),
    ("is not a compiled character set", "its configuration names a character set this server does not have"),
    ("Permission denied", "it may not read or write its data directory"),
]


def reason(error_log: pathlib.Path, port: int) -> str | None:
    """What the end of a server's error log says went wrong, in words a user can act on."""
    try:
        lines = error_log.read_text(errors="replace").splitlines()[-30:]
    except OSError:
        return None
    # a warning never stopped a server (the `loose-` options of a plugin it has not loaded are warned of)
    tail = "\n".join(line for line in lines if "[Warning]" not in line)
    for pattern, words in LOG_REASONS:
        if pattern in tail:
            return words.format(port=port)
    return None


class LogDirectory:
    def __init__(self, path: pathlib.Path, in_place: bool = False):
        self.path = path
        # A file whose writer cannot be told to reopen it (QEMU appending what a guest's server writes to
        # its port) is rotated by copying it aside and emptying it, rather than by renaming it.
        self.in_place = in_place

    def files(self) -> dict[str, LogFile]:
        names = list(LOG_FILES) + [f"{base}.{hour}" for base in ROTATED for hour in range(24)]
        found = {}
        for name in names:
            try:
                stat = (self.path / str(log_file_of(name))).stat()
            except OSError:
                continue
            if self.in_place and not stat.st_size:
                continue  # the writer made it before the server wrote anything (or it was just rotated)
            found[name] = LogFile(stat.st_size, stat.st_mtime)
        return found

    def read(self, name: str, offset: int, size: int) -> bytes:
        file_name = log_file_of(name)
        if file_name is None:
            raise FileNotFoundError(name)
        with open(self.path / file_name, "rb") as handle:
            handle.seek(offset)
            return handle.read(size)

    def rotate(self, hour: int) -> None:
        """Set the current ROTATED logs aside as the given hour's."""
        for base in ROTATED:
            current = self.path / LOG_FILES[base]
            aside = current.with_name(f"{current.name}.{hour}")
            if not current.exists() or not current.stat().st_size:
                aside.unlink(missing_ok=True)  # nothing logged this hour: the same hour's file of a day ago goes
            elif self.in_place:
                shutil.copyfile(current, aside)
                os.truncate(current, 0)  # the writer appends: its next line starts the file again
            else:
                current.replace(aside)
