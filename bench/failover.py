"""Multi-AZ on the process driver, per engine: forced failovers (RebootDBInstance ForceFailover=true) under a
writer that commits one row at a time on the instance's endpoint. For each, the write downtime a client sees
(the longest time without an acknowledged commit, from the request until the failover completed), and at the
end the count of acknowledged commits missing from the instance (which must be 0); beside it, the floor: a
plain reboot of the same primary (a server restart), timed the same way. And the memory of the primary's and
the standby's servers. RDS documents 60-120 s for a Multi-AZ failover; moto has no server to fail over."""

import pathlib
import statistics
import time

from bench.clients import signed
from bench.engines import CREATE
from bench.proc import rss_mb
from tests.emulator_process import EmulatorProcess, wait_for
from tests.writer import Writer

ENGINES = ("mariadb", "mysql")
DONE = "Multi-AZ instance failover completed"


def _instance(client) -> dict:
    return client.call("DescribeDBInstances", {"DBInstanceIdentifier": "ha"})["DBInstances"]["DBInstance"]


def _completed(client) -> int:
    found = client.call("DescribeEvents", {"SourceIdentifier": "ha", "SourceType": "db-instance",
                                           "Duration": "600"})["Events"]
    events = found.get("Event", []) if found else []
    events = events if isinstance(events, list) else [events]
    return sum(event["Message"] == DONE for event in events)


def _downtime(client, writer: Writer, force: bool, done_before: int) -> float:
    """The longest time without an acknowledged write, from the request until the instance is available
    (and, for a failover, has written its completion) and the writer commits again."""
    start = time.monotonic()
    client.call("RebootDBInstance", {"DBInstanceIdentifier": "ha", "ForceFailover": "true" if force else "false"})
    if force:
        wait_for(lambda: _completed(client) > done_before, 120, "the failover", interval=0.05)
    wait_for(lambda: _instance(client)["DBInstanceStatus"] == "available", 120, "available", interval=0.05)
    writer.wait_for(10, 60)
    return writer.longest_gap_between(start, time.monotonic())


def measure(workdir: pathlib.Path, engine: str, failovers: int, reboots: int) -> dict:
    emulator = EmulatorProcess(workdir / f"failover-{engine}", "process").start()
    client = signed(emulator)
    try:
        client.call("CreateDBInstance", CREATE | {"DBInstanceIdentifier": "ha", "Engine": engine, "DBName": "app",
                                                  "BackupRetentionPeriod": "1", "MultiAZ": "true"})
        wait_for(lambda: _instance(client)["DBInstanceStatus"] == "available", 120, "ha")
        found = _instance(client)["Endpoint"]
        endpoint = {"Address": found["Address"], "Port": int(found["Port"])}
        memory = sorted(rss_mb(pid) for pid in emulator.server_pids())
        with Writer(endpoint, CREATE["MasterUsername"], CREATE["MasterUserPassword"], "app") as writer:
            writer.wait_for(10, 30)
            over = [_downtime(client, writer, True, n) for n in range(failovers)]
            floor = [_downtime(client, writer, False, failovers) for _ in range(reboots)]
        lost = len(set(writer.acknowledged) - writer.stored())
        acknowledged = len(writer.acknowledged)
    finally:
        client.close()
        emulator.stop()
    return {"failover": over, "reboot": floor, "lost": lost, "acknowledged": acknowledged, "rss": memory}


def report(workdir: pathlib.Path, failovers: int, reboots: int = 3) -> None:
    med = statistics.median
    print(f"\nMulti-AZ failover (process driver): {failovers} forced failovers and {reboots} plain reboots under "
          "a writer", flush=True)
    print(f"{'engine':10}{'failover med':>14}{'max':>8}{'reboot med':>12}{'ratio':>7}{'acked':>8}{'lost':>6}"
          f"{'RSS (2 servers)':>18}")
    for engine in ENGINES:
        found = measure(workdir, engine, failovers, reboots)
        over, floor = found["failover"], found["reboot"]
        rss = "+".join(f"{value:.0f}" for value in found["rss"])
        print(f"{engine:10}{med(over):13.2f}s{max(over):7.2f}s{med(floor):11.2f}s{med(over) / med(floor):7.2f}"
              f"{found['acknowledged']:8}{found['lost']:6}{rss:>15} MB", flush=True)
