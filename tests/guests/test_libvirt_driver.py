"""DB instances as real QEMU guests under libvirt (software emulation here), driven with boto3 and the AWS
CLI as a user drives them: create, connect, write, a parameter change that reaches the guest at its reboot,
read back, the error log, delete; and no guest is left behind."""

import os
import shutil

import libvirt
import pytest

from tests.compat.test_awscli import aws
from tests.integration.instances import describe, wait_status
from tests.mysql_client import connect, read_rows, write_rows

PASSWORD = "guest-Pass-2"
needs = [tool for tool in ("debootstrap", "qemu-system-x86_64", "libvirtd") if not shutil.which(tool)
         and not os.path.exists(f"/usr/sbin/{tool}")]
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or bool(needs),
    reason=f"guests need root, libvirt and {', '.join(needs) or 'QEMU'}: run `make setup` as root",
)


def guests_of(emulator) -> list[str]:
    """The libvirt domains this emulator's data directory runs."""
    connection = libvirt.open("qemu:///system")
    try:
        return [d.name() for d in connection.listAllDomains() if d.name().startswith("rds-")
                and (emulator.data_dir / "guests" / d.name().split("-", 2)[2]).exists()]
    finally:
        connection.close()


def test_a_guest_instance_lives_and_dies_like_a_process_one(emulator_factory, rds_client):
    emulator = emulator_factory("libvirt")
    rds = rds_client(emulator)
    rds.create_db_parameter_group(DBParameterGroupName="guest-tuned", DBParameterGroupFamily="mariadb10.11",
                                  Description="reaches the guest")
    rds.create_db_instance(DBInstanceIdentifier="guest1", Engine="mariadb", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword=PASSWORD, DBName="app",
                           DBParameterGroupName="guest-tuned")
    endpoint = wait_status(rds, "guest1", "available", timeout=300)["Endpoint"]
    assert endpoint["Address"] == "127.0.0.1"
    write_rows(endpoint, "admin", PASSWORD, "app", ["written in a guest"])
    with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT @@hostname")
        assert cursor.fetchone() == ("guest1",)

    rds.modify_db_parameter_group(DBParameterGroupName="guest-tuned", Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": "55", "ApplyMethod": "pending-reboot"}])
    assert describe(rds, "guest1")["DBParameterGroups"][0]["ParameterApplyStatus"] == "pending-reboot"
    rds.reboot_db_instance(DBInstanceIdentifier="guest1")
    wait_status(rds, "guest1", "available", timeout=300)
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["written in a guest"]
    with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT @@max_connections")
        assert cursor.fetchone() == (55,)
    assert describe(rds, "guest1")["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync"

    files = aws(emulator, "describe-db-log-files", "--db-instance-identifier", "guest1")["DescribeDBLogFiles"]
    assert [f["LogFileName"] for f in files] == ["error/mysql-error.log"]
    portion = rds.download_db_log_file_portion(DBInstanceIdentifier="guest1", LogFileName="error/mysql-error.log",
                                               Marker="0")
    assert "ready for connections" in portion["LogFileData"]
    assert len(guests_of(emulator)) == 1

    rds.delete_db_instance(DBInstanceIdentifier="guest1", SkipFinalSnapshot=True)
    rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier="guest1", WaiterConfig={"Delay": 1})
    assert guests_of(emulator) == []
    assert not any((emulator.data_dir / "guests").iterdir())
