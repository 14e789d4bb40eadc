"""Read replicas on real replication, both engines, on the process driver through boto3: a replica made from
a hot backup of its source has the source's rows and follows new ones, refuses its master user's writes,
reports its replication as its server says it (an error with the server's reason when it breaks), cannot
be stopped, and once promoted (or once its source is deleted) is a writable instance of its own."""

import os
import signal

import pymysql
import pytest
from botocore.exceptions import ClientError

from emulator.config import Settings
from emulator.runtime import boot
from tests.api_client import NS, Api
from tests.emulator_process import servers_under, wait_for
from tests.integration.instances import describe, wait_status
from tests.mysql_client import connect, read_rows, write_rows
from tests.together import all_at_once

pytestmark = pytest.mark.mariadb
PASSWORD = "Replica-pass-1"


def create_source(client, identifier, engine):
    client.create_db_instance(
        DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine=engine, AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=PASSWORD, DBName="app", BackupRetentionPeriod=1)
    return wait_status(client, identifier, "available")


def replication_of(found):
    (info,) = found["StatusInfos"]
    assert info["StatusType"] == "read replication"
    return info["Status"], info.get("Message")


def rows_or_none(endpoint):
    """The rows a client reads, or None while the table is not there yet (a replica that lags) or its server
    does not answer yet (one started again)."""
    try:
        return read_rows(endpoint, "master", PASSWORD, "app")
    except (pymysql.err.ProgrammingError, pymysql.err.OperationalError):
        return None


def error_code(call, **kwargs):
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_a_replica_follows_its_source_reads_only_and_is_promoted(emulator_factory, rds_client, engine):
    emulator = emulator_factory("process")
    client = rds_client(emulator)
    source = create_source(client, "src", engine)
    write_rows(source["Endpoint"], "master", PASSWORD, "app", ["before"])
    made = client.create_db_instance_read_replica(DBInstanceIdentifier="rep", SourceDBInstanceIdentifier="src")
    assert made["DBInstance"]["DBInstanceStatus"] == "creating"
    assert made["DBInstance"]["ReadReplicaSourceDBInstanceIdentifier"] == "src"
    replica = wait_status(client, "rep", "available")
    assert replica["Endpoint"] != source["Endpoint"]
    assert replica["EngineVersion"] == source["EngineVersion"]
    assert replication_of(replica) == ("replicating", None)
    assert describe(client, "src")["ReadReplicaDBInstanceIdentifiers"] == ["rep"]
    assert read_rows(replica["Endpoint"], "master", PASSWORD, "app") == ["before"]
    write_rows(source["Endpoint"], "master", PASSWORD, "app", ["after"])
    wait_for(lambda: read_rows(replica["Endpoint"], "master", PASSWORD, "app") == ["before", "after"], 30,
             "the replica to follow")
    with pytest.raises(pymysql.err.MySQLError) as refused:
        write_rows(replica["Endpoint"], "master", PASSWORD, "app", ["on the replica"])
    assert refused.value.args[0] == 1290  # ER_OPTION_PREVENTS_STATEMENT: read-only
    for name in ("rep", "src"):  # as RDS for MySQL and MariaDB
        assert error_code(client.stop_db_instance, DBInstanceIdentifier=name)[0] == "InvalidDBInstanceState"
    client.reboot_db_instance(DBInstanceIdentifier="src")  # the replica reconnects, and catches up
    wait_status(client, "src", "available")
    write_rows(source["Endpoint"], "master", PASSWORD, "app", ["rebooted"])
    wait_for(lambda: read_rows(replica["Endpoint"], "master", PASSWORD, "app") == ["before", "after", "rebooted"],
             30, "the replica to follow its rebooted source")
    assert replication_of(describe(client, "rep")) == ("replicating", None)
    client.reboot_db_instance(DBInstanceIdentifier="rep")  # its server starts without replicating: resumed
    wait_status(client, "rep", "available")
    write_rows(source["Endpoint"], "master", PASSWORD, "app", ["after its reboot"])
    wait_for(lambda: read_rows(replica["Endpoint"], "master", PASSWORD, "app")[-1] == "after its reboot", 30,
             "the rebooted replica to follow")
    (server,) = servers_under(emulator.data_dir / "servers" / replica["DbiResourceId"])
    os.kill(server, signal.SIGKILL)  # the watch starts it again, replicating
    write_rows(source["Endpoint"], "master", PASSWORD, "app", ["after its crash"])
    wait_for(lambda: (rows_or_none(replica["Endpoint"]) or [""])[-1] == "after its crash", 60,
             "the recovered replica to follow")
    client.create_db_snapshot(DBInstanceIdentifier="rep", DBSnapshotIdentifier="of-rep")  # as of any instance
    wait_for(lambda: client.describe_db_snapshots(DBSnapshotIdentifier="of-rep")["DBSnapshots"][0]["Status"]
             == "available", 60, "the replica's snapshot")
    client.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="from-rep", DBSnapshotIdentifier="of-rep")
    restored = wait_status(client, "from-rep", "available")
    assert "StatusInfos" not in restored  # a restore of a replica's snapshot follows nothing
    assert read_rows(restored["Endpoint"], "master", PASSWORD, "app") == ["before", "after", "rebooted",
                                                                          "after its reboot", "after its crash"]

    promoted = client.promote_read_replica(DBInstanceIdentifier="rep", BackupRetentionPeriod=2)["DBInstance"]
    assert promoted["DBInstanceStatus"] == "modifying"
    found = wait_for(lambda: (item := describe(client, "rep"))["DBInstanceStatus"] == "available"
                     and "StatusInfos" not in item and item, 90, "the promotion")
    assert found["BackupRetentionPeriod"] == 2 and "ReadReplicaSourceDBInstanceIdentifier" not in found
    assert describe(client, "src")["ReadReplicaDBInstanceIdentifiers"] == []
    write_rows(found["Endpoint"], "master", PASSWORD, "app", ["promoted"])
    kept = ["before", "after", "rebooted", "after its reboot", "after its crash"]
    assert read_rows(found["Endpoint"], "master", PASSWORD, "app") == [*kept, "promoted"]
    assert read_rows(source["Endpoint"], "master", PASSWORD, "app") == kept
    events = [item["Message"] for item in client.describe_events(SourceIdentifier="rep",
                                                                  SourceType="db-instance")["Events"]]
    assert "Promoted Read Replica to a standalone DB instance" in events


def test_a_source_needs_automated_backups_and_deleting_it_promotes_its_replicas(emulator_factory, rds_client):
    client = rds_client(emulator_factory("process"))
    client.create_db_instance(
        DBInstanceIdentifier="nobackup", DBInstanceClass="db.t3.micro", Engine="mariadb", AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=PASSWORD, BackupRetentionPeriod=0)
    code, message = error_code(client.create_db_instance_read_replica, DBInstanceIdentifier="r0",
                               SourceDBInstanceIdentifier="nobackup")
    assert code == "InvalidDBInstanceState" and "Automated backups are not enabled" in message
    code, _ = error_code(client.create_db_instance_read_replica, DBInstanceIdentifier="r0",
                         SourceDBInstanceIdentifier="missing")
    assert code == "DBInstanceNotFound"
    source = create_source(client, "src", "mariadb")
    client.create_db_instance_read_replica(DBInstanceIdentifier="r1", SourceDBInstanceIdentifier="src")
    replica = wait_status(client, "r1", "available")
    write_rows(source["Endpoint"], "master", PASSWORD, "app", ["last"])
    wait_for(lambda: read_rows(replica["Endpoint"], "master", PASSWORD, "app") == ["last"], 30, "the row")
    client.delete_db_instance(DBInstanceIdentifier="src", SkipFinalSnapshot=True)
    wait_for(lambda: (item := describe(client, "r1"))["DBInstanceStatus"] == "available"
             and "StatusInfos" not in item, 90, "r1 to be promoted")  # a replica reports its replication
    write_rows(replica["Endpoint"], "master", PASSWORD, "app", ["mine"])
    assert read_rows(replica["Endpoint"], "master", PASSWORD, "app") == ["last", "mine"]


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_broken_replication_shows_error_with_the_servers_reason(tmp_path, engine):
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="process", auth="off", monitor_seconds=0.2),
                   schedule=True)
    try:
        api = Api(runtime)
        api.create("src", Engine=engine, BackupRetentionPeriod="1", DBName="app", MasterUsername="master",
                   MasterUserPassword=PASSWORD)
        wait_for(lambda: api.status("src") == "available", 60, "src")
        api.ok(Action="CreateDBInstanceReadReplica", DBInstanceIdentifier="rep", SourceDBInstanceIdentifier="src")
        wait_for(lambda: api.status("rep") == "available", 90, "rep")
        ctx = runtime.ctx
        source, replica = ctx.store.find_instance("src"), ctx.store.find_instance("rep")
        with ctx.driver.admin(ctx.spec(source)) as cursor:
            cursor.execute("CREATE TABLE app.t (id INT PRIMARY KEY)")
        wait_for(lambda: _tables(ctx, replica) == ["t"], 30, "the table on the replica")
        with ctx.driver.admin(ctx.spec(replica)) as cursor:  # a privileged session writes on the replica
            cursor.execute("SET GLOBAL super_read_only = OFF" if engine == "mysql" else "DO 0")
            cursor.execute("INSERT INTO app.t VALUES (1)")
        with ctx.driver.admin(ctx.spec(source)) as cursor:
            cursor.execute("INSERT INTO app.t VALUES (1)")

        def infos():
            root = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="rep")
            return root.findtext(f".//{NS}StatusInfos/{NS}DBInstanceStatusInfo/{NS}Status"), \
                root.findtext(f".//{NS}StatusInfos/{NS}DBInstanceStatusInfo/{NS}Message")

        # MySQL's coordinator may say "a worker failed" a moment before the worker's own reason is there
        wait_for(lambda: (found := infos())[0] == "error" and "Duplicate entry" in (found[1] or ""), 30,
                 "the error, with the server's reason")
        events = api.ok(Action="DescribeEvents", SourceType="db-instance", SourceIdentifier="rep", Duration="60")
        assert any(item.text.startswith("Replication has stopped") for item in events.iter(f"{NS}Message"))
        # a broken replica is promoted as it is: it applies no more, and waits for nothing
        api.ok(Action="PromoteReadReplica", DBInstanceIdentifier="rep", BackupRetentionPeriod="0")
        wait_for(lambda: api.status("rep") == "available" and infos() == (None, None), 60, "the promotion")
        with ctx.driver.admin(ctx.spec(replica)) as cursor:
            cursor.execute("SELECT @@read_only")
            assert cursor.fetchone() == (0,)
    finally:
        runtime.close()


def _tables(ctx, instance):
    with ctx.driver.admin(ctx.spec(instance)) as cursor:
        cursor.execute("SHOW TABLES FROM app")
        return [row[0] for row in cursor.fetchall()]


def test_replicas_made_promoted_and_deleted_while_the_source_reboots_and_is_modified(emulator_factory,
                                                                                      rds_client):
    """Every request is answered as RDS answers it, and what the store holds is what the servers do."""
    client = rds_client(emulator_factory("process"))
    source = create_source(client, "src", "mariadb")
    allowed = {None, "InvalidDBInstanceState"}

    def attempt(call, **kwargs):
        try:
            call(**kwargs)
        except ClientError as error:
            return error.response["Error"]["Code"]
        return None

    first = all_at_once(lambda job: attempt(job[0], **job[1]), [
        (client.create_db_instance_read_replica, {"DBInstanceIdentifier": f"r{n}", "SourceDBInstanceIdentifier": "src"})
        for n in (1, 2, 3)] + [
        (client.reboot_db_instance, {"DBInstanceIdentifier": "src"}),
        (client.modify_db_instance, {"DBInstanceIdentifier": "src", "DBInstanceClass": "db.t3.small",
                                     "ApplyImmediately": True})])
    assert first[:3] == [None, None, None] and set(first[3:]) <= allowed and None in first[3:]
    for name in ("src", "r1", "r2", "r3"):
        wait_status(client, name, "available", 120)
    second = all_at_once(lambda job: attempt(job[0], **job[1]), [
        (client.promote_read_replica, {"DBInstanceIdentifier": "r1"}),
        (client.delete_db_instance, {"DBInstanceIdentifier": "r2", "SkipFinalSnapshot": True}),
        (client.reboot_db_instance, {"DBInstanceIdentifier": "src"})])
    assert second == [None, None, None]
    wait_for(lambda: (item := describe(client, "r1"))["DBInstanceStatus"] == "available"
             and "StatusInfos" not in item, 120, "r1 promoted")
    wait_for(lambda: not client.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": ["r2"]}])[
        "DBInstances"], 60, "r2 deleted")
    wait_status(client, "src", "available")
    write_rows(source["Endpoint"], "master", PASSWORD, "app", ["late"])
    r3 = wait_status(client, "r3", "available")
    wait_for(lambda: read_rows(r3["Endpoint"], "master", PASSWORD, "app") == ["late"], 30, "r3 to follow")
    assert replication_of(describe(client, "r3")) == ("replicating", None)
    with connect(describe(client, "r1")["Endpoint"], "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute("SHOW TABLES")  # promoted before the source made its table: it follows no more
        assert cursor.fetchall() == ()
    assert describe(client, "src")["ReadReplicaDBInstanceIdentifiers"] == ["r3"]
    with connect(source["Endpoint"], "master", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT user FROM mysql.user WHERE user LIKE 'rdsrepl%'")
        assert cursor.fetchall() == (("rdsrepladmin",),)  # one account for all of its replicas, as on RDS


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_a_replica_backs_up_restores_to_a_point_and_is_a_source_itself(emulator_factory, rds_client, engine):
    """Its own automated backups when asked (its server read-only all the while), a point-in-time restore of
    them, and a replica of it (cascading, as RDS allows for these engines) that follows the first source."""
    client = rds_client(emulator_factory("process", None, "--archive-seconds", "1"))
    source = create_source(client, "src", engine)
    client.create_db_instance_read_replica(DBInstanceIdentifier="rep", SourceDBInstanceIdentifier="src")
    wait_status(client, "rep", "available")
    code, _ = error_code(client.create_db_instance_read_replica, DBInstanceIdentifier="rep2",
                         SourceDBInstanceIdentifier="rep")
    assert code == "InvalidDBInstanceState"  # a replica's retention is 0 until it is asked for
    client.modify_db_instance(DBInstanceIdentifier="rep", BackupRetentionPeriod=1, ApplyImmediately=True)
    wait_for(lambda: any(item["Status"] == "available" for item in client.describe_db_snapshots(
        DBInstanceIdentifier="rep", SnapshotType="automated")["DBSnapshots"]), 120, "the replica's first backup")
    write_rows(source["Endpoint"], "master", PASSWORD, "app", ["one"])  # its table too: the replica may lag
    replica = describe(client, "rep")
    wait_for(lambda: rows_or_none(replica["Endpoint"]) == ["one"], 30, "the follow")
    marked = wait_for(lambda: (found := describe(client, "rep").get("LatestRestorableTime"))
                      and found > replica["InstanceCreateTime"] and found, 60, "the replica's logs archived")
    wait_for(lambda: describe(client, "rep")["LatestRestorableTime"] > marked, 60, "a later restorable time")
    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="rep", TargetDBInstanceIdentifier="back",
                                                UseLatestRestorableTime=True)
    restored = wait_status(client, "back", "available", 120)
    assert read_rows(restored["Endpoint"], "master", PASSWORD, "app") == ["one"]
    assert "StatusInfos" not in restored

    client.create_db_instance_read_replica(DBInstanceIdentifier="rep2", SourceDBInstanceIdentifier="rep")
    second = wait_status(client, "rep2", "available", 120)
    assert second["ReadReplicaSourceDBInstanceIdentifier"] == "rep"
    write_rows(source["Endpoint"], "master", PASSWORD, "app", ["two"])
    wait_for(lambda: read_rows(second["Endpoint"], "master", PASSWORD, "app") == ["one", "two"], 30,
             "the second replica to follow the first source through the first replica")
