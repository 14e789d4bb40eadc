"""Each engine version is its own server, whatever the host has installed: Engine=mysql is Oracle's MySQL,
mariadb is MariaDB in the version asked for. What a client reads of the server itself, a MySQL-only
statement, a parameter reaching the server, and a snapshot's and a point-in-time restore's rows (MySQL's
hot backup is its CLONE plugin, its point-in-time replay goes by GTIDs), through boto3 on the process
driver."""

from datetime import timedelta

import pymysql
import pytest

from emulator.config import Settings
from emulator.runtime import boot
from emulator.work import backups
from tests.api_client import NS, Api
from tests.emulator_process import wait_for
from tests.integration.instances import describe, wait_status
from tests.integration.test_backups import next_second
from tests.mysql_client import connect, read_rows, write_rows

pytestmark = pytest.mark.mariadb
PASSWORD = "Engine-pass-1"
# a functional index on a JSON path: MySQL's syntax since 8.0.13, which MariaDB refuses
FUNCTIONAL = "CREATE TABLE docs (j JSON, INDEX by_a ((CAST(j->'$.a' AS UNSIGNED))))"


def create(client, identifier, engine, version=None, **extra):
    return client.create_db_instance(
        DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine=engine, AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=PASSWORD, DBName="app",
        **({"EngineVersion": version} if version else {}), **extra,
    )["DBInstance"]


def server_says(endpoint) -> tuple[str, str]:
    with connect(endpoint, "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT VERSION(), @@version_comment")
        return cursor.fetchone()


@pytest.mark.parametrize(("engine", "version", "flavor"), [
    ("mysql", None, "MySQL"), ("mariadb", None, "MariaDB"), ("mariadb", "11.8", "MariaDB"),
], ids=["mysql", "mariadb-default", "mariadb-11.8"])
def test_the_server_is_the_engine_and_version_asked_for(emulator_factory, rds_client, engine, version, flavor):
    client = rds_client(emulator_factory("process"))
    created = create(client, "db1", engine, version, BackupRetentionPeriod=0)
    family = client.describe_db_engine_versions(Engine=engine, EngineVersion=created["EngineVersion"])
    listed, = family["DBEngineVersions"]
    assert created["DBParameterGroups"][0]["DBParameterGroupName"] == f"default.{listed['DBParameterGroupFamily']}"
    found = wait_status(client, "db1", "available")
    number, comment = server_says(found["Endpoint"])
    assert number.split("-")[0] == found["EngineVersion"]  # what the server itself reports
    assert ("MariaDB" in number) == (flavor == "MariaDB")
    if version:
        assert found["EngineVersion"].startswith(version + ".")
    with connect(found["Endpoint"], "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        if flavor == "MySQL":
            assert comment == "(Debian)"
            cursor.execute(FUNCTIONAL)
            cursor.execute("SELECT @@innodb_dedicated_server")
        else:
            with pytest.raises(pymysql.err.ProgrammingError):
                cursor.execute(FUNCTIONAL)
            cursor.execute("SELECT @@aria_pagecache_buffer_size")

    # a value of the family's own catalogue, set at once, reaches the server
    group = f"tuned-{engine}"
    client.create_db_parameter_group(DBParameterGroupName=group, Description="tuned",
                                     DBParameterGroupFamily=listed["DBParameterGroupFamily"])
    client.modify_db_parameter_group(DBParameterGroupName=group, Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": "77", "ApplyMethod": "immediate"}])
    client.modify_db_instance(DBInstanceIdentifier="db1", DBParameterGroupName=group, ApplyImmediately=True)
    client.reboot_db_instance(DBInstanceIdentifier="db1")
    wait_for(lambda: describe(client, "db1")["DBInstanceStatus"] == "available"
             and describe(client, "db1")["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync", 90,
             "the reboot into the group")
    with connect(found["Endpoint"], "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT @@max_connections")
        assert cursor.fetchone() == (77,)


def test_an_unserved_version_is_refused_with_those_that_are(emulator_factory, rds_client):
    client = rds_client(emulator_factory("process"))
    with pytest.raises(client.exceptions.ClientError) as refused:
        create(client, "old", "mysql", "8.0")
    message = refused.value.response["Error"]["Message"]
    assert message.startswith("Cannot find version 8.0 for mysql") and "mysql 9.7." in message


def test_mysql_snapshots_and_point_in_time_restore_keep_exactly_the_committed_rows(emulator_factory, rds_client):
    client = rds_client(emulator_factory("process", None, "--archive-seconds", "1"))
    create(client, "source", "mysql")
    create(client, "other", "mysql")
    endpoint = wait_status(client, "source", "available", timeout=120)["Endpoint"]
    write_rows(endpoint, "master", PASSWORD, "app", ["in-snapshot"])
    client.create_db_snapshot(DBInstanceIdentifier="source", DBSnapshotIdentifier="manual-1")
    snapshot = wait_for(lambda: (found := client.describe_db_snapshots(DBSnapshotIdentifier="manual-1")
                                 ["DBSnapshots"][0])["Status"] == "available" and found, 120, "the snapshot")
    assert snapshot["Engine"] == "mysql" and snapshot["EngineVersion"] == describe(client, "source")["EngineVersion"]
    write_rows(endpoint, "master", PASSWORD, "app", ["before-cut"])
    cut = next_second()
    write_rows(endpoint, "master", PASSWORD, "app", ["after-cut"])
    wait_for(lambda: describe(client, "source").get("LatestRestorableTime", cut) > cut + timedelta(seconds=1),
             30, "the logs after the cut to be archived")

    client.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="from-snap", DBSnapshotIdentifier="manual-1")
    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="source",
                                                TargetDBInstanceIdentifier="at-cut", RestoreTime=cut)
    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="source",
                                                TargetDBInstanceIdentifier="latest", UseLatestRestorableTime=True)
    restored = wait_status(client, "from-snap", "available", timeout=120)
    assert read_rows(restored["Endpoint"], "master", PASSWORD, "app") == ["in-snapshot"]
    at_cut = wait_status(client, "at-cut", "available", timeout=120)
    assert read_rows(at_cut["Endpoint"], "master", PASSWORD, "app") == ["in-snapshot", "before-cut"]
    latest = wait_status(client, "latest", "available", timeout=120)
    assert read_rows(latest["Endpoint"], "master", PASSWORD, "app") == ["in-snapshot", "before-cut", "after-cut"]
    # the restored server goes on numbering its own transactions: it takes writes
    write_rows(at_cut["Endpoint"], "master", PASSWORD, "app", ["new-on-restored"])
    assert read_rows(at_cut["Endpoint"], "master", PASSWORD, "app")[-1] == "new-on-restored"
    assert server_says(at_cut["Endpoint"])[1] == "(Debian)"
    # each server is its own: its own server id and uuid (its GTIDs' source), new and restored ones alike
    other = wait_status(client, "other", "available", timeout=120)
    identities = {identity(found["Endpoint"]) for found in (describe(client, "source"), other, restored, at_cut,
                                                             latest)}
    assert len({server_id for server_id, _ in identities}) == len({uuid for _, uuid in identities}) == 5


def identity(endpoint):
    with connect(endpoint, "master", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT @@server_id, @@server_uuid")
        return cursor.fetchone()


@pytest.mark.parametrize(("engine", "version"), [("mariadb", "10.11"), ("mariadb", "11.8"), ("mysql", "9.7")])
def test_a_new_instances_first_backup_is_its_ready_backup_and_restores_as_it_was(
        emulator_factory, rds_client, engine, version):
    emulator = emulator_factory("process", None, "--archive-seconds", "1")
    client = rds_client(emulator)
    create(client, "fresh", engine, version)
    endpoint = wait_status(client, "fresh", "available", timeout=120)["Endpoint"]
    assert "the first backup of fresh is the ready backup" in emulator.log.read_text()
    [first] = client.describe_db_snapshots(DBInstanceIdentifier="fresh", SnapshotType="automated")["DBSnapshots"]
    assert first["Status"] == "available"
    write_rows(endpoint, "master", PASSWORD, "app", ["after-the-first-backup"])
    cut = next_second()
    write_rows(endpoint, "master", PASSWORD, "app", ["after-cut"])
    wait_for(lambda: describe(client, "fresh").get("LatestRestorableTime", cut) > cut + timedelta(seconds=1),
             30, "the logs after the cut to be archived")

    # the snapshot is the instance as it was made: its master user, its database, nothing in it
    client.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="as-made",
                                                DBSnapshotIdentifier=first["DBSnapshotIdentifier"])
    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="fresh",
                                                TargetDBInstanceIdentifier="at-cut", RestoreTime=cut)
    made = wait_status(client, "as-made", "available", timeout=120)
    with connect(made["Endpoint"], "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app'")
        assert cursor.fetchone() == (0,)
    at_cut = wait_status(client, "at-cut", "available", timeout=120)
    assert read_rows(at_cut["Endpoint"], "master", PASSWORD, "app") == ["after-the-first-backup"]
    assert server_says(at_cut["Endpoint"])[0].startswith(version + ".")


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_a_first_backup_of_a_server_written_to_since_it_was_made_is_a_real_one(tmp_path, engine):
    runtime = boot(Settings.from_env(data_dir=tmp_path / "data", driver="process", auth="off"), schedule=False)
    try:
        api = Api(runtime)
        api.create("db1", Engine=engine, MasterUsername="master", MasterUserPassword=PASSWORD, DBName="app",
                   BackupRetentionPeriod="0")
        wait_for(lambda: api.status("db1") == "available", 120, "db1")
        ctx = runtime.ctx
        made = backups.as_made(ctx, ctx.store.find_instance("db1"))
        port = int(api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="db1").findtext(f".//{NS}Port"))
        write_rows({"Address": "127.0.0.1", "Port": port}, "master", PASSWORD, "app", ["written before"])
        assert backups.snapshot(ctx, ctx.store.find_instance("db1"),
                                {"snapshot": "rds:db1-first", "automated": True, "as_made": made})
        api.ok(Action="RestoreDBInstanceFromDBSnapshot", DBInstanceIdentifier="db2",
               DBSnapshotIdentifier="rds:db1-first")
        wait_for(lambda: api.status("db2") == "available", 120, "db2")
        port = int(api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="db2").findtext(f".//{NS}Port"))
        assert read_rows({"Address": "127.0.0.1", "Port": port}, "master", PASSWORD, "app") == ["written before"]
    finally:
        runtime.close()
