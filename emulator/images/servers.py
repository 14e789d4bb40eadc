"""The engine versions' server trees on this machine, as one registry: each found in the cache, or built the
first time it is needed (by one caller at a time: the others wait for that build, then find it)."""

import logging
import pathlib
import threading

from emulator.images import build, server_tree
from emulator.images.server_tree import ServerTree
from emulator.model.engine_versions import EngineVersion

log = logging.getLogger(__name__)


class Servers:
    def __init__(self, cache_dir: pathlib.Path):
        self.cache_dir = cache_dir
        self._found: dict[EngineVersion, ServerTree] = {}
        self._lock = threading.Lock()

    def tree(self, row: EngineVersion, progress: build.Progress | None = None) -> ServerTree:
        """The row's tree, built now if this machine has none (about a minute: debootstrap)."""
        found = self.built(row)
        if found is None:
            log.info("building the server tree of %s (once; later starts find it cached)", row.name)
            found = server_tree.ensure(self.cache_dir, row, progress)
            with self._lock:
                self._found[row] = found
        return found

    def built(self, row: EngineVersion) -> ServerTree | None:
        with self._lock:
            found = self._found.get(row)
        if found is None and (found := server_tree.find(self.cache_dir, row)) is not None:
            with self._lock:
                self._found[row] = found
        return found

    def version(self, row: EngineVersion) -> str:
        """The full version the row's server reports: its tree's, or the row's nominal one until it is built."""
        found = self.built(row)
        return found.version if found is not None else row.nominal
