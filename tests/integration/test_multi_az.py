"""Multi-AZ on real replication, both engines, on the process driver through boto3: a standby server beside the
primary that no client reaches; a forced failover and a primary killed with SIGKILL each hand the same
endpoint to the standby with every acknowledged commit; the zones swap, RDS's events are written, and a new
standby is made; MultiAZ turned off and on again by ModifyDBInstance."""

import contextlib
import os
import pathlib
import signal
import threading
from datetime import UTC, datetime

import pymysql
import pytest

from emulator.config import Settings
from emulator.engines import replication
from emulator.runtime import boot
from tests.api_client import NS, Api
from tests.emulator_process import servers_under, wait_for
from tests.integration.instances import wait_status
from tests.mysql_client import connect, read_rows, write_rows
from tests.writer import Writer

pytestmark = pytest.mark.mariadb
PASSWORD = "Standby-pass-1"
STARTED, DONE = "Multi-AZ instance failover started", "Multi-AZ instance failover completed"


def servers_of(emulator, resource_id):
    """The pids of the server processes of one instance: its primary's and its standby's (`<id>-2`)."""
    return servers_under(emulator.data_dir / "servers" / resource_id)


def listening_on(port):
    """The pid of the process listening on this loopback port (from /proc/net/tcp's socket inodes)."""
    inodes = set()
    for line in pathlib.Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
            inodes.add(f"socket:[{fields[9]}]")
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:
            continue
    return None


def events_of(client, identifier):
    return [event["Message"] for event in client.describe_events(
        SourceIdentifier=identifier, SourceType="db-instance", Duration=60)["Events"]]


def failed_over(client, identifier, times):
    wait_for(lambda: events_of(client, identifier).count(DONE) >= times, 120, f"failover {times}")
    return wait_status(client, identifier, "available")


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_failover_keeps_every_acknowledged_commit_on_the_same_endpoint(emulator_factory, rds_client, engine):
    emulator = emulator_factory("process", None, "--archive-seconds", "1")
    client = rds_client(emulator)
    made = client.create_db_instance(
        DBInstanceIdentifier="ha", DBInstanceClass="db.t3.micro", Engine=engine, AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=PASSWORD, DBName="app", BackupRetentionPeriod=1, MultiAZ=True)
    assert made["DBInstance"]["MultiAZ"] is True
    first = wait_status(client, "ha", "available")
    endpoint, resource_id = first["Endpoint"], first["DbiResourceId"]
    assert first["MultiAZ"] is True
    assert first["SecondaryAvailabilityZone"] != first["AvailabilityZone"]
    assert len(servers_of(emulator, resource_id)) == 2  # a standby runs beside the primary
    primary = listening_on(endpoint["Port"])
    assert primary in servers_of(emulator, resource_id)  # and only the primary listens
    write_rows(endpoint, "master", PASSWORD, "app", ["before"])
    client.create_db_instance_read_replica(DBInstanceIdentifier="rep", SourceDBInstanceIdentifier="ha")
    replica = wait_status(client, "rep", "available")["Endpoint"]

    with Writer(endpoint, "master", PASSWORD, "app") as writer:
        writer.wait_for(20, 30)
        client.reboot_db_instance(DBInstanceIdentifier="ha", ForceFailover=True)
        after = failed_over(client, "ha", 1)
        writer.wait_for(20, 60)
    assert set(writer.acknowledged) <= writer.stored()
    assert after["Endpoint"] == endpoint
    assert (after["AvailabilityZone"], after["SecondaryAvailabilityZone"]) == (
        first["SecondaryAvailabilityZone"], first["AvailabilityZone"])
    assert listening_on(endpoint["Port"]) not in (None, primary)
    assert read_rows(endpoint, "master", PASSWORD, "app") == ["before"]
    wait_for(lambda: len(servers_of(emulator, resource_id)) == 2, 60, "a new standby")
    write_rows(endpoint, "master", PASSWORD, "app", ["after"])  # the replica follows the new primary
    wait_for(lambda: read_rows(replica, "master", PASSWORD, "app") == ["before", "after"], 30, "the replica")
    client.delete_db_instance(DBInstanceIdentifier="rep", SkipFinalSnapshot=True)

    with Writer(endpoint, "master", PASSWORD, "app") as writer:  # the primary's server dies
        writer.wait_for(20, 30)
        os.kill(listening_on(endpoint["Port"]), signal.SIGKILL)
        failed_over(client, "ha", 2)
        writer.wait_for(20, 60)
    assert set(writer.acknowledged) <= writer.stored()
    assert events_of(client, "ha").count(STARTED) == 2
    # the archive goes on across both failovers: the latest restorable time has every acknowledged row
    written, stopped = writer.stored(), datetime.now(UTC)  # the emulator's clock is the host's here
    wait_for(lambda: client.describe_db_instances(DBInstanceIdentifier="ha")["DBInstances"][0][
        "LatestRestorableTime"] > stopped, 30, "the archive to pass the writer's last commit")
    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="ha", TargetDBInstanceIdentifier="back",
                                                UseLatestRestorableTime=True)
    back = wait_status(client, "back", "available")
    assert Writer(back["Endpoint"], "master", PASSWORD, "app").stored() == written
    assert read_rows(back["Endpoint"], "master", PASSWORD, "app") == ["before", "after"]
    client.delete_db_instance(DBInstanceIdentifier="back", SkipFinalSnapshot=True)

    client.modify_db_instance(DBInstanceIdentifier="ha", MultiAZ=False, ApplyImmediately=True)
    single = wait_status(client, "ha", "available")
    assert single["MultiAZ"] is False and "SecondaryAvailabilityZone" not in single
    wait_for(lambda: len(servers_of(emulator, resource_id)) == 1, 30, "the standby to go")
    client.modify_db_instance(DBInstanceIdentifier="ha", MultiAZ=True, ApplyImmediately=True)
    again = wait_status(client, "ha", "available")
    assert again["MultiAZ"] is True
    assert len(servers_of(emulator, resource_id)) == 2
    client.delete_db_instance(DBInstanceIdentifier="ha", SkipFinalSnapshot=True)
    wait_for(lambda: not servers_of(emulator, resource_id), 60, "both servers to go")


def killed_under_a_writer(client, endpoint, times):
    """The primary's server killed under a writer: every acknowledged commit is on the standby that takes
    over, which is what shows the standby was kept in step before."""
    with Writer(endpoint, "master", PASSWORD, "app") as writer:
        writer.wait_for(20, 60)
        os.kill(listening_on(endpoint["Port"]), signal.SIGKILL)
        failed_over(client, "ha", times)
        writer.wait_for(20, 60)
    assert set(writer.acknowledged) <= writer.stored()


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_the_standby_keeps_step_across_a_reboot_a_stop_and_its_own_loss(emulator_factory, rds_client, engine):
    emulator = emulator_factory("process")
    client = rds_client(emulator)
    client.create_db_instance(
        DBInstanceIdentifier="ha", DBInstanceClass="db.t3.micro", Engine=engine, AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=PASSWORD, DBName="app", BackupRetentionPeriod=0, MultiAZ=True)
    made = wait_status(client, "ha", "available")
    endpoint, resource_id = made["Endpoint"], made["DbiResourceId"]

    with Writer(endpoint, "master", PASSWORD, "app") as writer:  # a plain reboot restarts the primary
        writer.wait_for(20, 30)
        client.reboot_db_instance(DBInstanceIdentifier="ha")
        wait_status(client, "ha", "available")
        writer.wait_for(20, 60)
    assert "Multi-AZ instance failover started" not in events_of(client, "ha")
    killed_under_a_writer(client, endpoint, 1)

    client.stop_db_instance(DBInstanceIdentifier="ha")
    wait_status(client, "ha", "stopped")
    assert servers_of(emulator, resource_id) == []
    client.start_db_instance(DBInstanceIdentifier="ha")
    wait_status(client, "ha", "available")
    wait_for(lambda: len(servers_of(emulator, resource_id)) == 2, 60, "both servers")
    killed_under_a_writer(client, endpoint, 2)

    wait_for(lambda: len(servers_of(emulator, resource_id)) == 2, 60, "the new standby")
    wait_status(client, "ha", "available")
    primary = listening_on(endpoint["Port"])
    (standby,) = set(servers_of(emulator, resource_id)) - {primary}
    os.kill(standby, signal.SIGKILL)  # the standby's server dies: it is made again, the primary untouched
    wait_for(lambda: "The standby of the Multi-AZ DB instance was lost and has been made again"
             in events_of(client, "ha"), 90, "the standby made again")
    assert listening_on(endpoint["Port"]) == primary and len(servers_of(emulator, resource_id)) == 2
    killed_under_a_writer(client, endpoint, 3)


def automated_backups(client, identifier):
    return [item for item in client.describe_db_snapshots(DBInstanceIdentifier=identifier,
                                                          SnapshotType="automated")["DBSnapshots"]
            if item["Status"] == "available"]


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_backups_are_taken_from_the_standby_and_restore_every_row(emulator_factory, rds_client, engine):
    emulator = emulator_factory("process", None, "--archive-seconds", "1")
    client = rds_client(emulator)
    client.create_db_instance(
        DBInstanceIdentifier="ha", DBInstanceClass="db.t3.micro", Engine=engine, AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=PASSWORD, DBName="app", BackupRetentionPeriod=0, MultiAZ=True)
    endpoint = wait_status(client, "ha", "available")["Endpoint"]
    # the first automated backup, taken at once, of a standby that has applied nothing since it was made
    client.modify_db_instance(DBInstanceIdentifier="ha", BackupRetentionPeriod=1, ApplyImmediately=True)
    wait_for(lambda: automated_backups(client, "ha"), 120, "the first automated backup")
    assert emulator.log.read_text().count("backing up ha from its standby") == 1

    with Writer(endpoint, "master", PASSWORD, "app") as writer:  # a manual snapshot under a writer
        writer.wait_for(20, 30)
        client.create_db_snapshot(DBInstanceIdentifier="ha", DBSnapshotIdentifier="busy")
        wait_for(lambda: client.describe_db_snapshots(DBSnapshotIdentifier="busy")["DBSnapshots"][0]["Status"]
                 == "available", 120, "the snapshot")
        writer.wait_for(20, 60)
    assert emulator.log.read_text().count("backing up ha from its standby") == 2
    assert set(writer.acknowledged) <= writer.stored()
    written, stopped = writer.stored(), datetime.now(UTC)
    client.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="copy", DBSnapshotIdentifier="busy")
    wait_for(lambda: client.describe_db_instances(DBInstanceIdentifier="ha")["DBInstances"][0][
        "LatestRestorableTime"] > stopped, 30, "the archive to pass the writer's last commit")
    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="ha", TargetDBInstanceIdentifier="back",
                                                UseLatestRestorableTime=True)
    copied = Writer(wait_status(client, "copy", "available")["Endpoint"], "master", PASSWORD, "app").stored()
    assert copied == set(range(1, len(copied) + 1)) and len(copied) >= 20  # what the standby had applied
    # replayed from the first backup, which holds none of the writer's rows
    assert Writer(wait_status(client, "back", "available")["Endpoint"], "master", PASSWORD, "app").stored() == written


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_a_commit_only_a_read_replica_received_is_kept_by_the_standby_that_takes_over(tmp_path, engine):
    """The primary logs a commit and feeds it to its read replica, then dies while it waits for its standby's
    acknowledgement: the standby takes the commit from the replica before it takes over, so that the replica
    follows the new primary rather than holding a transaction its source lacks."""
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="process", auth="off", monitor_seconds=0.2),
                   schedule=True)
    try:
        api = Api(runtime)
        api.create("ha", Engine=engine, BackupRetentionPeriod="1", DBName="app", MasterUsername="master",
                   MasterUserPassword=PASSWORD, MultiAZ="true")
        wait_for(lambda: api.status("ha") == "available", 90, "ha")
        api.ok(Action="CreateDBInstanceReadReplica", DBInstanceIdentifier="rep", SourceDBInstanceIdentifier="ha")
        wait_for(lambda: api.status("rep") == "available", 90, "rep")
        ctx = runtime.ctx
        ha, rep = ctx.store.find_instance("ha"), ctx.store.find_instance("rep")
        endpoint, replica = ({"Address": spec.host, "Port": spec.port} for spec in (ctx.spec(ha), ctx.spec(rep)))
        write_rows(endpoint, "master", PASSWORD, "app", ["acknowledged"])
        wait_for(lambda: rows_or_none(replica) == ["acknowledged"], 30, "the replica")
        with ctx.driver.admin(ctx.standby_spec(ha)) as cursor:
            replication.pause(cursor, ctx.flavor(ha))  # the standby receives nothing more

        def unacknowledged():
            with contextlib.suppress(pymysql.MySQLError), connect(endpoint, "master", PASSWORD, "app") as conn, \
                    conn.cursor() as cursor:
                cursor.execute("INSERT INTO notes (body) VALUES ('unacknowledged')")  # waits for the standby

        waiting = threading.Thread(target=unacknowledged, daemon=True)
        waiting.start()
        wait_for(lambda: rows_or_none(replica) == ["acknowledged", "unacknowledged"], 30, "the replica to have it")
        os.kill(listening_on(endpoint["Port"]), signal.SIGKILL)
        wait_for(lambda: api.status("ha") == "available" and DONE in [
            item.text for item in api.ok(Action="DescribeEvents", SourceType="db-instance", SourceIdentifier="ha",
                                         Duration="60").iter(f"{NS}Message")], 90, "the failover")
        waiting.join(30)
        assert read_rows(endpoint, "master", PASSWORD, "app") == ["acknowledged", "unacknowledged"]
        write_rows(endpoint, "master", PASSWORD, "app", ["after"])
        wait_for(lambda: rows_or_none(replica) == ["acknowledged", "unacknowledged", "after"], 30,
                 "the replica to follow the new primary")
        status = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="rep").findtext(
            f".//{NS}StatusInfos/{NS}DBInstanceStatusInfo/{NS}Status")
        assert status == "replicating"
    finally:
        runtime.close()


def rows_or_none(endpoint):
    try:
        return read_rows(endpoint, "master", PASSWORD, "app")
    except pymysql.MySQLError:  # the table not there yet, or a server that does not answer yet
        return None
