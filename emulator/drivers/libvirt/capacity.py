"""How much memory guests may take, so that the host never swaps: a guest is admitted only when its memory
and QEMU's own overhead fit in what the host could give guests, less what running guests were promised and
have not touched yet. Admissions are held until the guest runs (then libvirt counts it), so that creates
racing in one emulator cannot both take the last room."""

import pathlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from emulator.drivers.base import InsufficientCapacity

# QEMU's own memory beyond the guest's RAM: its code, TCG's translation cache (64 MiB), device buffers.
OVERHEAD_MIB = 100
# Left to the host: the emulator, its scheduler, the page cache that keeps guests' disks fast.
RESERVE_MIB = 1024
# An admission whose guest never started (its create failed before) stops counting after this long.
HOLD_SECONDS = 600.0


class Capacity:
    def __init__(self, committed: Callable[[], dict[str, int]], meminfo: pathlib.Path = pathlib.Path("/proc/meminfo")):
        # committed: memory (MiB) of each running guest of this host, by the resource id it runs (any name
        # for guests that are not ours)
        self.committed = committed
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
            promised = sum(mib + OVERHEAD_MIB for key, mib in running.items() if key != resource_id)
            promised += sum(mib + OVERHEAD_MIB for mib, _ in self.held.values())
            room = self.guest_memory() - promised
            if memory_mib + OVERHEAD_MIB > room:
                raise InsufficientCapacity(
                    f"a guest of {memory_mib} MiB needs {memory_mib + OVERHEAD_MIB} MiB with QEMU's own; this host "
                    f"has {max(room, 0)} MiB left for guests"
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

    def guest_memory(self) -> int:
        """MiB the host could give guests: what is available now, plus what the running QEMUs hold (they are
        counted by what they were promised instead), less the host's reserve."""
        return meminfo(self.meminfo)["MemAvailable"] // 1024 + _qemu_rss_mib() - RESERVE_MIB


def meminfo(path: pathlib.Path = pathlib.Path("/proc/meminfo")) -> dict[str, int]:
    """The host's memory figures, in KiB."""
    values = {}
    for line in path.read_text().splitlines():
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0])
    return values


def _qemu_rss_mib() -> int:
    total = 0
    for status in pathlib.Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if text.startswith("Name:\tqemu-system"):
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total // 1024
