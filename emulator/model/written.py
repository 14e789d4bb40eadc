"""XML already written, kept by the store's rows it was written from.

The key is the data itself (every column, the task under way, the tags, as SQLite gave them), so an entry
never goes stale: a change to the instance makes other rows, and so another key. Old entries are only
unused, and the map is emptied whenever it fills. It is per process and holds no state of its own: with
several emulators over one shared store, each keeps its own, and none can serve another's stale answer."""

from emulator.protocol.xml import Written

LIMIT = 2048


class WrittenCache:
    def __init__(self, limit: int = LIMIT):
        self.limit = limit
        self._kept: dict[tuple, Written] = {}

    def get(self, rows: tuple) -> Written | None:
        return self._kept.get(rows)

    def put(self, rows: tuple, written: Written) -> None:
        if len(self._kept) >= self.limit:
            # cheaper than an LRU's bookkeeping on every hit; at about 7 KB an entry with its key, 14 MB at most
            self._kept.clear()
        self._kept[rows] = written
