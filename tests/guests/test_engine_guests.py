"""Guests per engine version: a MariaDB 11.8 instance is a guest of 11.8's own image (built the first time
one is needed), and a 10.11 guest upgraded to 11.8 moves its data onto that image (its disk is a new one on
the new image, its former one read once by its init), keeping its rows."""

import pytest

from tests.emulator_process import wait_for
from tests.guests.test_libvirt_driver import PASSWORD, create, query
from tests.integration.instances import describe, wait_status
from tests.mysql_client import read_rows, write_rows

pytestmark = pytest.mark.guests
# an image built from nothing (debootstrap, a kernel, an initramfs: a few minutes), then a guest booted under
# software emulation
FIRST_IMAGE = 1200


def test_an_11_8_guest_and_a_major_upgrade_onto_its_image(emulator_factory, rds_client):
    emulator = emulator_factory("libvirt")
    rds = rds_client(emulator)
    versions = {v["DBParameterGroupFamily"]: v for v in rds.describe_db_engine_versions()["DBEngineVersions"]}
    assert set(versions) == {"mariadb10.11", "mariadb11.8"}  # guests serve MariaDB's versions
    create(rds, "old", BackupRetentionPeriod=0)
    create(rds, "new", EngineVersion="11.8", BackupRetentionPeriod=0)
    old = wait_status(rds, "old", "available", timeout=300)["Endpoint"]
    write_rows(old, "admin", PASSWORD, "app", ["written on 10.11"])
    new = wait_status(rds, "new", "available", timeout=FIRST_IMAGE)
    ((version,),) = query(new["Endpoint"], "SELECT VERSION()")
    assert version.startswith("11.8.") and new["EngineVersion"] == version.split("-")[0]

    rds.modify_db_instance(DBInstanceIdentifier="old", EngineVersion="11.8", AllowMajorVersionUpgrade=True,
                           ApplyImmediately=True)
    upgraded = wait_for(lambda: (found := describe(rds, "old"))["EngineVersion"].startswith("11.8.")
                        and found["DBInstanceStatus"] == "available" and found, 600, "the upgrade")
    assert upgraded["Endpoint"] == old
    assert upgraded["DBParameterGroups"][0]["DBParameterGroupName"] == "default.mariadb11.8"
    ((version,),) = query(old, "SELECT VERSION()")
    assert version.startswith(upgraded["EngineVersion"])
    assert read_rows(old, "admin", PASSWORD, "app") == ["written on 10.11"]
    with pytest.raises(rds.exceptions.ClientError, match="Cannot find version 9.7 for mysql"):
        create(rds, "mine", Engine="mysql", EngineVersion="9.7")
