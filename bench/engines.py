"""Real servers per engine version (the process driver), each beside its floor, in one run:

- create-to-available with BackupRetentionPeriod=0, and to the first automated snapshot being available with
  RDS's default retention of 1 day, beside the floor: the same binary from the same tree, started bare on a
  copy of the tree's ready data directory with our option file, until it answers SELECT 1 (and that start
  alone, without the copy: creates take a copy made ahead, docs/drivers.md). A floor sample is
  taken before each create, so that both meet the host as it is then (the disk's writeback of what earlier
  servers wrote slows later starts, MySQL's most: measured in a block, the floor came first and met none);
- reboot-to-available, and each server's memory beside the bare one's;
- each tree's build time (as its manifest recorded it) and size;
- a minor upgrade (MariaDB 10.11.18 to the current 10.11) and a major one (10.11 to 11.8) of a small
  database, from the request to the instance available on the new version.
"""

import pathlib
import shutil
import statistics
import subprocess
import time

import pymysql

from bench.clients import signed
from bench.proc import rss_mb
from emulator.config import Settings
from emulator.engines import in_tree
from emulator.engines import server as engine
from emulator.images import server_tree
from emulator.model import engine_versions
from emulator.model.engine_versions import EngineVersion
from tests.emulator_process import EmulatorProcess, free_port, wait_for
from tests.mysql_client import connect

PASSWORD = "password1"
CREATE = {"DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20", "MasterUsername": "admin",
          "MasterUserPassword": PASSWORD}


def _instance(client, name: str) -> dict:
    return client.call("DescribeDBInstances", {"DBInstanceIdentifier": name})["DBInstances"]["DBInstance"]


def _snapshot_available(client, name: str) -> bool:
    found = client.call("DescribeDBSnapshots", {"DBInstanceIdentifier": name, "SnapshotType": "automated"})
    items = (found.get("DBSnapshots") or {}).get("DBSnapshot") or []
    items = items if isinstance(items, list) else [items]
    return any(item.get("Status") == "available" for item in items)


def ours(workdir: pathlib.Path, row: EngineVersion, count: int) -> dict[str, list[float]]:
    """Our creates, reboots and servers' memory; and, one before each create, the floor's samples."""
    emulator = EmulatorProcess(workdir / f"ours-{row.name.replace(' ', '-')}", "process").start()
    client = signed(emulator)
    floor = _Floor(workdir, row)
    wanted = CREATE | {"Engine": row.engine, "EngineVersion": row.asked_as}
    results: dict[str, list[float]] = {"create": [], "with_backup": [], "reboot": [], "rss": [], "floor": [],
                                       "floor_start": [], "floor_rss": []}
    try:
        for i in range(count):
            name = f"bare{i}"
            floor.sample(results)
            start = time.perf_counter()
            client.call("CreateDBInstance", wanted | {"DBInstanceIdentifier": name, "BackupRetentionPeriod": "0"})
            wait_for(lambda n=name: _instance(client, n)["DBInstanceStatus"] == "available", 120, name,
                     interval=0.005)
            results["create"].append(time.perf_counter() - start)
        for i in range(count):
            name = f"backed{i}"
            floor.sample(results)
            start = time.perf_counter()
            client.call("CreateDBInstance", wanted | {"DBInstanceIdentifier": name})
            wait_for(lambda n=name: _instance(client, n)["DBInstanceStatus"] == "available"
                     and _snapshot_available(client, n), 120, name, interval=0.005)
            results["with_backup"].append(time.perf_counter() - start)
        for i in range(count):
            name = f"bare{i}"
            start = time.perf_counter()
            client.call("RebootDBInstance", {"DBInstanceIdentifier": name})
            wait_for(lambda n=name: _instance(client, n)["DBInstanceStatus"] == "available", 120, name,
                     interval=0.005)
            results["reboot"].append(time.perf_counter() - start)
        results["rss"] = [rss_mb(pid) for pid in emulator.server_pids()]
    finally:
        client.close()
        emulator.stop()
    return results


class _Floor:
    """The same server from the same tree on a copy of its ready data directory, with our option file, to
    its first SELECT 1: what a create cannot be faster than."""

    def __init__(self, workdir: pathlib.Path, row: EngineVersion):
        self.workdir, self.row, self.taken = workdir, row, 0
        self.tree = server_tree.ensure(Settings.from_env().cache_dir, row)

    def sample(self, results: dict[str, list[float]]) -> None:
        home = (self.workdir / f"floor-{self.row.name.replace(' ', '-')}-{self.taken}").resolve()
        self.taken += 1
        (home / "tmp").mkdir(parents=True)
        sock = str(home / "s.sock")
        (home / "my.cnf").write_text(engine.my_cnf(
            datadir=str(home / "data"), tmpdir=str(home / "tmp"), socket=sock, pid_file=str(home / "pid"),
            log_error=str(home / "err.log"), host="127.0.0.1", port=free_port(), user="root",
            flavor=self.row.flavor))
        start = time.perf_counter()
        shutil.copytree(self.tree.ready_data, home / "data", symlinks=True)
        copied = time.perf_counter()
        server = subprocess.Popen(in_tree.command(self.tree.root, [home], [
            "/" + self.row.daemon, f"--defaults-file={home / 'my.cnf'}"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: _answers(sock), 60, "the bare server", interval=0.005)
            results["floor"].append(time.perf_counter() - start)
            results["floor_start"].append(time.perf_counter() - copied)
            results["floor_rss"].append(rss_mb(server.pid))
        finally:
            server.terminate()
            server.wait(60)
            shutil.rmtree(home, ignore_errors=True)


def _answers(sock: str) -> bool:
    try:
        with pymysql.connect(unix_socket=sock, user="root", connect_timeout=1, ssl_disabled=True) as conn, \
                conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            return True
    except pymysql.MySQLError:
        return False


def upgrade(workdir: pathlib.Path, source: str, target: str) -> float:
    """ModifyDBInstance from MariaDB `source` to `target` with 10,000 rows, to available on the new version
    (seconds)."""
    emulator = EmulatorProcess(workdir / f"upgrade-{source}", "process").start()
    client = signed(emulator)
    try:
        client.call("CreateDBInstance", CREATE | {"DBInstanceIdentifier": "old", "Engine": "mariadb",
                                                  "EngineVersion": source, "BackupRetentionPeriod": "0"})
        wait_for(lambda: _instance(client, "old")["DBInstanceStatus"] == "available", 300, "old")
        before = _instance(client, "old")
        endpoint = {"Address": before["Endpoint"]["Address"], "Port": int(before["Endpoint"]["Port"])}
        with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
            cursor.execute("CREATE DATABASE app")
            cursor.execute("CREATE TABLE app.t (id INT PRIMARY KEY, body VARCHAR(100))")
            cursor.executemany("INSERT INTO app.t VALUES (%s, REPEAT('x', 100))", [(n,) for n in range(10_000)])
        start = time.perf_counter()
        client.call("ModifyDBInstance", {"DBInstanceIdentifier": "old", "EngineVersion": target,
                                         "AllowMajorVersionUpgrade": "true", "ApplyImmediately": "true"})
        wait_for(lambda: (found := _instance(client, "old"))["EngineVersion"] != before["EngineVersion"]
                 and found["DBInstanceStatus"] == "available", 300, "the upgrade", interval=0.01)
        return time.perf_counter() - start
    finally:
        client.close()
        emulator.stop()


def report(workdir: pathlib.Path, count: int) -> None:
    med = statistics.median
    print(f"\nReal servers per engine version: {count} instances each (process driver), beside the floor", flush=True)
    print("floor: copy of the ready data directory + bare start to SELECT 1; start: the bare start alone")
    print(f"{'engine version':16}{'floor':>8}{'start':>8}{'create':>8}{'ratio':>7}{'+backup':>9}{'ratio':>7}"
          f"{'reboot':>8}{'RSS':>7}{'bare RSS':>9}{'build':>7}{'size':>8}")
    cache_dir = Settings.from_env().cache_dir
    for row in engine_versions.VERSIONS:
        real = ours(workdir, row, count)
        tree = server_tree.find(cache_dir, row)
        build = f"{tree.manifest['build_seconds']:.0f} s" if tree else "?"
        size = f"{tree.size() / 2**20:.0f} MB" if tree else "?"
        low = med(real["floor"])
        print(f"{row.name:16}{low:7.2f}s{med(real['floor_start']):7.2f}s{med(real['create']):7.2f}s"
              f"{med(real['create']) / low:6.2f}x"
              f"{med(real['with_backup']):8.2f}s{med(real['with_backup']) / low:6.2f}x{med(real['reboot']):7.2f}s"
              f"{med(real['rss']):5.0f}MB{med(real['floor_rss']):7.0f}MB{build:>7}{size:>8}", flush=True)
    print(f"minor upgrade, MariaDB 10.11.18 -> 10.11's current, 10,000 rows: "
          f"{upgrade(workdir, '10.11.18', '10.11'):.1f} s to available", flush=True)
    print(f"major upgrade, MariaDB 10.11 -> 11.8, 10,000 rows: {upgrade(workdir, '10.11', '11.8'):.1f} s to available",
          flush=True)
