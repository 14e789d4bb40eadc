"""The backup window, enforced against the emulator's clock: moving the clock through /_emulator/clock opens
it; each window gives one automated backup, also when it opened while the emulator was down; retention
keeps what a restore to any time in the last BackupRetentionPeriod days needs, and 0 removes everything."""

import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest

from tests.emulator_process import wait_for
from tests.integration.instances import describe, wait_status

pytestmark = pytest.mark.mariadb


def move_clock(emulator, **body) -> datetime:
    return datetime.fromisoformat(emulator.operator("clock", body)["now"].replace("Z", "+00:00"))


def emulator_now(emulator) -> datetime:
    return datetime.fromisoformat(emulator.operator("clock")["now"].replace("Z", "+00:00"))


def automated(client, identifier):
    found = client.describe_db_snapshots(DBInstanceIdentifier=identifier, SnapshotType="automated")["DBSnapshots"]
    return sorted(snapshot["DBSnapshotIdentifier"] for snapshot in found if snapshot["Status"] == "available")


def window_after(now: datetime, hours: int) -> tuple[datetime, str]:
    start = (now + timedelta(hours=hours)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=30)
    return start, f"{start:%H:%M}-{end:%H:%M}"


def test_the_clock_endpoint_is_off_unless_allowed(emulator_factory):
    emulator = emulator_factory("none", None)
    with pytest.raises(urllib.error.HTTPError) as refused:
        move_clock(emulator, advance_seconds=60)
    assert refused.value.code == 403 and b"--allow-clock-moves" in refused.value.read()
    assert abs((emulator_now(emulator) - datetime.now(emulator_now(emulator).tzinfo)).total_seconds()) < 5


def test_a_window_gives_one_backup_even_across_a_restart_and_retention_removes_old_ones(
    emulator_factory, rds_client, tmp_path
):
    data = tmp_path / "data"
    emulator = emulator_factory("process", data, "--allow-clock-moves", "--archive-seconds", "1")
    client = rds_client(emulator)
    start, window = window_after(emulator_now(emulator), 2)
    # five hours from the backup window's time of day, so that the two never overlap, even when the backup
    # window crosses midnight (a fixed 00:00-00:30 did, for a test started from 21:30 to 22:30 UTC)
    maintenance, maintenance_end = start + timedelta(hours=5), start + timedelta(hours=5, minutes=30)
    client.create_db_instance(
        DBInstanceIdentifier="nightly", DBInstanceClass="db.t3.micro", Engine="mariadb", AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword="Nightly-pass-1", PreferredBackupWindow=window,
        PreferredMaintenanceWindow=f"{maintenance:%a:%H:%M}-{maintenance_end:%a:%H:%M}".lower(),
    )
    wait_status(client, "nightly", "available")
    first = automated(client, "nightly")
    assert len(first) == 1

    move_clock(emulator, to=(start + timedelta(minutes=1)).isoformat())
    expected = f"rds:nightly-{start + timedelta(minutes=1):%Y-%m-%d-%H-%M}"
    wait_for(lambda: expected in automated(client, "nightly"), 60, "the window's backup")
    wait_status(client, "nightly", "available")
    move_clock(emulator, advance_seconds=600)  # still inside the window: no second backup
    assert automated(client, "nightly") == sorted(first + [expected])

    # the next day's window opens while the emulator is down: served once when it comes back
    move_clock(emulator, to=(start + timedelta(days=1) - timedelta(seconds=1)).isoformat())
    emulator.stop()  # a clean stop takes longer than that second
    later = emulator_factory("process", data, "--allow-clock-moves", "--archive-seconds", "1")
    wait_for(lambda: emulator_now(later) > start + timedelta(days=1), 10, "the next day's window to open")
    client = rds_client(later)
    wait_for(lambda: len(automated(client, "nightly")) == 3, 60, "the missed window's backup")
    later.stop()
    again = emulator_factory("process", data, "--allow-clock-moves", "--archive-seconds", "1")
    client = rds_client(again)
    wait_status(client, "nightly", "available")
    assert len(automated(client, "nightly")) == 3

    # retention is 1 day: two days on, the backup from before the last day that a restore to a day ago
    # starts from, and the new one, are left
    move_clock(again, to=(start + timedelta(days=2, minutes=1)).isoformat())
    wait_for(lambda: len(automated(client, "nightly")) == 2 and all(
        name >= f"rds:nightly-{start + timedelta(days=1):%Y-%m-%d}" for name in automated(client, "nightly")
    ), 60, "the oldest backups to expire")
    assert describe(client, "nightly")["LatestRestorableTime"] > start + timedelta(days=2)

    client.modify_db_instance(DBInstanceIdentifier="nightly", BackupRetentionPeriod=0, ApplyImmediately=True)
    assert automated(client, "nightly") == []
    assert "LatestRestorableTime" not in describe(client, "nightly")
    events = [e["Message"] for e in client.describe_events(SourceIdentifier="nightly", SourceType="db-instance",
                                                           Duration=60 * 24 * 3)["Events"]]
    assert events.count("Backing up DB instance") == 4 and "Disabled automated backups" in events
