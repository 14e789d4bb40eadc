"""Multi-AZ with the AWS CLI, as a user tries it against real servers (the process driver), on MariaDB: an
instance made with --multi-az, a forced failover by reboot-db-instance --force-failover, the CLI's own waiter,
the rows still there on the same endpoint, the zones swapped; then --no-multi-az."""

import pytest

from tests.compat.test_awscli import available, aws, seen, wait
from tests.emulator_process import wait_for
from tests.mysql_client import read_rows, write_rows

pytestmark = pytest.mark.mariadb
PASSWORD = "cli-Standby-01"


def test_a_multi_az_instance_fails_over_with_the_cli(emulator_factory):
    emulator = emulator_factory("process")
    made = aws(emulator, "create-db-instance", "--db-instance-identifier", "ha", "--engine", "mariadb",
               "--db-instance-class", "db.t3.micro", "--allocated-storage", "20", "--master-username", "admin",
               "--master-user-password", PASSWORD, "--db-name", "app", "--multi-az")["DBInstance"]
    assert made["MultiAZ"] is True
    wait(emulator, "db-instance-available", "ha", available)
    first = seen(emulator, "ha")
    write_rows(first["Endpoint"], "admin", PASSWORD, "app", ["one"])
    rebooted = aws(emulator, "reboot-db-instance", "--db-instance-identifier", "ha", "--force-failover")
    assert rebooted["DBInstance"]["DBInstanceStatus"] == "rebooting"
    wait_for(lambda: "Multi-AZ instance failover completed" in [
        event["Message"] for event in aws(emulator, "describe-events", "--source-identifier", "ha",
                                          "--source-type", "db-instance")["Events"]], 90, "the failover")
    wait(emulator, "db-instance-available", "ha", available)
    after = seen(emulator, "ha")
    assert after["Endpoint"] == first["Endpoint"]
    assert (after["AvailabilityZone"], after["SecondaryAvailabilityZone"]) == (
        first["SecondaryAvailabilityZone"], first["AvailabilityZone"])
    write_rows(after["Endpoint"], "admin", PASSWORD, "app", ["two"])
    assert read_rows(after["Endpoint"], "admin", PASSWORD, "app") == ["one", "two"]

    aws(emulator, "modify-db-instance", "--db-instance-identifier", "ha", "--no-multi-az", "--apply-immediately")
    wait_for(lambda: (found := seen(emulator, "ha"))["DBInstanceStatus"] == "available" and not found["MultiAZ"],
             60, "the standby to go")
    assert "SecondaryAvailabilityZone" not in seen(emulator, "ha")
