"""Multi-AZ on the process driver, per engine: the commit latency of a Multi-AZ instance (each commit waits
for its standby's acknowledgement) beside a single-AZ one's, single-row INSERTs one at a time; then forced
failovers (RebootDBInstance ForceFailover=true) under a writer that commits one row at a time on the
instance's endpoint. For each, the write downtime a client sees (the longest time without an acknowledged
commit, from the request until the failover completed), and at the end the count of acknowledged commits
missing from the instance (which must be 0); beside it, the floor: a plain reboot of the same primary (a
server restart), timed the same way. And the memory of the primary's and the standby's servers. RDS
documents 60-120 s for a Multi-AZ failover; moto has no server to fail over. Last, the longest commit on
each instance while a snapshot of it is taken: a Multi-AZ instance's is taken from its standby, a single-AZ
one's from its only server (mariadb-backup blocks commits for a moment at its end)."""

import pathlib
import statistics
import time

from bench.clients import signed
from bench.engines import CREATE
from bench.proc import rss_mb
from tests.emulator_process import EmulatorProcess, wait_for
from tests.mysql_client import connect
from tests.writer import Writer

ENGINES = ("mariadb", "mysql")
DONE = "Multi-AZ instance failover completed"


def _instance(client, name: str = "ha") -> dict:
    return client.call("DescribeDBInstances", {"DBInstanceIdentifier": name})["DBInstances"]["DBInstance"]


def _completed(client) -> int:
    found = client.call("DescribeEvents", {"SourceIdentifier": "ha", "SourceType": "db-instance",
                                           "Duration": "600"})["Events"]
    events = found.get("Event", []) if found else []
    events = events if isinstance(events, list) else [events]
    return sum(event["Message"] == DONE for event in events)


def _downtime(client, writer: Writer, force: bool, done_before: int) -> tuple[float, float]:
    """From the request until the instance is available (and, for a failover, has written its completion)
    and the writer commits again: the longest time the writer's connection was refused or lost before its
    next acknowledged write (the outage), and the longest time without an acknowledged write at all (a new
    standby's making, after a failover, holds commits for a moment too)."""
    start = time.monotonic()
    client.call("RebootDBInstance", {"DBInstanceIdentifier": "ha", "ForceFailover": "true" if force else "false"})
    if force:
        wait_for(lambda: _completed(client) > done_before, 120, "the failover", interval=0.05)
    wait_for(lambda: _instance(client)["DBInstanceStatus"] == "available", 120, "available", interval=0.05)
    writer.wait_for(10, 60)
    end = time.monotonic()
    return writer.longest_gap_between(start, end, failing=True), writer.longest_gap_between(start, end)


def _endpoint(client, name: str) -> dict:
    found = _instance(client, name)["Endpoint"]
    return {"Address": found["Address"], "Port": int(found["Port"])}


def _commits(endpoint: dict, count: int) -> list[float]:
    """Seconds each of `count` single-row autocommit INSERTs takes, one after another."""
    with connect(endpoint, CREATE["MasterUsername"], CREATE["MasterUserPassword"], "app") as conn, \
            conn.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS timed (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)")
        took = []
        for _ in range(count):
            start = time.perf_counter()
            cursor.execute("INSERT INTO timed (body) VALUES ('x')")
            took.append(time.perf_counter() - start)
        return took


def _commits_while_backed_up(client, name: str, snapshots: int = 3) -> list[float]:
    """Seconds each single-row INSERT takes while snapshots of the instance are taken, one after another."""
    took = []
    with connect(_endpoint(client, name), CREATE["MasterUsername"], CREATE["MasterUserPassword"], "app") as conn, \
            conn.cursor() as cursor:
        for number in range(snapshots):
            snapshot = f"{name}-{number}"
            client.call("CreateDBSnapshot", {"DBInstanceIdentifier": name, "DBSnapshotIdentifier": snapshot})
            asked = 0.0
            while True:
                start = time.perf_counter()
                cursor.execute("INSERT INTO timed (body) VALUES ('x')")
                took.append(time.perf_counter() - start)
                if start - asked > 0.2:
                    asked = start
                    found = client.call("DescribeDBSnapshots", {"DBSnapshotIdentifier": snapshot})
                    if found["DBSnapshots"]["DBSnapshot"]["Status"] != "creating":
                        break
            wait_for(lambda: _instance(client, name)["DBInstanceStatus"] == "available", 60, "the backup's end")
    return took


def measure(workdir: pathlib.Path, engine: str, failovers: int, reboots: int, commits: int = 2000) -> dict:
    emulator = EmulatorProcess(workdir / f"failover-{engine}", "process").start()
    client = signed(emulator)
    try:
        for name, multi_az in (("ha", "true"), ("single", "false")):
            client.call("CreateDBInstance", CREATE | {"DBInstanceIdentifier": name, "Engine": engine, "DBName": "app",
                                                      "BackupRetentionPeriod": "1", "MultiAZ": multi_az})
            wait_for(lambda name=name: _instance(client, name)["DBInstanceStatus"] == "available", 120, name)
        before = set(emulator.server_pids())
        endpoint = _endpoint(client, "ha")
        latency = {"ha": [], "single": []}
        for _ in range(4):  # alternating blocks: the host's drift falls on both alike
            for name in latency:
                latency[name] += _commits(_endpoint(client, name), commits // 4)
        backed_up = {name: _commits_while_backed_up(client, name) for name in latency}
        client.call("DeleteDBInstance", {"DBInstanceIdentifier": "single", "SkipFinalSnapshot": "true"})
        wait_for(lambda: len(set(emulator.server_pids())) == 2, 60, "single deleted")
        memory = sorted(rss_mb(pid) for pid in before & set(emulator.server_pids()))
        with Writer(endpoint, CREATE["MasterUsername"], CREATE["MasterUserPassword"], "app") as writer:
            writer.wait_for(10, 30)
            over, stalls = zip(*(_downtime(client, writer, True, n) for n in range(failovers)), strict=True)
            floor = [_downtime(client, writer, False, failovers)[0] for _ in range(reboots)]
        lost = len(set(writer.acknowledged) - writer.stored())
        acknowledged = len(writer.acknowledged)
    finally:
        client.close()
        emulator.stop()
    return {"failover": list(over), "stall": list(stalls), "reboot": floor, "lost": lost,
            "acknowledged": acknowledged, "rss": memory, "commit": latency["ha"], "single": latency["single"],
            "backed_up": backed_up}


def report(workdir: pathlib.Path, failovers: int, reboots: int = 3) -> None:
    med = statistics.median
    print(f"\nMulti-AZ failover (process driver): {failovers} forced failovers and {reboots} plain reboots under "
          "a writer", flush=True)
    print(f"{'engine':10}{'commit':>9}{'single-AZ':>11}{'ratio':>7}{'outage med':>12}{'max':>8}{'stall med':>11}"
          f"{'reboot med':>12}{'ratio':>7}{'acked':>8}{'lost':>6}{'RSS (2 servers)':>18}")
    for engine in ENGINES:
        found = measure(workdir, engine, failovers, reboots)
        over, floor, commit, single = found["failover"], found["reboot"], found["commit"], found["single"]
        rss = "+".join(f"{value:.0f}" for value in found["rss"])
        print(f"{engine:10}{med(commit) * 1000:7.2f}ms{med(single) * 1000:9.2f}ms{med(commit) / med(single):7.2f}"
              f"{med(over):11.2f}s{max(over):7.2f}s{med(found['stall']):10.2f}s{med(floor):11.2f}s"
              f"{med(over) / med(floor):7.2f}"
              f"{found['acknowledged']:8}{found['lost']:6}{rss:>15} MB", flush=True)
        during = found["backed_up"]
        print(f"{'':10}the longest commit while 3 snapshots are taken: Multi-AZ (from the standby) "
              f"{max(during['ha']) * 1000:.1f} ms of {len(during['ha'])}, single-AZ "
              f"{max(during['single']) * 1000:.1f} ms of {len(during['single'])}", flush=True)
