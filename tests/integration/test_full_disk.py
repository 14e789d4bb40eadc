"""A full disk under the data directory: writes the store cannot make are refused with an AWS-shaped 400 while
reads go on, a server whose storage is full says `storage-full` (and `available` again once there is room),
and one instance's archiving that blocks never holds the others'.

The disk is a small tmpfs the test mounts (root only): filling the host's own disk is not an option."""

import os
import subprocess
import threading
import time
from contextlib import closing

import pytest

from emulator.config import Settings
from emulator.runtime import boot
from scheduler.archivers import Archivers
from tests.api_client import NS, Api
from tests.emulator_process import wait_for

pytestmark = [pytest.mark.mariadb,
              pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")]


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "--lazy", str(disk)], check=False)


def fill(disk) -> None:
    """Take every block left, as a full disk has none; again, what was freed since (a copy the emulator
    was making when the disk filled up gives its room back)."""
    with open(disk / "filler", "ab") as filler:
        try:
            while True:
                filler.write(b"\0" * 2**20)
                filler.flush()
        except OSError:
            pass


def free(disk) -> None:
    (disk / "filler").unlink()


def events(api, identifier):
    found = api.ok(Action="DescribeEvents", SourceType="db-instance", SourceIdentifier=identifier, Duration="60")
    return [item.text for item in found.iter(f"{NS}Message")]


def test_writes_the_store_cannot_make_are_refused_and_reads_go_on(small_disk):
    runtime = boot(Settings(data_dir=small_disk / "data", driver="none", auth="off"), schedule=False)
    try:
        api = Api(runtime)
        api.create("before", BackupRetentionPeriod="0")
        api.wait_available("before")
        fill(small_disk)
        message = api.error(400, "InsufficientStorageClusterCapacity", Action="CreateDBInstance",
                            DBInstanceIdentifier="after", DBInstanceClass="db.t3.micro", Engine="mysql",
                            AllocatedStorage="20", MasterUsername="admin", MasterUserPassword="secret123")
        assert "data directory is full" in message
        arn = api.ok(Action="DescribeDBInstances").findtext(f".//{NS}DBInstanceArn")
        api.error(400, "InsufficientStorageClusterCapacity", Action="AddTagsToResource", ResourceName=arn,
                  **{"Tags.member.1.Key": "k", "Tags.member.1.Value": "v"})
        assert api.status("before") == "available"  # reads go on
        free(small_disk)
        api.create("after", BackupRetentionPeriod="0")
        api.wait_available("after")
    finally:
        runtime.close()


def test_a_server_whose_disk_is_full_is_storage_full_until_there_is_room(small_disk):
    runtime = boot(Settings(data_dir=small_disk / "data", driver="process", auth="off", monitor_seconds=0.2),
                   schedule=True)
    try:
        api = Api(runtime)
        api.create("tight", Engine="mariadb", BackupRetentionPeriod="0")
        wait_for(lambda: api.status("tight") == "available", 60, "tight to be available")
        wait_for(lambda: fill(small_disk) or api.status("tight") == "storage-full", 30, "storage-full")
        # its events are in the store, on the same full disk: only once there is room again
        free(small_disk)
        wait_for(lambda: api.status("tight") == "available", 30, "available again")
        assert "The storage of the DB instance has room again." in events(api, "tight")
    finally:
        runtime.close()


def test_an_instance_whose_archiving_blocks_holds_no_other(tmp_path, monkeypatch):
    # a server that blocks mid-statement cannot be had on demand: a work step that waits stands in for it
    monkeypatch.setattr("scheduler.archivers.PASS_SECONDS", 0.5)
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off"), schedule=False)
    released = threading.Event()
    try:
        api = Api(runtime)
        for name in ("stuck", "fine"):
            api.create(name, BackupRetentionPeriod="0")
        stuck, fine = (runtime.ctx.store.find_instance(name) for name in ("stuck", "fine"))

        def work(instance):
            if instance.resource_id == stuck.resource_id:
                released.wait(30)
            return runtime.ctx.clock.now()

        with closing(Archivers(runtime.ctx)) as archivers:
            started = time.monotonic()
            assert set(archivers.each([stuck, fine], work)) == {fine.resource_id}
            assert set(archivers.each([stuck, fine], work)) == {fine.resource_id}  # not queued behind itself
            assert time.monotonic() - started < 10
            released.set()
            wait_for(lambda: set(archivers.each([stuck, fine], work)) == {stuck.resource_id, fine.resource_id}, 10,
                     "the blocked one to be archived once it is released")
    finally:
        released.set()
        runtime.close()
