"""The kill -9 campaign: the emulator (process driver, real MariaDB servers) is killed at random moments of a
create, a snapshot, a restore, a point-in-time restore, a parameter apply and a delete, then started again on
the same data directory. Each trial must end, within two minutes of the kill, with every resource in a truthful state,
restored rows exact, and no stray server, folder or work file. One line per trial, then a table.

    .venv/bin/python bench/kill_campaign.py [--trials 5] [--seed 7]
"""

import argparse
import pathlib
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import boto3

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tests.emulator_process import EmulatorProcess, servers_under, wait_for  # noqa: E402
from tests.mysql_client import connect  # noqa: E402

PASSWORD = "Campaign-pass-1"
ROWS = 60_000
SETTLE = 120.0
# statuses a resource may end in: anything else after SETTLE seconds is a resource left stuck
FINAL = {"available", "stopped", "failed", "incompatible-parameters", "incompatible-restore", "restore-error"}


class Trial:
    """One emulator, a source instance with ROWS rows, and what the operation under test made."""

    def __init__(self, root: pathlib.Path):
        self.data = root / "data"
        self.emulator = EmulatorProcess(self.data, "process", options=("--archive-seconds", "1")).start()
        self.rds = self.client()

    def client(self) -> Any:
        return boto3.client("rds", endpoint_url=self.emulator.url, region_name="us-east-1",
                            **self.emulator.credentials())

    def create(self, name: str, **extra: Any) -> None:
        self.rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="mariadb",
                                    AllocatedStorage=20, MasterUsername="master", MasterUserPassword=PASSWORD,
                                    DBName="app", **extra)

    def instance(self, name: str) -> dict[str, Any] | None:
        found = [i for i in self.rds.describe_db_instances()["DBInstances"] if i["DBInstanceIdentifier"] == name]
        return found[0] if found else None

    def wait(self, name: str, status: str = "available", timeout: float = 180) -> dict[str, Any]:
        return wait_for(lambda: (found := self.instance(name)) and found["DBInstanceStatus"] == status and found,
                        timeout, f"{name} to be {status}")

    def source(self) -> dict[str, Any]:
        """The source instance, with ROWS rows written after its first backup, archived."""
        self.create("src")
        endpoint = self.wait("src")["Endpoint"]
        with connect(endpoint, "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
            cursor.execute("CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)")
            for batch in range(ROWS // 1000):
                cursor.executemany("INSERT INTO notes (body) VALUES (%s)",
                                   [(f"row {batch * 1000 + n}",) for n in range(1000)])
        written = time.time()
        wait_for(lambda: self.instance("src").get("LatestRestorableTime") is not None
                 and self.instance("src")["LatestRestorableTime"].timestamp() > written + 1, 60, "archived")
        return endpoint

    def restart(self) -> None:
        self.emulator.kill9()
        self.emulator = EmulatorProcess(self.data, "process", options=("--archive-seconds", "1")).start()
        self.rds = self.client()

    def settled(self) -> bool:
        instances = self.rds.describe_db_instances()["DBInstances"]
        snapshots = self.rds.describe_db_snapshots()["DBSnapshots"]
        return all(i["DBInstanceStatus"] in FINAL for i in instances) and \
            all(s["Status"] in ("available", "failed") for s in snapshots)

    def under_way(self) -> str:
        """What was under way as the emulator was killed: the statuses that were not final."""
        busy = [f"{i['DBInstanceIdentifier']} {i['DBInstanceStatus']}" for i in
                self.rds.describe_db_instances()["DBInstances"] if i["DBInstanceStatus"] not in FINAL]
        busy += [f"{s['DBSnapshotIdentifier']} {s['Status']}" for s in self.rds.describe_db_snapshots()["DBSnapshots"]
                 if s["Status"] not in ("available", "failed")]
        return ", ".join(busy) or "nothing"

    def strays(self) -> list[str]:
        """Servers no instance runs, homes no instance has, work files left, replays left in /tmp."""
        live = {i["DbiResourceId"] for i in self.rds.describe_db_instances()["DBInstances"]
                if i["DBInstanceStatus"] in ("available", "backing-up", "modifying", "rebooting")}
        found = []
        if len(servers_under(self.data)) != len(live):
            found.append(f"{len(servers_under(self.data))} servers for {len(live)} running instances")
        homes = {home.name for home in (self.data / "servers").glob("db-*")}
        known = {i["DbiResourceId"] for i in self.rds.describe_db_instances()["DBInstances"]}
        found += [f"home {name}" for name in homes - known]
        work = self.data / "work"
        found += [f"work file {item.name}" for item in work.iterdir()] if work.exists() else []
        return found

    def close(self) -> None:
        self.emulator.stop()


def rows(endpoint: dict[str, Any]) -> int:
    with connect(endpoint, "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM notes")
        return cursor.fetchone()[0]


# Each operation: its set-up (before the clock starts), its request, and the check of its end.
def op_create(trial: Trial) -> tuple[Callable[[], None], Callable[[], str]]:
    def check() -> str:
        found = trial.wait("new", timeout=SETTLE)
        created = [e for e in trial.rds.describe_events(SourceIdentifier="new", SourceType="db-instance")["Events"]
                   if e["Message"] == "DB instance created"]
        with connect(found["Endpoint"], "master", PASSWORD, "app"):
            pass
        return f"available, created once: {len(created) == 1}"
    return lambda: trial.create("new"), check


def op_snapshot(trial: Trial) -> tuple[Callable[[], None], Callable[[], str]]:
    trial.create("src", BackupRetentionPeriod=0)
    trial.wait("src")

    def check() -> str:
        snap = wait_for(lambda: (s := trial.rds.describe_db_snapshots(DBSnapshotIdentifier="snap")["DBSnapshots"][0])
                        ["Status"] in ("available", "failed") and s, SETTLE, "the snapshot")
        return f"snapshot {snap['Status']}, instance {trial.instance('src')['DBInstanceStatus']}"
    return lambda: trial.rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="snap"), check


def op_restore(trial: Trial) -> tuple[Callable[[], None], Callable[[], str]]:
    trial.source()
    trial.rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="snap")
    wait_for(lambda: trial.rds.describe_db_snapshots(DBSnapshotIdentifier="snap")["DBSnapshots"][0]["Status"]
             == "available", 120, "the snapshot")

    def check() -> str:
        return f"available, rows {rows(trial.wait('copy', timeout=SETTLE)['Endpoint'])}/{ROWS}"
    return lambda: trial.rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="copy",
                                                                  DBSnapshotIdentifier="snap"), check


def op_pitr(trial: Trial) -> tuple[Callable[[], None], Callable[[], str]]:
    trial.source()

    def check() -> str:
        return f"available, rows {rows(trial.wait('copy', timeout=SETTLE)['Endpoint'])}/{ROWS}"
    return lambda: trial.rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="src", TargetDBInstanceIdentifier="copy", UseLatestRestorableTime=True), check


def op_parameters(trial: Trial) -> tuple[Callable[[], None], Callable[[], str]]:
    trial.rds.create_db_parameter_group(DBParameterGroupName="tuned", DBParameterGroupFamily="mariadb10.11",
                                        Description="campaign")
    trial.create("src", BackupRetentionPeriod=0, DBParameterGroupName="tuned")
    endpoint = trial.wait("src")["Endpoint"]

    def change() -> None:
        trial.rds.modify_db_parameter_group(DBParameterGroupName="tuned", Parameters=[
            {"ParameterName": "max_connections", "ParameterValue": "77", "ApplyMethod": "immediate"}])

    def check() -> str:
        wait_for(lambda: trial.instance("src")["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync"
                 and trial.instance("src")["DBInstanceStatus"] == "available", SETTLE, "in-sync")
        with connect(endpoint, "master", PASSWORD) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT @@max_connections")
            return f"in-sync, max_connections {cursor.fetchone()[0]}/77"
    return change, check


def op_delete(trial: Trial) -> tuple[Callable[[], None], Callable[[], str]]:
    trial.create("src", BackupRetentionPeriod=0)
    trial.wait("src")

    def check() -> str:
        wait_for(lambda: trial.instance("src") is None, SETTLE, "src to be deleted")
        return "deleted"
    return lambda: trial.rds.delete_db_instance(DBInstanceIdentifier="src", SkipFinalSnapshot=True), check


# Each operation, and about how long it takes here (seconds): the kills fall within that span (the table says
# what was still under way at each).
OPERATIONS = {"create": (op_create, 0.5), "snapshot": (op_snapshot, 0.5), "restore": (op_restore, 0.8),
              "point-in-time restore": (op_pitr, 1.2), "parameter apply": (op_parameters, 0.02),
              "delete": (op_delete, 0.05)}


def run_trial(name: str, delay: float) -> dict[str, Any]:
    root = pathlib.Path(tempfile.mkdtemp(prefix="kill-campaign-"))
    trial = Trial(root)
    result: dict[str, Any] = {"operation": name, "delay": delay}
    try:
        request, check = OPERATIONS[name][0](trial)
        request()
        time.sleep(delay)  # the moment of the kill
        result["under way"] = trial.under_way()
        started = time.monotonic()
        trial.restart()
        wait_for(trial.settled, SETTLE, "every resource to settle")
        result["outcome"] = check()
        result["settled"] = time.monotonic() - started
        result["strays"] = trial.strays()
    except AssertionError as error:
        result["outcome"] = f"NOT SETTLED: {error}"
        result["strays"] = []
    finally:
        trial.close()
        leftover = servers_under(trial.data)
        if leftover:
            result.setdefault("strays", []).append(f"{len(leftover)} servers after a clean stop")
        shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=5, help="kill moments per operation")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=list(OPERATIONS), action="append")
    args = parser.parse_args()
    draw = random.Random(args.seed)
    results = []
    for name in args.only or OPERATIONS:
        for delay in sorted(round(draw.uniform(0.0, OPERATIONS[name][1]), 2) for _ in range(args.trials)):
            result = run_trial(name, delay)
            print(f"{name:22} kill at {delay:4.2f} s ({result.get('under way', '?')}): {result['outcome']}; final in "
                  f"{result.get('settled', float('nan')):.1f} s; strays: {result['strays'] or 'none'}", flush=True)
            results.append(result)
    print("\n| operation | kill after the request | under way at the kill | final state | final after the kill "
          "| strays |\n|---|---|---|---|---|---|")
    for result in results:
        print(f"| {result['operation']} | {result['delay']:.2f} s | {result.get('under way', '?')} | "
              f"{result['outcome']} | {result.get('settled', float('nan')):.1f} s | "
              f"{', '.join(result['strays']) or 'none'} |")


if __name__ == "__main__":
    main()
