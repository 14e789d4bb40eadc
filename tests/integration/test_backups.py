"""Snapshots and point-in-time restore hold exactly the data a MySQL client committed: restored rows are
read back through the new instance's endpoint, on both drivers (the rest of the API's behaviour, which
does not depend on where the server lives, on processes only)."""

import pathlib
import tempfile
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.emulator_process import wait_for
from tests.integration.instances import describe, wait_status
from tests.mysql_client import connect, read_rows, write_rows
from tests.together import all_at_once

pytestmark = pytest.mark.mariadb
PASSWORD = "Backup-pass-1"
MARGIN = timedelta(milliseconds=100)


def create(client, identifier, **extra):
    return client.create_db_instance(
        DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine="mariadb", AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=PASSWORD, DBName="app", **extra,
    )["DBInstance"]


def snapshots(client, **fields):
    return client.describe_db_snapshots(**fields)["DBSnapshots"]


def wait_snapshot(client, name):
    return wait_for(lambda: (found := snapshots(client, DBSnapshotIdentifier=name)[0])["Status"] == "available"
                    and found, 180, f"snapshot {name}")


def next_second() -> datetime:
    """A whole second at least MARGIN after now, once MARGIN after it has come: binary log events carry
    whole seconds, and a guest's clock is the host's to within a few milliseconds, so every row written
    before the call is before it, and every row written after is after it."""
    moment = (datetime.now(UTC) + MARGIN).replace(microsecond=0) + timedelta(seconds=1)
    wait_for(lambda: datetime.now(UTC) >= moment + MARGIN, 3, "the next second")
    return moment


def write_bulk(endpoint) -> tuple[int, int]:
    """A transaction larger than a server's default packet (16 MiB): its row event is one statement when
    replayed. Its rows' count and bytes."""
    with connect(endpoint, "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE bulk (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(1000))")
        cursor.execute("INSERT INTO bulk (body) VALUES " + ",".join(["(REPEAT('b', 1000))"] * 1000))
        cursor.execute("INSERT INTO bulk (body) SELECT a.body FROM bulk a, (SELECT 1 FROM bulk LIMIT 20) b")
        cursor.execute("SELECT COUNT(*), SUM(LENGTH(body)) FROM bulk")
        return cursor.fetchone()


def error_code(call, **fields):
    with pytest.raises(ClientError) as caught:
        call(**fields)
    return caught.value.response["Error"]["Code"]


def test_snapshots_and_point_in_time_restore_give_back_exactly_the_committed_rows(
    server_driver, emulator_factory, rds_client
):
    emulator = emulator_factory(server_driver, None, "--archive-seconds", "1")
    client = rds_client(emulator)
    create(client, "source")
    endpoint = wait_status(client, "source", "available", timeout=300)["Endpoint"]
    first, = snapshots(client, DBInstanceIdentifier="source", SnapshotType="automated")
    assert first["Status"] == "available" and first["PercentProgress"] == 100
    assert first["DBSnapshotIdentifier"].startswith("rds:source-")
    write_rows(endpoint, "master", PASSWORD, "app", ["in-snapshot"])
    made = client.create_db_snapshot(DBInstanceIdentifier="source", DBSnapshotIdentifier="manual-1",
                                     Tags=[{"Key": "team", "Value": "db"}])["DBSnapshot"]
    assert made["Status"] == "creating" and made["SnapshotType"] == "manual"
    assert wait_snapshot(client, "manual-1")["TagList"] == [{"Key": "team", "Value": "db"}]
    write_rows(endpoint, "master", PASSWORD, "app", ["before-cut"])
    cut = next_second()
    write_rows(endpoint, "master", PASSWORD, "app", ["after-cut"])
    wait_for(lambda: describe(client, "source").get("LatestRestorableTime", cut) > cut + timedelta(seconds=1),
             30, "the logs after the cut to be archived")

    in_tmp = set(pathlib.Path(tempfile.gettempdir()).glob("replay-*"))
    client.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="from-snap", DBSnapshotIdentifier="manual-1")
    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="source",
                                                TargetDBInstanceIdentifier="at-cut", RestoreTime=cut)
    restored = wait_status(client, "from-snap", "available", timeout=300)
    assert read_rows(restored["Endpoint"], "master", PASSWORD, "app") == ["in-snapshot"]
    at_cut = wait_status(client, "at-cut", "available", timeout=300)
    assert read_rows(at_cut["Endpoint"], "master", PASSWORD, "app") == ["in-snapshot", "before-cut"]
    # the replay's copies of the logs, and its file that logs in to the server, are gone with it
    assert set(pathlib.Path(tempfile.gettempdir()).glob("replay-*")) <= in_tmp
    assert list((emulator.data_dir / "work").glob("replay-*")) == []
    assert at_cut["MasterUsername"] == "master" and at_cut["DBInstanceClass"] == "db.t3.micro"

    messages = {(e["SourceIdentifier"], e["Message"]) for e in client.describe_events(Duration=60)["Events"]}
    assert {("from-snap", "Restored from snapshot manual-1"), ("at-cut", "Restored from DB instance source to at-cut"),
            ("manual-1", "Creating manual snapshot"), ("manual-1", "Manual snapshot created"),
            ("source", "Backing up DB instance"), ("source", "Finished DB Instance backup")} <= messages


def test_restore_to_the_latest_restorable_time_and_outside_the_window(emulator_factory, rds_client):
    emulator = emulator_factory("process", None, "--archive-seconds", "1")
    client = rds_client(emulator)
    create(client, "source")
    create(client, "no-backups", BackupRetentionPeriod=0)
    endpoint = wait_status(client, "source", "available")["Endpoint"]
    write_rows(endpoint, "master", PASSWORD, "app", ["one", "two"])
    bulk = write_bulk(endpoint)
    written = next_second()
    wait_for(lambda: describe(client, "source").get("LatestRestorableTime", written) > written, 30, "archived")
    latest = describe(client, "source")["LatestRestorableTime"]
    assert datetime.now(UTC) - latest < timedelta(minutes=5)

    future = datetime.now(UTC) + timedelta(hours=1)
    assert error_code(client.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier="source",
                      TargetDBInstanceIdentifier="too-late", RestoreTime=future) == "InvalidRestoreFault"
    assert error_code(client.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier="source",
                      TargetDBInstanceIdentifier="too-early", RestoreTime=datetime(2020, 1, 1, tzinfo=UTC),
                      ) == "InvalidRestoreFault"
    assert error_code(client.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier="source",
                      TargetDBInstanceIdentifier="both", RestoreTime=latest, UseLatestRestorableTime=True,
                      ) == "InvalidParameterCombination"
    wait_status(client, "no-backups", "available")
    assert "LatestRestorableTime" not in describe(client, "no-backups")
    assert error_code(client.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier="no-backups",
                      TargetDBInstanceIdentifier="nothing", UseLatestRestorableTime=True,
                      ) == "PointInTimeRestoreNotEnabled"

    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="source",
                                                TargetDBInstanceIdentifier="latest", UseLatestRestorableTime=True)
    restored = wait_status(client, "latest", "available")
    assert read_rows(restored["Endpoint"], "master", PASSWORD, "app") == ["one", "two"]
    with connect(restored["Endpoint"], "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), SUM(LENGTH(body)) FROM bulk")
        assert cursor.fetchone() == bulk


def test_a_deleted_instances_retained_backups_restore_to_a_point_in_time(emulator_factory, rds_client):
    emulator = emulator_factory("process", None, "--archive-seconds", "1")
    client = rds_client(emulator)
    create(client, "gone", BackupRetentionPeriod=2)
    endpoint = wait_status(client, "gone", "available")["Endpoint"]
    write_rows(endpoint, "master", PASSWORD, "app", ["before-cut"])
    cut = next_second()
    write_rows(endpoint, "master", PASSWORD, "app", ["after-cut"])
    wait_for(lambda: describe(client, "gone").get("LatestRestorableTime", cut) > cut + timedelta(seconds=1), 30,
             "the logs after the cut to be archived")
    client.delete_db_instance(DBInstanceIdentifier="gone", SkipFinalSnapshot=True, DeleteAutomatedBackups=False)
    client.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier="gone", WaiterConfig={"Delay": 1})

    [retained] = client.describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]
    assert (retained["Status"], retained["BackupRetentionPeriod"]) == ("retained", 2)
    assert retained["RestoreWindow"]["LatestTime"] > cut
    client.restore_db_instance_to_point_in_time(
        SourceDBInstanceAutomatedBackupsArn=retained["DBInstanceAutomatedBackupsArn"],
        TargetDBInstanceIdentifier="at-cut", RestoreTime=cut)
    client.restore_db_instance_to_point_in_time(SourceDbiResourceId=retained["DbiResourceId"],
                                                TargetDBInstanceIdentifier="latest", UseLatestRestorableTime=True)
    assert error_code(client.restore_db_instance_to_point_in_time, SourceDbiResourceId="db-NOSUCHTHING",
                      TargetDBInstanceIdentifier="nothing", UseLatestRestorableTime=True,
                      ) == "DBInstanceAutomatedBackupNotFound"
    at_cut = wait_status(client, "at-cut", "available")["Endpoint"]
    assert read_rows(at_cut, "master", PASSWORD, "app") == ["before-cut"]
    latest = wait_status(client, "latest", "available")["Endpoint"]
    assert read_rows(latest, "master", PASSWORD, "app") == ["before-cut", "after-cut"]


def test_final_snapshot_copy_share_and_delete(emulator_factory, rds_client):
    emulator = emulator_factory("process", None)
    client = rds_client(emulator)
    create(client, "doomed", CopyTagsToSnapshot=True, Tags=[{"Key": "app", "Value": "shop"}],
           BackupRetentionPeriod=0)
    endpoint = wait_status(client, "doomed", "available")["Endpoint"]
    assert snapshots(client, DBInstanceIdentifier="doomed") == []
    write_rows(endpoint, "master", PASSWORD, "app", ["last words"])
    client.delete_db_instance(DBInstanceIdentifier="doomed", FinalDBSnapshotIdentifier="doomed-final")
    wait_for(lambda: not client.describe_db_instances()["DBInstances"], 60, "the instance to be deleted")
    final = wait_snapshot(client, "doomed-final")
    assert final["TagList"] == [{"Key": "app", "Value": "shop"}] and final["DBInstanceIdentifier"] == "doomed"

    copied = client.copy_db_snapshot(SourceDBSnapshotIdentifier="doomed-final",
                                     TargetDBSnapshotIdentifier="kept-copy", CopyTags=True)["DBSnapshot"]
    assert copied["Status"] == "creating" and copied["SourceDBSnapshotIdentifier"] == "doomed-final"
    assert wait_snapshot(client, "kept-copy")["TagList"] == [{"Key": "app", "Value": "shop"}]
    assert error_code(client.copy_db_snapshot, SourceDBSnapshotIdentifier="doomed-final",
                      TargetDBSnapshotIdentifier="kept-copy") == "DBSnapshotAlreadyExists"
    client.modify_db_snapshot_attribute(DBSnapshotIdentifier="kept-copy", AttributeName="restore",
                                        ValuesToAdd=["210987654321"])
    attributes = client.describe_db_snapshot_attributes(DBSnapshotIdentifier="kept-copy")
    assert attributes["DBSnapshotAttributesResult"]["DBSnapshotAttributes"] == [
        {"AttributeName": "restore", "AttributeValues": ["210987654321"]}]
    client.delete_db_snapshot(DBSnapshotIdentifier="doomed-final")
    assert error_code(client.describe_db_snapshots, DBSnapshotIdentifier="doomed-final") == "DBSnapshotNotFound"

    client.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="revived", DBSnapshotIdentifier="kept-copy")
    revived = wait_status(client, "revived", "available")
    assert read_rows(revived["Endpoint"], "master", PASSWORD, "app") == ["last words"]
    names = [s["DBSnapshotIdentifier"] for s in snapshots(client, SnapshotType="manual")]
    assert names == ["kept-copy"]


def test_snapshots_race_and_refusals(emulator_factory, rds_client):
    emulator = emulator_factory("process", None)
    client = rds_client(emulator)
    create(client, "busy", BackupRetentionPeriod=0)
    wait_status(client, "busy", "available")

    def take(n):
        try:
            client.create_db_snapshot(DBInstanceIdentifier="busy", DBSnapshotIdentifier=f"race-{n}")
            return "made"
        except ClientError as error:
            return error.response["Error"]["Code"]

    outcomes = all_at_once(take, range(8))
    assert sorted(outcomes) == ["InvalidDBInstanceState"] * 7 + ["made"]
    assert describe(client, "busy")["DBInstanceStatus"] in ("backing-up", "available")
    made, = snapshots(client, SnapshotType="manual")
    wait_snapshot(client, made["DBSnapshotIdentifier"])
    assert error_code(client.create_db_snapshot, DBInstanceIdentifier="busy",
                      DBSnapshotIdentifier=made["DBSnapshotIdentifier"]) == "DBSnapshotAlreadyExists"
    assert error_code(client.create_db_snapshot, DBInstanceIdentifier="busy",
                      DBSnapshotIdentifier="bad--name") == "InvalidParameterValue"
    assert error_code(client.delete_db_snapshot, DBSnapshotIdentifier="nope") == "DBSnapshotNotFound"


def test_a_restore_that_cannot_finish_stops_its_server_and_may_only_be_deleted(emulator_factory, rds_client):
    emulator = emulator_factory("process", None, "--archive-seconds", "1")
    client = rds_client(emulator)
    create(client, "source")
    endpoint = wait_status(client, "source", "available")["Endpoint"]
    write_rows(endpoint, "master", PASSWORD, "app", ["after the snapshot"])
    written = next_second()
    wait_for(lambda: describe(client, "source").get("LatestRestorableTime", written) > written, 30, "archived")
    for archived in (emulator.data_dir / "backups" / "binlogs").rglob("*"):  # as a lost disk would take them
        if archived.is_file():
            archived.unlink()

    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="source", TargetDBInstanceIdentifier="part",
                                                UseLatestRestorableTime=True)
    wait_status(client, "part", "incompatible-restore", timeout=180)
    assert len(emulator.server_pids()) == 1  # the source's alone: the part-restored server is stopped
    for refused in (client.reboot_db_instance, client.start_db_instance):
        assert error_code(refused, DBInstanceIdentifier="part") == "InvalidDBInstanceState"
    client.delete_db_instance(DBInstanceIdentifier="part", SkipFinalSnapshot=True)
    wait_for(lambda: not [i for i in client.describe_db_instances()["DBInstances"]
                          if i["DBInstanceIdentifier"] == "part"], 60, "part to be deleted")
