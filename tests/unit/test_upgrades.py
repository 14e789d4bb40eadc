"""ModifyDBInstance EngineVersion, the control plane's part (the none driver; tests/integration/test_upgrades.py
upgrades real servers): RDS's refusals, a major upgrade's snapshot, events and parameter group, one that
waits for the window, and one that fails and leaves the instance on its old version."""

from datetime import timedelta

from emulator.failures import Failure
from emulator.model import engine_versions
from emulator.work import maintenance
from scheduler import jobs
from tests.api_client import NS
from tests.emulator_process import wait_for
from tests.together import all_at_once

OLD, NEW = engine_versions.of("mariadb", "10.11").nominal, engine_versions.of("mariadb", "11.8").nominal
PREVIOUS = engine_versions.of("mariadb", "10.11.18").nominal  # 10.11's older minor
WINDOW = "sun:05:00-sun:05:30"


def described(api, identifier):
    return api.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier).find(f".//{NS}DBInstance")


def modify(api, **fields):
    return api.call(Action="ModifyDBInstance", DBInstanceIdentifier="db1", **fields)


def messages(api):
    return [e.findtext(f"{NS}Message") for e in api.ok(Action="DescribeEvents", SourceType="db-instance",
                                                          Duration="60").iter(f"{NS}Event")]


def test_what_rds_refuses(api):
    api.create("db1", Engine="mariadb", EngineVersion="11.8", BackupRetentionPeriod="0")
    api.wait_available("db1")

    def refused(**fields):
        response, root = modify(api, ApplyImmediately="true", **fields)
        assert response.status_code == 400, response.data
        return root.findtext(f"{NS}Error/{NS}Code"), root.findtext(f"{NS}Error/{NS}Message")

    assert refused(EngineVersion="10.11") == ("InvalidParameterCombination",
                                              f"Cannot upgrade mariadb from {NEW} to {OLD}")
    assert refused(EngineVersion="12.1")[1].startswith("Cannot find version 12.1 for mariadb (this host serves")
    api.create("db3", Engine="mariadb", BackupRetentionPeriod="0")
    api.wait_available("db3")
    response, root = api.call(Action="ModifyDBInstance", DBInstanceIdentifier="db3", EngineVersion=PREVIOUS)
    assert root.findtext(f"{NS}Error/{NS}Message") == f"Cannot upgrade mariadb from {OLD} to {PREVIOUS}"
    api.create("db2", Engine="mariadb", BackupRetentionPeriod="0")
    api.wait_available("db2")
    response, root = api.call(Action="ModifyDBInstance", DBInstanceIdentifier="db2", EngineVersion="11.8")
    assert root.findtext(f"{NS}Error/{NS}Message") == (
        "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.")
    api.ok(Action="CreateDBParameterGroup", DBParameterGroupName="tuned", DBParameterGroupFamily="mariadb10.11",
           Description="tuned")
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db2", DBParameterGroupName="tuned")
    response, root = api.call(Action="ModifyDBInstance", DBInstanceIdentifier="db2", EngineVersion="11.8",
                              AllowMajorVersionUpgrade="true")
    assert "needs a DB parameter group of family mariadb11.8" in root.findtext(f"{NS}Error/{NS}Message")
    # the version it runs is no change at all
    assert modify(api, EngineVersion=NEW)[0].status_code == 200
    assert described(api, "db1").findtext(f"{NS}DBInstanceStatus") == "available"


def test_a_major_upgrade_snapshots_then_moves_the_instance_to_the_new_family(api):
    api.create("db1", Engine="mariadb", BackupRetentionPeriod="0")
    api.wait_available("db1")
    answer = api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", EngineVersion="11.8",
                    AllowMajorVersionUpgrade="true", ApplyImmediately="true")
    assert answer.findtext(f".//{NS}PendingModifiedValues/{NS}EngineVersion") == NEW
    wait_for(lambda: described(api, "db1").findtext(f"{NS}EngineVersion") == NEW
             and api.status("db1") == "available", 10, "the upgrade")
    assert described(api, "db1").findtext(f".//{NS}DBParameterGroupName") == "default.mariadb11.8"
    name = f"preupgrade-db1-{OLD.replace('.', '-')}-to-{NEW.replace('.', '-')}-2026-11-24-12-00"
    snapshot = api.ok(Action="DescribeDBSnapshots", DBSnapshotIdentifier=name).find(f".//{NS}DBSnapshot")
    assert snapshot.findtext(f"{NS}EngineVersion") == OLD and snapshot.findtext(f"{NS}SnapshotType") == "manual"
    said = messages(api)
    assert said.index(f"Upgrade in progress: Creating pre-upgrade snapshot [{name}]") < said.index(
        "Applying off-line patches to DB instance") < said.index(
        f"Database instance upgraded from engine version {OLD} to {NEW}")


def test_a_minor_upgrade_moves_onto_the_current_minor_at_once_or_in_the_window(api, clock):
    """No pre-upgrade snapshot and no AllowMajorVersionUpgrade, as on RDS; an older minor's instance has the
    upgrade pending, and one with AutoMinorVersionUpgrade takes it in its window."""
    for name in ("db1", "db2"):
        api.create(name, Engine="mariadb", EngineVersion=PREVIOUS, BackupRetentionPeriod="0",
                   PreferredMaintenanceWindow=WINDOW)
    api.wait_available("db1")
    api.wait_available("db2")
    ctx = api.runtime.ctx
    assert ctx.engine_version(ctx.store.find_instance("db1")).previous_minor
    pending = api.ok(Action="DescribePendingMaintenanceActions")
    assert {a.findtext(f"{NS}Description") for a in pending.iter(f"{NS}PendingMaintenanceAction")} == {
        f"Minor version upgrade to {OLD}"}
    answer = api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", EngineVersion=OLD, ApplyImmediately="true")
    assert answer.findtext(f".//{NS}PendingModifiedValues/{NS}EngineVersion") == OLD
    wait_for(lambda: described(api, "db1").findtext(f"{NS}EngineVersion") == OLD
             and api.status("db1") == "available", 10, "the minor upgrade")
    assert not ctx.engine_version(ctx.store.find_instance("db1")).previous_minor
    assert described(api, "db1").findtext(f".//{NS}DBParameterGroupName") == "default.mariadb10.11"
    assert api.ok(Action="DescribeDBSnapshots", SnapshotType="manual").find(f".//{NS}DBSnapshot") is None
    said = messages(api)
    assert said.index("Applying off-line patches to DB instance") < said.index(
        f"Database instance upgraded from engine version {PREVIOUS} to {OLD}")

    clock.advance(timedelta(days=4, hours=17, minutes=1))  # in Sunday's window: auto minor version upgrade
    jobs.maintenance_windows(ctx)
    wait_for(lambda: described(api, "db2").findtext(f"{NS}EngineVersion") == OLD
             and api.status("db2") == "available", 10, "db2's upgrade in the window")
    assert api.ok(Action="DescribePendingMaintenanceActions").find(f".//{NS}PendingMaintenanceAction") is None


def test_a_major_upgrade_may_wait_for_the_window(api, clock):
    api.create("db1", Engine="mariadb", BackupRetentionPeriod="0", PreferredMaintenanceWindow=WINDOW)
    api.wait_available("db1")
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", EngineVersion="11.8",
           AllowMajorVersionUpgrade="true")
    found = described(api, "db1")
    assert found.findtext(f"{NS}PendingModifiedValues/{NS}EngineVersion") == NEW
    assert found.findtext(f"{NS}EngineVersion") == OLD
    clock.advance(timedelta(days=4, hours=17, minutes=1))
    jobs.maintenance_windows(api.runtime.ctx)
    wait_for(lambda: described(api, "db1").findtext(f"{NS}EngineVersion") == NEW
             and api.status("db1") == "available", 10, "the upgrade in the window")
    assert described(api, "db1").findtext(f".//{NS}DBParameterGroupName") == "default.mariadb11.8"


def test_a_failed_upgrade_leaves_the_instance_on_its_old_version(api, monkeypatch):
    def broken(ctx, instance):
        raise Failure("mariadb-upgrade failed: a system table is damaged")

    monkeypatch.setattr(maintenance, "upgrade_tables", broken)
    api.create("db1", Engine="mariadb", BackupRetentionPeriod="0")
    api.wait_available("db1")
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", EngineVersion="11.8",
           AllowMajorVersionUpgrade="true", ApplyImmediately="true")
    wait_for(lambda: any(m.startswith("The engine version upgrade") for m in messages(api))
             and api.status("db1") == "available", 10, "the failed upgrade")
    found = described(api, "db1")
    assert found.findtext(f"{NS}EngineVersion") == OLD
    assert found.findtext(f".//{NS}DBParameterGroupName") == "default.mariadb10.11"
    assert (f"The engine version upgrade to {NEW} failed: mariadb-upgrade failed: a system table is damaged. "
            f"The instance runs {OLD} again.") in messages(api)


def test_racing_upgrades_of_one_instance_make_one_upgrade(api):
    api.create("db1", Engine="mariadb", BackupRetentionPeriod="0")
    api.wait_available("db1")
    asked = {"Action": "ModifyDBInstance", "DBInstanceIdentifier": "db1", "EngineVersion": "11.8",
             "AllowMajorVersionUpgrade": "true", "ApplyImmediately": "true"}
    results = all_at_once(lambda fields: api.call(**fields), [asked] * 6 + [{
        "Action": "RebootDBInstance", "DBInstanceIdentifier": "db1"}])
    codes = [root.findtext(f"{NS}Error/{NS}Code") or "ok" for _, root in results]
    assert set(codes) <= {"ok", "InvalidDBInstanceState"} and "ok" in codes
    wait_for(lambda: api.status("db1") == "available" and described(api, "db1").findtext(
        f"{NS}EngineVersion") == NEW or (codes[:6].count("ok") == 0), 10, "the upgrade")
    snapshots = api.ok(Action="DescribeDBSnapshots", DBInstanceIdentifier="db1", SnapshotType="manual")
    upgrades = [m for m in messages(api) if m.startswith("Database instance upgraded")]
    assert len(list(snapshots.iter(f"{NS}DBSnapshot"))) == len(upgrades) == min(1, codes[:6].count("ok"))


def test_a_manual_snapshot_is_upgraded_and_restores_on_the_newer_version(api):
    api.create("db1", Engine="mariadb", BackupRetentionPeriod="1")
    api.wait_available("db1")
    api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier="db1", DBSnapshotIdentifier="snap")
    wait_for(lambda: api.ok(Action="DescribeDBSnapshots", DBSnapshotIdentifier="snap").findtext(
        f".//{NS}Status") == "available", 10, "the snapshot")
    automated = api.ok(Action="DescribeDBSnapshots", SnapshotType="automated").findtext(
        f".//{NS}DBSnapshotIdentifier")

    def refused(name, version):
        response, root = api.call(Action="ModifyDBSnapshot", DBSnapshotIdentifier=name, EngineVersion=version)
        assert response.status_code in (400, 404), response.data
        return root.findtext(f"{NS}Error/{NS}Code")

    assert refused(automated, "11.8") == "InvalidDBSnapshotState"
    assert refused("nope", "11.8") == "DBSnapshotNotFound"
    assert refused("snap", "12.1") == "InvalidParameterCombination"
    upgraded = api.ok(Action="ModifyDBSnapshot", DBSnapshotIdentifier="snap", EngineVersion="11.8")
    assert upgraded.findtext(f".//{NS}EngineVersion") == NEW
    assert refused("snap", "10.11") == "InvalidParameterCombination"  # no way back
    assert api.ok(Action="DescribeDBSnapshots", DBSnapshotIdentifier="snap").findtext(
        f".//{NS}EngineVersion") == NEW
    api.ok(Action="RestoreDBInstanceFromDBSnapshot", DBInstanceIdentifier="copy", DBSnapshotIdentifier="snap")
    api.wait_available("copy")
    copy = described(api, "copy")
    assert copy.findtext(f"{NS}EngineVersion") == NEW
    assert copy.findtext(f".//{NS}DBParameterGroupName") == "default.mariadb11.8"
