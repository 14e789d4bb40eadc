"""How much memory servers may take, so that the host never swaps: a server (a guest, or a process) is
admitted only when its memory and its own overhead fit in what the host could give servers, less what running
servers were promised and have not touched yet. Admissions are held until the server runs (then it counts as
running), so that creates racing in one emulator cannot both take the last room."""

import pathlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from emulator.drivers.base import InsufficientCapacity

# Left to the host: the emulator, its scheduler, the page cache that keeps servers' disks fast.
RESERVE_MIB = 1024
# An admission whose server never started (its create failed before) stops counting after this long.
HOLD_SECONDS = 600.0


class Capacity:
    def __init__(self, committed: Callable[[], dict[str, int]], holding: Callable[[], int], overhead_mib: int,
                 what: str = "guest", meminfo: pathlib.Path = pathlib.Path("/proc/meminfo")):
        # committed: memory (MiB) of each running server of this host, by the resource id it runs (any name
        # for guests that are not ours); holding: MiB the running servers' processes hold now (counted in
        # `committed` instead); overhead_mib: what each server takes beyond its memory
        self.committed = committed
        self.holding = holding
        self.overhead = overhead_mib
        self.what = what
        self.meminfo = meminfo
        self.lock = threading.Lock()
        self.held: dict[str, tuple[int, float]] = {}

    def admit(self, resource_id: str, memory_mib: int) -> None:
        with self.lock:
            running = self.committed()
            now = time.monotonic()
            self.held = {key: (mib, at) for key, (mib, at) in self.held.items()
                         if key not in running and now - at < HOLD_SECONDS}
            self.held.pop(resource_id, None)
            promised = sum(mib + self.overhead for key, mib in running.items() if key != resource_id)
            promised += sum(mib + self.overhead for mib, _ in self.held.values())
            room = self.server_memory() - promised
            if memory_mib + self.overhead > room:
                raise InsufficientCapacity(
                    f"a {self.what} of {memory_mib} MiB needs {memory_mib + self.overhead} MiB with its own "
                    f"overhead; this host has {max(room, 0)} MiB left for {self.what}s"
                )
            self.held[resource_id] = (memory_mib, now)

    @contextmanager
    def held_for(self, resource_id: str, memory_mib: int) -> Iterator[None]:
        """Admitted for what the block does; released again if it fails."""
        self.admit(resource_id, memory_mib)
        try:
            yield
        except BaseException:
            self.release(resource_id)
            raise

    def release(self, resource_id: str) -> None:
        with self.lock:
            self.held.pop(resource_id, None)

    def server_memory(self) -> int:
        """MiB the host could give servers: what is available now, plus what the running servers hold (they
        are counted by what they were promised instead), less the host's reserve."""
        return meminfo(self.meminfo)["MemAvailable"] // 1024 + self.holding() - RESERVE_MIB


def meminfo(path: pathlib.Path = pathlib.Path("/proc/meminfo")) -> dict[str, int]:
    """The host's memory figures, in KiB."""
    values = {}
    for line in path.read_text().splitlines():
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0])
    return values


def rss_mib(pids: Iterable[int]) -> int:
    """MiB the processes hold in memory now; those gone count for nothing."""
    return _rss_mib(pathlib.Path(f"/proc/{pid}/status") for pid in pids)


def qemu_rss_mib() -> int:
    """MiB every QEMU of this host holds: guests that are not ours take room too."""
    return _rss_mib(pathlib.Path("/proc").glob("[0-9]*/status"), "qemu-system")


def _rss_mib(statuses: Iterable[pathlib.Path], name: str = "") -> int:
    """The resident memory of the processes of these /proc status files whose name starts with `name`."""
    total = 0
    for status in statuses:
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        if lines and lines[0].startswith(f"Name:\t{name}"):
            total += next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)
    return total // 1024
