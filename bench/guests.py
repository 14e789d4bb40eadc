"""`make bench`, part 4: libvirt guests (TCG here; KVM where the probe finds it works), booted and restored
from the saved template guest: create-to-available and reboot-to-available one at a time, three creates
together, the RSS of each guest's QEMU, the template image's build (cached, and cold with --cold-build),
and how many idle db.t3.micro guests this host admits before a create is refused with
InsufficientDBInstanceCapacity (counted by the driver's own rule, or by creating guests until one is
refused, with --fill-host)."""

import os
import pathlib
import shutil
import statistics
import tempfile
import threading
import time

from bench.clients import signed
from bench.proc import rss_mb
from compat.query_client import QueryClient, QueryError
from emulator.config import Settings
from emulator.drivers.capacity import Capacity, meminfo, qemu_rss_mib
from emulator.drivers.libvirt.driver import QEMU_OVERHEAD_MIB
from emulator.drivers.libvirt.size import DEFAULT_MEMORY_FACTOR, memory_mib
from emulator.images import build
from emulator.model import engine_versions
from tests.emulator_process import EmulatorProcess, remove_guests, servers_under, wait_for

CREATE = {"DBInstanceClass": "db.t3.micro", "Engine": "mariadb", "AllocatedStorage": "20",
          "MasterUsername": "admin", "MasterUserPassword": "password1"}


def possible() -> str | None:
    """Why guests cannot be measured here, or None."""
    if os.geteuid() != 0:
        return "guests need root"
    missing = [tool for tool in ("qemu-system-x86_64", "libvirtd", "debootstrap")
               if not shutil.which(tool) and not shutil.which(tool, path="/usr/sbin")]
    return f"missing {', '.join(missing)}: run `make setup`" if missing else None


def _available(client: QueryClient, name: str) -> bool:
    found = client.call("DescribeDBInstances", {"DBInstanceIdentifier": name})["DBInstances"]["DBInstance"]
    return found["DBInstanceStatus"] == "available"


def _create(client: QueryClient, name: str, **extra: str) -> float:
    start = time.perf_counter()
    client.call("CreateDBInstance", CREATE | {"DBInstanceIdentifier": name} | extra)
    wait_for(lambda: _available(client, name), 300, name, interval=0.05)
    return time.perf_counter() - start


def _reboot(client: QueryClient, name: str) -> float:
    start = time.perf_counter()
    client.call("RebootDBInstance", {"DBInstanceIdentifier": name})
    wait_for(lambda: _available(client, name), 300, name, interval=0.05)
    return time.perf_counter() - start


def lifecycle(workdir: pathlib.Path, count: int, start: str) -> dict[str, list[float]]:
    emulator = EmulatorProcess(workdir / f"guests-{start}", "libvirt", options=("--guest-start", start)).start()
    if start == "restore":
        wait_for(lambda: "start from the saved template guest" in emulator.log.read_text(), 300, "the template")
    client = signed(emulator)
    results: dict[str, list[float]] = {"create": [], "reboot": [], "together": [], "rss": []}
    try:
        names = [f"guest{i}" for i in range(count)]
        results["create"] = [_create(client, name) for name in names]
        results["reboot"] = [_reboot(client, name) for name in names]
        results["rss"] = [rss_mb(pid) for pid in servers_under(emulator.data_dir)]
        for name in names:
            client.call("DeleteDBInstance", {"DBInstanceIdentifier": name, "SkipFinalSnapshot": "true"})
        wait_for(lambda: not servers_under(emulator.data_dir), 120, "the guests to go")
        together: list[float] = []
        threads = [threading.Thread(target=lambda n=n: together.append(_create(signed(emulator), n)))
                   for n in ("trio0", "trio1", "trio2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results["together"] = together
    finally:
        client.close()
        emulator.stop()
        remove_guests(emulator.data_dir)
    return results


def per_engine(workdir: pathlib.Path, count: int) -> dict[str, list[float]]:
    """Create-to-available of each engine version's guests, one at a time, their images built beforehand and
    their templates saved (a version's first guest, which the template is saved after, is not counted unless
    it booted because the template was already there)."""
    for row in engine_versions.current():
        build.ensure(Settings.from_env().cache_dir, row=row)
    emulator = EmulatorProcess(workdir / "guests-engines", "libvirt").start()
    client = signed(emulator)
    results: dict[str, list[float]] = {}
    try:
        for row in engine_versions.current():
            wanted = {"Engine": row.engine, "EngineVersion": row.major, "BackupRetentionPeriod": "0"}
            saved = f"guests of {row.name} start from the saved template"
            if saved not in emulator.log.read_text():
                _create(client, f"{row.engine}-{row.major.replace('.', '-')}-first", **wanted)
                wait_for(lambda s=saved: s in emulator.log.read_text(), 300, f"{row.name}'s template")
            results[row.name] = [_create(client, f"{row.engine}-{row.major.replace('.', '-')}-{i}", **wanted)
                                 for i in range(count)]
    finally:
        client.close()
        emulator.stop()
        remove_guests(emulator.data_dir)
    return results


def admitted_by_rule() -> int:
    """Idle db.t3.micro guests the admission rule lets this host run, counted from its memory now."""
    need = memory_mib("db.t3.micro", DEFAULT_MEMORY_FACTOR) + QEMU_OVERHEAD_MIB
    return Capacity(dict, qemu_rss_mib, QEMU_OVERHEAD_MIB).server_memory() // need


def fill(workdir: pathlib.Path) -> tuple[int, float]:
    """Create idle guests until one is refused: how many ran, and the host's MemAvailable (MiB) at the end."""
    emulator = EmulatorProcess(workdir / "fill", "libvirt").start()
    client = signed(emulator)
    running = 0
    try:
        while True:
            try:
                _create(client, f"idle{running}")
            except QueryError as error:
                assert error.code == "InsufficientDBInstanceCapacity", error
                break
            running += 1
        available = meminfo()["MemAvailable"] / 1024
    finally:
        client.close()
        emulator.stop()
        remove_guests(emulator.data_dir)
    return running, available


def image_build(cold: bool) -> dict[str, float]:
    times = {}
    start = time.perf_counter()
    build.ensure(Settings.from_env().cache_dir)
    times["cached"] = time.perf_counter() - start
    if cold:
        with tempfile.TemporaryDirectory(prefix="rds-bench-image-") as cache:
            start = time.perf_counter()
            build.ensure(pathlib.Path(cache))
            times["cold"] = time.perf_counter() - start
    return times


def report(workdir: pathlib.Path, count: int, cold_build: bool, fill_host: bool) -> None:
    why = possible()
    if why:
        print(f"\nGuests: not measured ({why})")
        return
    med = statistics.median
    built = image_build(cold_build)
    print(f"\nGuests (libvirt driver, {count} one at a time, then three together)", flush=True)
    cold = f"cold {built['cold']:.0f} s, " if "cold" in built else ""
    print(f"template image: {cold}cached {built['cached'] * 1000:.0f} ms")
    for start in ("boot", "restore"):
        found = lifecycle(workdir, count, start)
        print(f"{start:>7}: create-to-available median {med(found['create']):.2f} s (all: "
              f"{', '.join(f'{t:.1f}' for t in found['create'])}); three together: "
              f"{', '.join(f'{t:.1f}' for t in sorted(found['together']))} s; reboot-to-available median "
              f"{med(found['reboot']):.2f} s; QEMU RSS median {med(found['rss']):.0f} MB at "
              f"{memory_mib('db.t3.micro', DEFAULT_MEMORY_FACTOR)} MiB of guest RAM", flush=True)
    for name, times in per_engine(workdir, count).items():
        print(f"{name:>14}: create-to-available median {med(times):.2f} s (all: "
              f"{', '.join(f'{t:.1f}' for t in times)})", flush=True)
    print(f"idle db.t3.micro guests this host admits: {admitted_by_rule()} (by the admission rule, now)")
    if fill_host:
        running, available = fill(workdir)
        print(f"created until refused: {running} guests ran, MemAvailable then {available:.0f} MiB")
