"""Guests per engine version: a MariaDB 11.8 instance is a guest of 11.8's own image (built the first time
one is needed), and a 10.11.18 guest upgraded to 10.11's current minor, then to 11.8, moves its data onto
each one's image (its disk is a new one on the new image, its former one read once by its init), keeping
its rows. A MySQL instance is a guest of MySQL 9.7's image: its snapshot (the CLONE plugin's copy, taken
inside the guest) restores into another."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.emulator_process import wait_for
from tests.guests.test_libvirt_driver import PASSWORD, create, query
from tests.integration.instances import describe, wait_status
from tests.mysql_client import read_rows, write_rows

pytestmark = pytest.mark.guests
# an image built from nothing (debootstrap, a kernel, an initramfs: a few minutes), then a guest booted under
# software emulation
FIRST_IMAGE = 1200
GREGORIAN = datetime(1582, 10, 15, tzinfo=UTC)


def test_an_11_8_guest_and_a_major_upgrade_onto_its_image(emulator_factory, rds_client):
    emulator = emulator_factory("libvirt")
    rds = rds_client(emulator)
    versions = {v["DBParameterGroupFamily"]: v for v in rds.describe_db_engine_versions()["DBEngineVersions"]}
    assert set(versions) == {"mariadb10.11", "mariadb11.8", "mysql9.7"}
    create(rds, "old", EngineVersion="10.11.18", BackupRetentionPeriod=0)
    create(rds, "new", EngineVersion="11.8", BackupRetentionPeriod=0)
    old = wait_status(rds, "old", "available", timeout=FIRST_IMAGE)["Endpoint"]
    assert query(old, "SELECT VERSION()")[0][0].startswith("10.11.18-")
    write_rows(old, "admin", PASSWORD, "app", ["written on 10.11"])
    new = wait_status(rds, "new", "available", timeout=FIRST_IMAGE)
    ((version,),) = query(new["Endpoint"], "SELECT VERSION()")
    assert version.startswith("11.8.") and new["EngineVersion"] == version.split("-")[0]

    current = versions["mariadb10.11"]["EngineVersion"]  # the family's last listed: its current minor
    rds.modify_db_instance(DBInstanceIdentifier="old", EngineVersion=current, ApplyImmediately=True)
    wait_for(lambda: (found := describe(rds, "old"))["EngineVersion"] == current
             and found["DBInstanceStatus"] == "available", 600, "the minor upgrade")
    assert query(old, "SELECT VERSION()")[0][0].startswith(current + "-")

    rds.modify_db_instance(DBInstanceIdentifier="old", EngineVersion="11.8", AllowMajorVersionUpgrade=True,
                           ApplyImmediately=True)
    upgraded = wait_for(lambda: (found := describe(rds, "old"))["EngineVersion"].startswith("11.8.")
                        and found["DBInstanceStatus"] == "available" and found, 600, "the upgrade")
    assert upgraded["Endpoint"] == old
    assert upgraded["DBParameterGroups"][0]["DBParameterGroupName"] == "default.mariadb11.8"
    ((version,),) = query(old, "SELECT VERSION()")
    assert version.startswith(upgraded["EngineVersion"])
    assert read_rows(old, "admin", PASSWORD, "app") == ["written on 10.11"]

    # the first 11.8 guest booted; its template was saved after it, and the next one starts from that
    wait_for(lambda: "guests of mariadb 11.8 start from the saved template" in emulator.log.read_text(), 300,
             "11.8's template")
    create(rds, "newer", EngineVersion="11.8", BackupRetentionPeriod=0)
    newer = wait_status(rds, "newer", "available", timeout=300)
    assert "guest newer started from the saved template guest of mariadb 11.8" in emulator.log.read_text()
    assert newer["EngineVersion"] == new["EngineVersion"]
    ids = "SELECT @@server_id"
    assert query(newer["Endpoint"], ids) != query(new["Endpoint"], ids)


def test_a_mysql_guest_and_its_snapshot_restored_into_another(emulator_factory, rds_client):
    emulator = emulator_factory("libvirt")
    rds = rds_client(emulator)
    create(rds, "mine", Engine="mysql", BackupRetentionPeriod=0)
    found = wait_status(rds, "mine", "available", timeout=FIRST_IMAGE)
    ((version, comment),) = query(found["Endpoint"], "SELECT VERSION(), @@version_comment")
    assert version.startswith("9.7.") and comment == "(Debian)" and found["EngineVersion"] == version.split("-")[0]
    assert named_since(found)  # at its first start, in this guest, not when the image was built
    query(found["Endpoint"], "CREATE TABLE app.docs (j JSON, INDEX by_a ((CAST(j->'$.a' AS UNSIGNED))))")
    write_rows(found["Endpoint"], "admin", PASSWORD, "app", ["kept by the clone"])
    rds.create_db_snapshot(DBInstanceIdentifier="mine", DBSnapshotIdentifier="mine-1")
    wait_for(lambda: rds.describe_db_snapshots(DBSnapshotIdentifier="mine-1")["DBSnapshots"][0]["Status"]
             == "available", 300, "the snapshot")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="copy", DBSnapshotIdentifier="mine-1")
    copy = wait_status(rds, "copy", "available", timeout=600)
    assert copy["EngineVersion"] == found["EngineVersion"]
    assert read_rows(copy["Endpoint"], "admin", PASSWORD, "app") == ["kept by the clone"]
    assert describe(rds, "mine")["DBInstanceStatus"] == "available"

    # the first MySQL guest booted; its template was saved after it: the next one starts from it, and names
    # itself anew rather than keep the template server's name
    wait_for(lambda: "guests of mysql 9.7 start from the saved template" in emulator.log.read_text(), 300,
             "MySQL's template")
    create(rds, "fresh", Engine="mysql", BackupRetentionPeriod=0)
    fresh = wait_status(rds, "fresh", "available", timeout=300)
    assert "guest fresh started from the saved template guest of mysql 9.7" in emulator.log.read_text()
    assert named_since(fresh)
    assert query(fresh["Endpoint"], "SELECT VERSION()") == query(found["Endpoint"], "SELECT VERSION()")


def named_since(found) -> bool:
    """Whether the instance's MySQL server named itself since it was created (its server_uuid is time-based:
    100 ns steps from the Gregorian calendar's start), not when its image or template was made."""
    ((server_uuid,),) = query(found["Endpoint"], "SELECT @@server_uuid")
    named = GREGORIAN + timedelta(microseconds=uuid.UUID(server_uuid).time // 10)
    return named >= found["InstanceCreateTime"] - timedelta(seconds=5)
