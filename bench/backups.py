"""`make bench`, part 5: backups on real data. For each driver: a database of about `size_mb` MB, its
snapshot (throughput, MB/s of backup written) and its restore (RestoreDBInstanceFromDBSnapshot to
available), a point-in-time restore, beside a plain `mariadb-backup --backup` and `--prepare` of the same
data on this machine (the floor: of the process driver's server, where the tool reaches its files). Then
how far LatestRestorableTime trails the present under a steady write load, and what the scheduler's ticks
cost with 100 instances' windows to look at."""

import pathlib
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime

from bench.clients import signed
from compat.query_client import QueryClient
from emulator.config import Settings
from emulator.engines import in_tree
from emulator.images import server_tree
from emulator.model import engine_versions
from tests.emulator_process import EmulatorProcess, remove_guests, wait_for
from tests.mysql_client import connect

PASSWORD = "bench-pass-1"
CREATE = {"DBInstanceClass": "db.t3.micro", "Engine": "mariadb", "AllocatedStorage": "20",
          "MasterUsername": "admin", "MasterUserPassword": PASSWORD, "DBName": "bench"}
# Rows of about 1 KiB: the table doubles until it holds the size asked for.
ROW = 1000
BATCH = 16384


def _instance(client: QueryClient, name: str) -> dict:
    return client.call("DescribeDBInstances", {"DBInstanceIdentifier": name})["DBInstances"]["DBInstance"]


def _until_available(client: QueryClient, name: str, timeout: float = 3600) -> tuple[float, float]:
    """Seconds until the instance's server was up with its data (it is `backing-up` or `available`), and
    until it was `available` (after its first automated backup)."""
    start = time.perf_counter()
    up: list[float] = []

    def available() -> bool:
        status = _instance(client, name)["DBInstanceStatus"]
        if status == "failed":
            raise RuntimeError(f"{name} failed: see the emulator's log")
        if status in ("backing-up", "available") and not up:
            up.append(time.perf_counter() - start)
        return status == "available"

    wait_for(available, timeout, name, interval=0.1)
    return up[0], time.perf_counter() - start


def _snapshot(client: QueryClient, name: str) -> dict:
    return client.call("DescribeDBSnapshots", {"DBSnapshotIdentifier": name})["DBSnapshots"]["DBSnapshot"]


def fill(endpoint: dict, size_mb: int) -> int:
    """Rows of ROW bytes, copied in the server (BATCH at a time: a small server's lock table is small) until
    the table holds about size_mb MB; the rows' bytes."""
    with connect(endpoint, "admin", PASSWORD, "bench") as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE filler (id BIGINT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(1000))")
        cursor.execute("INSERT INTO filler (body) VALUES " + ",".join([f"(REPEAT('x', {ROW}))"] * 1024))
        rows = 1024
        while rows * ROW < size_mb * 2**20:
            rows += cursor.execute(f"INSERT INTO filler (body) SELECT body FROM filler LIMIT {min(rows, BATCH)}")
        return rows * ROW


def backup_and_restore(workdir: pathlib.Path, driver: str, size_mb: int) -> dict[str, float]:
    emulator = EmulatorProcess(workdir / f"backups-{driver}", driver, options=("--archive-seconds", "5")).start()
    client = signed(emulator, timeout=600)
    try:
        client.call("CreateDBInstance", CREATE | {"DBInstanceIdentifier": "big"})
        _until_available(client, "big")
        endpoint = _instance(client, "big")["Endpoint"]
        endpoint = {"Address": endpoint["Address"], "Port": int(endpoint["Port"])}
        started = time.perf_counter()
        data = fill(endpoint, size_mb)
        filled = time.perf_counter() - started
        client.close()  # idle longer than the server keeps a connection open
        client = signed(emulator, timeout=600)
        started = time.perf_counter()
        client.call("CreateDBSnapshot", {"DBInstanceIdentifier": "big", "DBSnapshotIdentifier": "big-1"})
        wait_for(lambda: _snapshot(client, "big-1")["Status"] == "available", 3600, "the snapshot", interval=0.2)
        backed_up = time.perf_counter() - started
        stream = _largest(workdir / f"backups-{driver}" / "backups" / "snapshots")
        client.call("RestoreDBInstanceFromDBSnapshot",
                    {"DBInstanceIdentifier": "copy", "DBSnapshotIdentifier": "big-1"})
        restored, restored_available = _until_available(client, "copy")
        latest = _instance(client, "big").get("LatestRestorableTime")
        wait_for(lambda: _instance(client, "big").get("LatestRestorableTime") != latest, 120, "an archive")
        client.call("RestoreDBInstanceToPointInTime", {"SourceDBInstanceIdentifier": "big",
                                                       "TargetDBInstanceIdentifier": "pitr",
                                                       "UseLatestRestorableTime": "true"})
        point, point_available = _until_available(client, "pitr")
        floor = _floor(emulator, driver, endpoint) if driver == "process" else {}
        return {"data_mb": data / 2**20, "fill_s": filled, "backup_s": backed_up, "backup_mb": stream / 2**20,
                "restore_s": restored, "restore_available_s": restored_available, "pitr_s": point,
                "pitr_available_s": point_available, **floor}
    finally:
        client.close()
        emulator.stop()
        if driver == "libvirt":
            remove_guests(emulator.data_dir)


def _largest(folder: pathlib.Path) -> int:
    return max(path.stat().st_size for path in folder.glob("*.mbstream"))


def _floor(emulator: EmulatorProcess, driver: str, endpoint: dict) -> dict[str, float]:
    """mariadb-backup by hand on the same server: --backup into a folder, then --prepare."""
    home = next(path for path in (emulator.data_dir / "servers").glob("db-*")
                if f"port={endpoint['Port']}" in (path / "my.cnf").read_text())
    sock = next(line.split("=", 1)[1] for line in (home / "my.cnf").read_text().splitlines()
                if line.startswith("socket="))
    target = pathlib.Path(tempfile.mkdtemp(prefix="floor-", dir=emulator.data_dir))
    try:
        # the tools of the server's own tree, where the server's folder and socket are seen at their own paths
        tree = server_tree.ensure(Settings.from_env().cache_dir, engine_versions.of("mariadb", None)).root
        shared = [home, target, pathlib.Path(sock).parent]
        started = time.perf_counter()
        subprocess.run(in_tree.command(tree, shared, [
            "mariadb-backup", f"--defaults-file={home / 'my.cnf'}", "--backup", f"--target-dir={target}",
            f"--socket={sock}", "--user=root"]), check=True, capture_output=True)
        backup = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run(in_tree.command(tree, shared, ["mariadb-backup", "--prepare", f"--target-dir={target}"]),
                       check=True, capture_output=True)
        return {"floor_backup_s": backup, "floor_prepare_s": time.perf_counter() - started}
    finally:
        shutil.rmtree(target, ignore_errors=True)


def restorable_lag(workdir: pathlib.Path, seconds: float) -> list[float]:
    """now - LatestRestorableTime, once a second, while a writer inserts rows without pause; the product's
    default archiving interval."""
    emulator = EmulatorProcess(workdir / "lag", "process").start()
    client = signed(emulator)
    stop = threading.Event()
    try:
        client.call("CreateDBInstance", CREATE | {"DBInstanceIdentifier": "busy"})
        _until_available(client, "busy")
        found = _instance(client, "busy")["Endpoint"]
        endpoint = {"Address": found["Address"], "Port": int(found["Port"])}

        def write() -> None:
            with connect(endpoint, "admin", PASSWORD, "bench") as conn, conn.cursor() as cursor:
                cursor.execute("CREATE TABLE ticks (id BIGINT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6))")
                while not stop.is_set():
                    cursor.execute("INSERT INTO ticks (at) VALUES (NOW(6))")

        writer = threading.Thread(target=write)
        writer.start()
        lags = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            latest = _instance(client, "busy").get("LatestRestorableTime")
            if latest:
                lags.append((datetime.now(UTC) - datetime.fromisoformat(latest.replace("Z", "+00:00"))).total_seconds())
            time.sleep(1)  # a sample a second of a steady state, not a wait for one
        stop.set()
        writer.join()
        return lags
    finally:
        stop.set()
        client.close()
        emulator.stop()


def scheduler_cost(workdir: pathlib.Path, instances: int, rounds: int) -> dict[str, float]:
    """The window and archive ticks, in process, over `instances` instances of the none driver: ms a tick."""
    from werkzeug.test import Client

    from emulator.config import Settings
    from emulator.runtime import boot
    from scheduler import jobs

    runtime = boot(Settings(data_dir=workdir / "ticks", driver="none"), schedule=False)
    try:
        app = Client(runtime.app)
        for n in range(instances):
            app.post("/", data={"Action": "CreateDBInstance", "DBInstanceIdentifier": f"tick{n:03d}", **CREATE})
        wait_for(lambda: all(i.observed == "running" and i.task is None for i in runtime.ctx.store.list_instances()),
                 120, "the instances")
        costs = {}
        for name, job in (("backup windows", jobs.backup_windows), ("maintenance windows", jobs.maintenance_windows),
                          ("archive and retention", jobs.archive_binlogs)):
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                job(runtime.ctx)
                times.append(time.perf_counter() - started)
            costs[name] = statistics.median(times) * 1000
        return costs
    finally:
        runtime.close()


def report(workdir: pathlib.Path, sizes: dict[str, int], lag_seconds: float) -> None:
    """`sizes`: the database's MB on each driver measured (0: not that one)."""
    print("\nBackups: a database, its snapshot, its restore and a point-in-time restore", flush=True)
    for driver, size in sizes.items():
        if not size:
            continue
        found = backup_and_restore(workdir, driver, size)
        print(f"{driver}: {found['data_mb']:.0f} MB of rows (filled in {found['fill_s']:.0f} s); "
              f"snapshot {found['backup_s']:.1f} s for a {found['backup_mb']:.0f} MB backup "
              f"({found['backup_mb'] / found['backup_s']:.0f} MB/s); restore: server up with the data "
              f"{found['restore_s']:.1f} s, available after its first backup {found['restore_available_s']:.1f} s; "
              f"point-in-time restore (the log since the last automated backup replayed): "
              f"{found['pitr_s']:.1f} s, available {found['pitr_available_s']:.1f} s", flush=True)
        if "floor_backup_s" in found:
            print(f"  floor, mariadb-backup by hand: --backup {found['floor_backup_s']:.1f} s, "
                  f"--prepare {found['floor_prepare_s']:.1f} s -> snapshot is "
                  f"{found['backup_s'] / found['floor_backup_s']:.2f}x the floor's backup", flush=True)
    lags = restorable_lag(workdir, lag_seconds) if lag_seconds else []
    if lags:
        print(f"LatestRestorableTime lag under steady writes, {len(lags)} samples at the default 60 s archiving: "
              f"median {statistics.median(lags):.0f} s, max {max(lags):.0f} s (RDS: up to 300 s)", flush=True)
    costs = scheduler_cost(workdir, 100, 20)
    print("scheduler ticks over 100 instances (none driver): "
          + ", ".join(f"{name} {ms:.1f} ms" for name, ms in costs.items()), flush=True)

