"""Where backups and archived binary logs are kept, behind one small interface. The only implementation so
far is a directory under the data dir; an S3-compatible bucket is the planned second (docs/backups.md)."""

import os
import pathlib
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import BinaryIO, Protocol


class BackupStorage(Protocol):
    def writer(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A file to write the object into; it exists under `key` only once the block ends without error."""

    def reader(self, key: str) -> BinaryIO:
        """The object's bytes. FileNotFoundError when it is not there."""

    def size(self, key: str) -> int: ...

    def copy(self, source: str, target: str) -> None: ...

    def put(self, key: str, path: pathlib.Path) -> None:
        """A file that is never changed afterwards, as the object `key`."""

    def delete(self, key: str) -> None:
        """Remove the object; nothing when it is not there."""


class LocalStorage:
    def __init__(self, root: pathlib.Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, key: str) -> pathlib.Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"backup key {key!r} leaves the storage")
        return path

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        try:
            with open(partial, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)

    def reader(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")  # noqa: SIM115 - the caller closes it

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def copy(self, source: str, target: str) -> None:
        """Objects are never changed once written: a copy is a second name for the same bytes."""
        path = self._path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self._path(source), path)
        except OSError:
            with self.reader(source) as src, self.writer(target) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)

    def put(self, key: str, path: pathlib.Path) -> None:
        """A second name for the file where the filesystem gives one, else a copy."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)  # one an interrupted task made
        try:
            os.link(path, target)
        except OSError:
            with open(path, "rb") as src, self.writer(key) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
