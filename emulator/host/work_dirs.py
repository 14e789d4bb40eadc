"""Where tasks keep their work files (binary logs being replayed, a client option file that logs in to a
server): under the data directory, the owner's only, never in /tmp where a killed emulator would leave them."""

import pathlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def work_dir(data_dir: pathlib.Path, name: str) -> Iterator[pathlib.Path]:
    """The task's folder `name`: what an interrupted run of the task left there is removed as it is taken
    up again, and the folder itself when the work ends, however it ends."""
    root = data_dir / "work"
    root.mkdir(mode=0o700, exist_ok=True)
    path = root / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep(data_dir: pathlib.Path) -> None:
    """At start-up, before any task runs: what tasks of a former run left (a task that will not run again
    leaves its folder to nobody)."""
    shutil.rmtree(data_dir / "work", ignore_errors=True)
