"""The snapshot and automated-backup API's rules, with the none driver (a backup of no server is empty, and
instant): filters, paging, sharing, refusals, and automated backups kept after their instance."""

from collections import Counter
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from emulator.store.errors import SnapshotGone
from scheduler import jobs
from scheduler.archivers import Archivers
from tests.api_client import NS
from tests.emulator_process import wait_for
from tests.together import all_at_once


def names(root, tag="DBSnapshotIdentifier"):
    return [element.text for element in root.iter(f"{NS}{tag}")]


def archive(ctx):
    """One pass of the archiving job, as the scheduler runs it."""
    with closing(Archivers(ctx)) as archivers:
        jobs.archive_binlogs(ctx, archivers)


def snapshot_status(api, name):
    return api.ok(Action="DescribeDBSnapshots", DBSnapshotIdentifier=name).findtext(f".//{NS}Status")


def test_snapshots_are_filtered_and_paged(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.create("db2", Engine="mariadb")
    api.wait_available("db1")
    api.wait_available("db2")
    for n in range(22):
        api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier="db1", DBSnapshotIdentifier=f"s{n:02d}")
        wait_for(lambda n=n: snapshot_status(api, f"s{n:02d}") == "available", 10, "the snapshot")
    first = api.ok(Action="DescribeDBSnapshots", MaxRecords="20")
    rest = api.ok(Action="DescribeDBSnapshots", MaxRecords="20", Marker=first.findtext(f".//{NS}Marker"))
    automated = names(first)[0]
    assert len(names(first)) == 20 and names(rest) == ["s19", "s20", "s21"] and automated.startswith("rds:db2-")
    assert len(names(api.ok(Action="DescribeDBSnapshots", DBInstanceIdentifier="db1"))) == 22
    assert names(api.ok(Action="DescribeDBSnapshots", SnapshotType="automated")) == [automated]
    assert names(api.ok(Action="DescribeDBSnapshots", SnapshotType="shared")) == []
    by_engine = api.ok(**{"Action": "DescribeDBSnapshots", "Filters.Filter.1.Name": "engine",
                          "Filters.Filter.1.Values.Value.1": "mariadb"})
    assert names(by_engine) == [automated]
    api.error(400, "InvalidParameterValue", Action="DescribeDBSnapshots", SnapshotType="weekly")
    api.error(400, "InvalidParameterValue", **{"Action": "DescribeDBSnapshots", "Filters.Filter.1.Name": "color",
                                               "Filters.Filter.1.Values.Value.1": "red"})
    api.error(404, "DBSnapshotNotFound", Action="DescribeDBSnapshots", DBSnapshotIdentifier="nope")


def test_sharing_tags_and_refusals(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    api.ok(**{"Action": "CreateDBSnapshot", "DBInstanceIdentifier": "db1", "DBSnapshotIdentifier": "shared",
              "Tags.Tag.1.Key": "k", "Tags.Tag.1.Value": "v"})
    wait_for(lambda: snapshot_status(api, "shared") == "available", 10, "the snapshot")
    arn = "arn:aws:rds:us-east-1:123456789012:snapshot:shared"
    listed = api.ok(Action="ListTagsForResource", ResourceName=arn)
    assert [(t.findtext(f"{NS}Key"), t.findtext(f"{NS}Value")) for t in listed.iter(f"{NS}Tag")] == [("k", "v")]
    modify = {"Action": "ModifyDBSnapshotAttribute", "DBSnapshotIdentifier": "shared", "AttributeName": "restore"}
    api.ok(**modify, **{"ValuesToAdd.AttributeValue.1": "111122223333", "ValuesToAdd.AttributeValue.2": "all"})
    api.ok(**modify, **{"ValuesToRemove.AttributeValue.1": "all"})
    described = api.ok(Action="DescribeDBSnapshotAttributes", DBSnapshotIdentifier="shared")
    assert names(described, "AttributeValue") == ["111122223333"]
    api.error(400, "InvalidParameterValue", **modify, **{"ValuesToAdd.AttributeValue.1": "12"})
    api.error(400, "InvalidParameterValue", **(modify | {"AttributeName": "copy"}))
    api.error(400, "DBSnapshotAlreadyExists", Action="CreateDBSnapshot", DBInstanceIdentifier="db1",
              DBSnapshotIdentifier="shared")
    api.error(404, "DBInstanceNotFound", Action="CreateDBSnapshot", DBInstanceIdentifier="nope",
              DBSnapshotIdentifier="other")
    api.error(404, "DBSnapshotNotFound", Action="RestoreDBInstanceFromDBSnapshot", DBInstanceIdentifier="x",
              DBSnapshotIdentifier="nope")
    api.error(400, "InvalidParameterCombination", Action="RestoreDBInstanceFromDBSnapshot",
              DBInstanceIdentifier="x", DBSnapshotIdentifier="shared", Engine="mariadb")
    api.error(400, "DBInstanceAlreadyExists", Action="RestoreDBInstanceFromDBSnapshot", DBInstanceIdentifier="db1",
              DBSnapshotIdentifier="shared")
    api.error(400, "InvalidParameterValue", Action="RestoreDBInstanceFromDBSnapshot", DBInstanceIdentifier="x",
              DBSnapshotIdentifier="shared", AllocatedStorage="10")


def test_automated_backups_are_active_then_retained_then_deleted(api):
    api.create("db1", BackupRetentionPeriod="3")
    api.create("db2", BackupRetentionPeriod="3")
    api.wait_available("db1")
    api.wait_available("db2")
    wait_for(lambda: len(names(api.ok(Action="DescribeDBInstanceAutomatedBackups"), "DbiResourceId")) == 2, 10,
             "both first backups")
    active = api.ok(Action="DescribeDBInstanceAutomatedBackups", DBInstanceIdentifier="db1")
    assert active.findtext(f".//{NS}Status") == "active"
    assert active.findtext(f".//{NS}BackupRetentionPeriod") == "3"
    assert active.find(f".//{NS}RestoreWindow/{NS}EarliestTime") is not None
    resource_id = active.findtext(f".//{NS}DbiResourceId")
    api.error(400, "InvalidDBInstanceAutomatedBackupState", Action="DeleteDBInstanceAutomatedBackup",
              DbiResourceId=resource_id)

    api.ok(Action="DeleteDBInstance", DBInstanceIdentifier="db1", SkipFinalSnapshot="true",
           DeleteAutomatedBackups="false")
    api.ok(Action="DeleteDBInstance", DBInstanceIdentifier="db2", SkipFinalSnapshot="true")
    wait_for(lambda: names(api.ok(Action="DescribeDBInstances"), "DBInstanceIdentifier") == [], 10, "deleted")
    retained = api.ok(Action="DescribeDBInstanceAutomatedBackups")
    assert names(retained, "DBInstanceIdentifier") == ["db1"]
    assert retained.findtext(f".//{NS}Status") == "retained"
    assert retained.findtext(f".//{NS}BackupRetentionPeriod") == "3"
    arn = retained.findtext(f".//{NS}DBInstanceAutomatedBackupsArn")
    assert names(api.ok(Action="DescribeDBSnapshots", SnapshotType="automated"))[0].startswith("rds:db1-")
    deleted = api.ok(Action="DeleteDBInstanceAutomatedBackup", DBInstanceAutomatedBackupsArn=arn)
    assert deleted.findtext(f".//{NS}Status") == "deleting"
    assert names(api.ok(Action="DescribeDBInstanceAutomatedBackups"), "DbiResourceId") == []
    assert names(api.ok(Action="DescribeDBSnapshots")) == []
    api.error(404, "DBInstanceAutomatedBackupNotFound", Action="DeleteDBInstanceAutomatedBackup",
              DbiResourceId=resource_id)


def test_retained_automated_backups_expire_by_the_retention_their_instance_had(api, clock):
    api.create("db1", BackupRetentionPeriod="2")
    api.wait_available("db1")
    wait_for(lambda: names(api.ok(Action="DescribeDBInstanceAutomatedBackups"), "DbiResourceId"), 10,
             "the first backup")
    api.ok(Action="DeleteDBInstance", DBInstanceIdentifier="db1", SkipFinalSnapshot="true",
           DeleteAutomatedBackups="false")
    wait_for(lambda: names(api.ok(Action="DescribeDBInstances"), "DBInstanceIdentifier") == [], 10, "deleted")
    retained = api.ok(Action="DescribeDBInstanceAutomatedBackups")
    assert retained.findtext(f".//{NS}Status") == "retained"
    assert retained.findtext(f".//{NS}BackupRetentionPeriod") == "2"

    clock.advance(timedelta(days=1, hours=23))
    archive(api.runtime.ctx)
    assert names(api.ok(Action="DescribeDBInstanceAutomatedBackups"), "DBInstanceIdentifier") == ["db1"]
    clock.advance(timedelta(hours=2))  # its last snapshot is older than 2 days: the set is gone
    archive(api.runtime.ctx)
    assert names(api.ok(Action="DescribeDBInstanceAutomatedBackups"), "DBInstanceIdentifier") == []
    assert names(api.ok(Action="DescribeDBSnapshots", SnapshotType="automated")) == []


def test_many_clients_at_once_on_one_snapshot(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier="db1", DBSnapshotIdentifier="one")
    wait_for(lambda: snapshot_status(api, "one") == "available", 10, "the snapshot")

    def code(fields):
        response, root = api.call(**fields)
        return response.status_code == 200 or root.findtext(f"{NS}Error/{NS}Code")

    copies = all_at_once(code, [{"Action": "CopyDBSnapshot", "SourceDBSnapshotIdentifier": "one",
                                 "TargetDBSnapshotIdentifier": "two"}] * 6)
    assert Counter(copies) == {True: 1, "DBSnapshotAlreadyExists": 5}
    wait_for(lambda: snapshot_status(api, "two") == "available", 10, "the copy")
    restores = all_at_once(code, [{"Action": "RestoreDBInstanceFromDBSnapshot", "DBSnapshotIdentifier": "one",
                                   "DBInstanceIdentifier": "back"}] * 6)
    assert Counter(restores) == {True: 1, "DBInstanceAlreadyExists": 5}
    deletes = all_at_once(code, [{"Action": "DeleteDBSnapshot", "DBSnapshotIdentifier": "two"}] * 6)
    assert Counter(deletes) == {True: 1, "DBSnapshotNotFound": 5}
    api.wait_available("back")


def test_stop_and_delete_take_their_snapshot_first(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    answer = api.ok(Action="StopDBInstance", DBInstanceIdentifier="db1", DBSnapshotIdentifier="before-stop")
    assert answer.findtext(f".//{NS}DBInstanceStatus") == "stopping"
    wait_for(lambda: api.status("db1") == "stopped", 10, "stopped")
    assert snapshot_status(api, "before-stop") == "available"
    api.error(400, "InvalidDBInstanceState", Action="DeleteDBInstance", DBInstanceIdentifier="db1",
              FinalDBSnapshotIdentifier="final")


def test_an_instances_older_backups_and_their_logs_expire_by_its_retention(api, clock):
    ctx = api.runtime.ctx
    api.create("db1", BackupRetentionPeriod="1")
    api.wait_available("db1")
    automated = {"Action": "DescribeDBSnapshots", "SnapshotType": "automated"}
    first, = wait_for(lambda: names(api.ok(**automated)), 10, "the first backup")
    wait_for(lambda: snapshot_status(api, first) == "available" and api.status("db1") == "available", 10,
             "the first backup done")
    resource_id = ctx.store.find_instance("db1").resource_id
    for name in ("bin.000001", "bin.000002", "bin.000003"):  # as archiving records them
        ctx.store.add_binlog(resource_id, name, f"binlogs/{resource_id}/{name}", 1, clock.now(), 0)
    ctx.store.update_snapshot(first, binlog_file="bin.000001")
    clock.advance(timedelta(days=1, hours=1))
    jobs.backup_windows(ctx)  # the next day's window
    wait_for(lambda: len(names(api.ok(**automated))) == 2, 10, "a second backup")
    wait_for(lambda: api.status("db1") == "available", 10, "the backup done")
    second, = set(names(api.ok(**automated))) - {first}
    ctx.store.update_snapshot(second, binlog_file="bin.000003")
    archive(ctx)
    assert sorted(names(api.ok(**automated))) == sorted([first, second])  # the older one is where restores start
    latest = api.ok(Action="DescribeDBInstances").findtext(f".//{NS}LatestRestorableTime")
    assert datetime.fromisoformat(latest) == clock.now().replace(microsecond=0)  # no server: restorable to now
    clock.advance(timedelta(days=1, hours=1))  # both older than a day: the newer of them is where they start now
    archive(ctx)
    assert names(api.ok(**automated)) == [second]
    assert [item["name"] for item in ctx.store.binlogs_of(resource_id)] == ["bin.000003"]


def test_a_copy_is_made_and_a_deleted_snapshots_bytes_removed_by_tasks_not_by_the_request(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier="db1", DBSnapshotIdentifier="one")
    wait_for(lambda: snapshot_status(api, "one") == "available", 10, "the snapshot")
    copied = api.ok(Action="CopyDBSnapshot", SourceDBSnapshotIdentifier="one", TargetDBSnapshotIdentifier="two")
    assert copied.findtext(f".//{NS}Status") == "creating"  # the bytes are copied by a task
    wait_for(lambda: snapshot_status(api, "two") == "available", 10, "the copy")
    objects = api.runtime.ctx.settings.data_dir / "backups" / "snapshots"
    assert len(list(objects.iterdir())) == 2
    api.ok(Action="DeleteDBSnapshot", DBSnapshotIdentifier="one")
    wait_for(lambda: len(list(objects.iterdir())) == 1, 10, "the deleted snapshot's bytes removed")
    events = api.ok(Action="DescribeEvents", SourceType="db-snapshot", Duration="60")
    messages = [(e.findtext(f"{NS}SourceIdentifier"), e.findtext(f"{NS}Message")) for e in events.iter(f"{NS}Event")]
    assert ("two", "Manual snapshot created") in messages and ("one", "Deleted user snapshot") in messages


def test_a_snapshot_being_copied_or_restored_from_cannot_be_deleted_under_the_reader(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier="db1", DBSnapshotIdentifier="one")
    wait_for(lambda: snapshot_status(api, "one") == "available", 10, "the snapshot")
    api.runtime.runner.close()  # the workers stop: the copy and the restore stay under way
    api.ok(Action="CopyDBSnapshot", SourceDBSnapshotIdentifier="one", TargetDBSnapshotIdentifier="two")
    assert "while a copy of it is made" in api.error(400, "InvalidDBSnapshotState", Action="DeleteDBSnapshot",
                                                     DBSnapshotIdentifier="one")
    api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier="db1", DBSnapshotIdentifier="three")
    api.runtime.ctx.store.update_snapshot("three", status="available")  # as its (stopped) task would leave it
    api.ok(Action="RestoreDBInstanceFromDBSnapshot", DBSnapshotIdentifier="three", DBInstanceIdentifier="back")
    api.error(400, "InvalidDBSnapshotState", Action="DeleteDBSnapshot", DBSnapshotIdentifier="three")
    assert snapshot_status(api, "one") == snapshot_status(api, "three") == "available"


def test_a_copy_or_a_restore_racing_the_delete_of_its_snapshot_is_refused_by_name(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")

    def code(fields):
        response, root = api.call(**fields)
        return response.status_code == 200 or root.findtext(f"{NS}Error/{NS}Code")

    for n in range(8):
        api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier="db1", DBSnapshotIdentifier=f"s{n}")
        wait_for(lambda n=n: snapshot_status(api, f"s{n}") == "available", 10, "the snapshot")
        reader = ({"Action": "CopyDBSnapshot", "SourceDBSnapshotIdentifier": f"s{n}",
                   "TargetDBSnapshotIdentifier": f"c{n}"} if n % 2 else
                  {"Action": "RestoreDBInstanceFromDBSnapshot", "DBSnapshotIdentifier": f"s{n}",
                   "DBInstanceIdentifier": f"r{n}"})
        read, deleted = all_at_once(code, [reader, {"Action": "DeleteDBSnapshot", "DBSnapshotIdentifier": f"s{n}"}])
        assert read in (True, "DBSnapshotNotFound") and deleted in (True, "InvalidDBSnapshotState"), (read, deleted)
        if read is True:  # what was accepted is done with the bytes it read
            if n % 2:
                wait_for(lambda n=n: snapshot_status(api, f"c{n}") == "available", 10, "the copy")
            else:
                api.wait_available(f"r{n}")


def test_the_store_refuses_a_copy_or_restore_of_a_snapshot_removed_since_it_was_read(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier="db1", DBSnapshotIdentifier="one")
    wait_for(lambda: snapshot_status(api, "one") == "available", 10, "the snapshot")
    store = api.runtime.ctx.store
    source = store.get_snapshot("one")
    store.remove_snapshot("one", datetime.now(UTC))
    copy = replace(source, identifier="two", status="creating", source_snapshot="one")
    with pytest.raises(SnapshotGone):
        store.add_copy(copy, [], source.storage_key, datetime.now(UTC))
    assert store.get_snapshot("two") is None


def test_a_copy_keeps_its_sources_key_and_refuses_another(api):
    api.create("sealed", StorageEncrypted="true", KmsKeyId="alias/first")
    api.create("open")
    for name in ("sealed", "open"):
        api.wait_available(name)
        api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-snap")
    wait_for(lambda: all(api.ok(Action="DescribeDBSnapshots", DBSnapshotIdentifier=f"{name}-snap").findtext(
        f".//{NS}Status") == "available" for name in ("sealed", "open")), 10, "the snapshots")
    key = api.ok(Action="DescribeDBSnapshots", DBSnapshotIdentifier="sealed-snap").findtext(f".//{NS}KmsKeyId")
    copied = api.ok(Action="CopyDBSnapshot", SourceDBSnapshotIdentifier="sealed-snap",
                    TargetDBSnapshotIdentifier="sealed-copy", KmsKeyId="alias/first")
    assert (copied.findtext(f".//{NS}Encrypted"), copied.findtext(f".//{NS}KmsKeyId")) == ("true", key)
    api.error(400, "InvalidParameterCombination", Action="CopyDBSnapshot", SourceDBSnapshotIdentifier="sealed-snap",
              TargetDBSnapshotIdentifier="rekeyed", KmsKeyId="alias/second")
    api.error(400, "InvalidParameterCombination", Action="CopyDBSnapshot", SourceDBSnapshotIdentifier="open-snap",
              TargetDBSnapshotIdentifier="sealed-now", KmsKeyId="alias/first")
    api.error(400, "InvalidParameterValue", Action="CopyDBSnapshot", SourceDBSnapshotIdentifier="open-snap",
              TargetDBSnapshotIdentifier="elsewhere", SourceRegion="eu-west-1")
