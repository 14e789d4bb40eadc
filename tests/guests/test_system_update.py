"""`system-update` for a guest whose template image was rebuilt since it was made: the guest moves onto the
current image with every row and binary log it had, and runs on the current image's kernel and disk.

A second real image would take a rebuild from Debian's packages (a minute or more, and the network); the
"older image" here is the current one under another fingerprint (its files hard-linked), which is all the
driver goes by. The guest's root filesystem, its kernel and its new disk are real, and so is the copy."""

import json
import os
import pathlib
import secrets
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from emulator.config import Settings
from emulator.images import build, cache
from tests.compat.test_awscli import aws
from tests.guests.test_libvirt_driver import PASSWORD, create, domain_of, guests_of, query
from tests.integration.instances import describe, wait_status
from tests.mysql_client import read_rows, write_rows

pytestmark = pytest.mark.guests


@pytest.fixture
def older_image():
    """The current image again, under a fingerprint of its own: an image the guest can have been made from."""
    current = build.ensure(Settings.from_env().cache_dir)
    older = current.path.with_name(f"test{secrets.token_hex(6)}")
    older.mkdir()
    try:
        for name in (cache.ROOT_FS, cache.KERNEL, cache.INITRD):
            os.link(current.path / name, older / name)
        (older / cache.MANIFEST).write_text(json.dumps({**current.manifest, "fingerprint": older.name}))
        yield current, older
    finally:
        shutil.rmtree(older, ignore_errors=True)


def kernel_of(emulator, identifier: str) -> pathlib.Path:
    return pathlib.Path(ET.fromstring(domain_of(emulator, identifier).XMLDesc()).findtext("os/kernel"))


def disks_of(emulator, identifier: str) -> list[str]:
    return [disk.find("target").get("dev") for disk in
            ET.fromstring(domain_of(emulator, identifier).XMLDesc()).iter("disk")]


def backing_chain(disk: pathlib.Path) -> list[str]:
    info = subprocess.run(["qemu-img", "info", "-U", "--backing-chain", "--output=json", str(disk)],
                          capture_output=True, text=True, check=True).stdout
    return [layer["filename"] for layer in json.loads(info)]


def test_a_guest_on_an_older_image_moves_onto_the_current_one_with_its_data(emulator_factory, rds_client,
                                                                              older_image):
    current, older = older_image
    emulator = emulator_factory("libvirt")
    rds = rds_client(emulator)
    create(rds, "moving", BackupRetentionPeriod=1)
    endpoint = wait_status(rds, "moving", "available", timeout=300)["Endpoint"]
    home = emulator.data_dir / "guests" / describe(rds, "moving")["DbiResourceId"]
    assert (home / "image").read_text().strip() == current.fingerprint
    assert aws(emulator, "describe-pending-maintenance-actions")["PendingMaintenanceActions"] == []
    write_rows(endpoint, "admin", PASSWORD, "app", ["before the stop"])

    # as if made from the older image: it boots that image's kernel from now on
    rds.stop_db_instance(DBInstanceIdentifier="moving")
    wait_status(rds, "moving", "stopped", timeout=120)
    (home / "image").write_text(older.name + "\n")
    rds.start_db_instance(DBInstanceIdentifier="moving")
    wait_status(rds, "moving", "available", timeout=300)
    assert kernel_of(emulator, "moving").parent == older
    write_rows(endpoint, "admin", PASSWORD, "app", ["on the older image"])
    (server_id,), = query(endpoint, "SELECT @@server_id")
    disk_before = (home / "disk.qcow2").stat().st_ino

    [waiting] = aws(emulator, "describe-pending-maintenance-actions")["PendingMaintenanceActions"]
    [action] = waiting["PendingMaintenanceActionDetails"]
    assert (action["Action"], action["OptInStatus"]) == ("system-update", "pending")
    assert current.fingerprint in action["Description"] and older.name in action["Description"]

    answer = rds.apply_pending_maintenance_action(ResourceIdentifier=waiting["ResourceIdentifier"],
                                                  ApplyAction="system-update", OptInType="immediate")
    assert answer["ResourcePendingMaintenanceActions"]["PendingMaintenanceActionDetails"][0]["OptInStatus"] \
        == "immediate"
    assert describe(rds, "moving")["DBInstanceStatus"] == "modifying"
    wait_status(rds, "moving", "available", timeout=600)

    # the same server, every row, on the current image's kernel and a new disk on its root filesystem
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["before the stop", "on the older image"]
    assert query(endpoint, "SELECT @@server_id") == ((server_id,),)
    write_rows(endpoint, "admin", PASSWORD, "app", ["on the current image"])
    assert kernel_of(emulator, "moving").parent == current.path
    assert (home / "image").read_text().strip() == current.fingerprint
    assert (home / "disk.qcow2").stat().st_ino != disk_before
    assert backing_chain(home / "disk.qcow2")[-1] == str(current.root_fs)
    assert not (home / "former.qcow2").exists()
    assert disks_of(emulator, "moving") == ["vda"]
    assert aws(emulator, "describe-pending-maintenance-actions")["PendingMaintenanceActions"] == []
    messages = [e["Message"] for e in rds.describe_events(SourceIdentifier="moving", SourceType="db-instance",
                                                           Duration=60)["Events"]]
    assert messages[-2:] == ["Applying off-line patches to DB instance",
                             "Finished applying off-line patches to DB instance"]

    # it goes on as before: its binary log too, which point-in-time restore reads
    rds.reboot_db_instance(DBInstanceIdentifier="moving")
    wait_status(rds, "moving", "available", timeout=300)
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["before the stop", "on the older image",
                                                             "on the current image"]
    rds.delete_db_instance(DBInstanceIdentifier="moving", SkipFinalSnapshot=True)
    rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier="moving", WaiterConfig={"Delay": 1})
    assert guests_of(emulator) == {}
