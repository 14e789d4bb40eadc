"""An instance's DB log files, kept in one directory of the host under the names of LOG_FILES (error.log,
slowquery.log, general.log, and the rotated `slowquery.log.13`): what both drivers serve, one way."""

import os
import pathlib
import shutil

from . import LOG_FILES, ROTATED, LogFile, log_file_of


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
