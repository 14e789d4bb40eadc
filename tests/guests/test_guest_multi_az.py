"""Multi-AZ on guests (libvirt, user-mode network), through boto3: a standby guest forwarded a port of its own,
whose master user cannot log in; a forced failover and a primary guest's QEMU killed with SIGKILL each hand
the same endpoint to the standby with every acknowledged commit (the endpoint then held by a relay, since
QEMU cannot take over a port a killed guest's connections still hold); and nothing is left behind."""

import os
import signal

import pymysql
import pytest

from tests.emulator_process import wait_for
from tests.guests.test_engine_guests import FIRST_IMAGE
from tests.guests.test_libvirt_driver import PASSWORD, create, guests_of, query
from tests.integration.instances import wait_status
from tests.integration.test_multi_az import DONE, events_of, listening_on
from tests.mysql_client import connect, read_rows, write_rows
from tests.writer import Writer

pytestmark = pytest.mark.guests
FAILOVER = 300  # a takeover under software emulation, and the new standby guest's making


def failed_over(rds, times):
    wait_for(lambda: events_of(rds, "ha").count(DONE) >= times, FAILOVER, f"failover {times}")
    return wait_status(rds, "ha", "available", timeout=FAILOVER)


def standby_port(emulator, resource_id):
    """The port the standby guest's server is forwarded from (its home keeps it)."""
    kept = [home / "server-port" for home in (emulator.data_dir / "guests").glob(f"{resource_id}*")
            if (home / "server-port").exists()]
    return [int(path.read_text()) for path in kept]


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_a_guest_standby_takes_over_the_endpoint_with_every_acknowledged_commit(emulator_factory, rds_client,
                                                                                 engine):
    emulator = emulator_factory("libvirt")
    rds = rds_client(emulator)
    create(rds, "ha", Engine=engine, BackupRetentionPeriod=0, MultiAZ=True)
    first = wait_status(rds, "ha", "available", timeout=FIRST_IMAGE)
    endpoint, resource_id = first["Endpoint"], first["DbiResourceId"]
    assert first["MultiAZ"] is True and len(guests_of(emulator)) == 2
    (private,) = standby_port(emulator, resource_id)
    with pytest.raises(pymysql.err.OperationalError):  # the standby's master user cannot log in
        connect({"Address": endpoint["Address"], "Port": private}, "admin", PASSWORD).close()
    write_rows(endpoint, "admin", PASSWORD, "app", ["before"])

    with Writer(endpoint, "admin", PASSWORD, "app") as writer:
        writer.wait_for(10, 60)
        rds.reboot_db_instance(DBInstanceIdentifier="ha", ForceFailover=True)
        after = failed_over(rds, 1)
        writer.wait_for(10, FAILOVER)
    assert set(writer.acknowledged) <= writer.stored()
    assert after["Endpoint"] == endpoint
    assert (after["AvailabilityZone"], after["SecondaryAvailabilityZone"]) == (
        first["SecondaryAvailabilityZone"], first["AvailabilityZone"])
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["before"]
    assert query(endpoint, "SELECT @@read_only")[0][0] == 0
    wait_for(lambda: len(guests_of(emulator)) == 2, FAILOVER, "a new standby guest")

    with Writer(endpoint, "admin", PASSWORD, "app") as writer:  # the primary guest's QEMU dies
        writer.wait_for(10, 60)
        qemu = listening_on(private)  # the relay's target: the guest that took over
        os.kill(qemu, signal.SIGKILL)
        failed_over(rds, 2)
        writer.wait_for(10, FAILOVER)
    assert set(writer.acknowledged) <= writer.stored()
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["before"]

    rds.delete_db_instance(DBInstanceIdentifier="ha", SkipFinalSnapshot=True)
    wait_for(lambda: not guests_of(emulator), 120, "both guests to go")
    wait_for(lambda: listening_on(endpoint["Port"]) is None, 30, "the endpoint's relay to go")
