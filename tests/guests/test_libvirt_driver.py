"""DB instances as real QEMU guests under libvirt (software emulation here), driven with boto3 and the AWS
CLI as a user drives them: two guests created together, connect, write, a parameter change that reaches
the guest at its reboot, the slow log read from inside the guest, storage growth, a class change, a rename
an operator sees in `virsh list --title`, an emulator restart that leaves the guests running, a class too
big for the host, delete; and no guest, disk or port is left behind."""

import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

from emulator.drivers.base import bindable
from tests.compat.test_awscli import aws
from tests.emulator_process import daemon_pids, servers_under, stop_daemons, wait_for
from tests.integration.instances import describe, wait_status
from tests.mysql_client import connect, read_rows, write_rows

PASSWORD = "guest-Pass-2"
pytestmark = pytest.mark.guests


def guests_of(emulator) -> dict[str, str]:
    """The libvirt domains this emulator's data directory runs, with their titles."""
    connection = libvirt.open("qemu:///system")
    found = {}
    try:
        for domain in connection.listAllDomains():
            name = domain.name()
            if name.startswith("rds-") and (emulator.data_dir / "guests" / name.split("-", 2)[2]).exists():
                try:
                    found[name] = domain.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None)
                except libvirt.libvirtError:  # gone since it was listed (a guest that died, say)
                    continue
        return found
    finally:
        connection.close()


def domain_of(emulator, title: str) -> "libvirt.virDomain":
    connection = libvirt.open("qemu:///system")
    [name] = [name for name, shown in guests_of(emulator).items() if shown == title]
    return connection.lookupByName(name)


def query(endpoint, sql):
    with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def create(rds, identifier, **extra):
    rds.create_db_instance(**{"DBInstanceIdentifier": identifier, "Engine": "mariadb", "DBInstanceClass": "db.t3.micro",
                              "AllocatedStorage": 20, "MasterUsername": "admin", "MasterUserPassword": PASSWORD,
                              "DBName": "app"} | extra)


def with_template(emulator_factory, rds_client, group: str, description: str):
    """An emulator whose default guests start from its saved template guest, and a parameter group for them."""
    emulator = emulator_factory("libvirt")
    rds = rds_client(emulator)
    wait_for(lambda: "start from the saved template guest" in emulator.log.read_text(), 120, "the template")
    rds.create_db_parameter_group(DBParameterGroupName=group, DBParameterGroupFamily="mariadb10.11",
                                  Description=description)
    return emulator, rds


def error_log(rds, identifier) -> str:
    return rds.download_db_log_file_portion(DBInstanceIdentifier=identifier, LogFileName="error/mysql-error.log",
                                            Marker="0")["LogFileData"]


def test_guest_instances_live_and_die_like_process_ones(emulator_factory, rds_client):
    # both start from the saved template guest (the other test boots its guest)
    emulator, rds = with_template(emulator_factory, rds_client, "guest-tuned", "reaches the guest")
    together = [threading.Thread(target=create, args=(rds, name), kwargs={"DBParameterGroupName": "guest-tuned"})
                for name in ("guest1", "guest2")]
    for thread in together:
        thread.start()
    for thread in together:
        thread.join()
    endpoint = wait_status(rds, "guest1", "available", timeout=300)["Endpoint"]
    other = wait_status(rds, "guest2", "available", timeout=300)["Endpoint"]
    assert endpoint["Address"] == other["Address"] == "127.0.0.1" and endpoint["Port"] != other["Port"]
    assert sorted(guests_of(emulator).values()) == ["guest1", "guest2"]
    write_rows(endpoint, "admin", PASSWORD, "app", ["written in a guest"])
    # each restored guest is its own server: its id, the time now, its own data, its own random bytes, and
    # its own generation id, for its kernel to reseed from; its name is after its address inside (as RDS's
    # are), which user-mode guests share
    identity = "SELECT @@hostname, @@server_id, UNIX_TIMESTAMP(), HEX(RANDOM_BYTES(16))"
    (name, server_id, now, random), = query(endpoint, identity)
    (other_name, other_id, _, other_random), = query(other, identity)
    assert name == other_name == "ip-10-0-2-15" and server_id != other_id
    assert abs(float(now) - time.time()) < 30
    assert random != other_random
    genids = {ET.fromstring(domain_of(emulator, title).XMLDesc()).findtext("genid") for title in ("guest1", "guest2")}
    assert len(genids) == 2 and None not in genids
    assert query(other, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app'") == ((0,),)

    # a static parameter and the slow log, through the group: at the reboot, inside the guest
    rds.modify_db_parameter_group(DBParameterGroupName="guest-tuned", Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": "55", "ApplyMethod": "pending-reboot"},
        {"ParameterName": "slow_query_log", "ParameterValue": "1", "ApplyMethod": "pending-reboot"},
        {"ParameterName": "long_query_time", "ParameterValue": "0", "ApplyMethod": "pending-reboot"},
        {"ParameterName": "log_output", "ParameterValue": "FILE", "ApplyMethod": "pending-reboot"}])
    assert describe(rds, "guest1")["DBParameterGroups"][0]["ParameterApplyStatus"] == "pending-reboot"
    pid = domain_pid(emulator, "guest1")
    rds.reboot_db_instance(DBInstanceIdentifier="guest1")
    wait_status(rds, "guest1", "available", timeout=300)
    assert domain_pid(emulator, "guest1") == pid, "a reboot restarts the server, not the guest"
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["written in a guest"]
    assert query(endpoint, "SELECT @@max_connections, 'a slow one'") == ((55, "a slow one"),)
    assert describe(rds, "guest1")["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync"

    files = aws(emulator, "describe-db-log-files", "--db-instance-identifier", "guest1")["DescribeDBLogFiles"]
    assert [f["LogFileName"] for f in files] == ["error/mysql-error.log", "slowquery/mysql-slowquery.log"]
    assert error_log(rds, "guest1").count("ready for connections") == 2  # the first start and the reboot, in one file
    slow = wait_for(lambda: "a slow one" in (text := rds.download_db_log_file_portion(
        DBInstanceIdentifier="guest1", LogFileName="slowquery/mysql-slowquery.log", Marker="0")["LogFileData"])
        and text, 30, "the slow query in the slow log")
    assert "Query_time" in slow

    # storage grows under the running guest, and its filesystem with it
    rds.modify_db_instance(DBInstanceIdentifier="guest1", AllocatedStorage=30, ApplyImmediately=True)
    wait_status(rds, "guest1", "available", timeout=120)
    assert domain_of(emulator, "guest1").blockInfo("vda")[0] == 30 * 2**30
    console = emulator.data_dir / "guests" / describe(rds, "guest1")["DbiResourceId"] / "console.log"
    wait_for(lambda: any(line.startswith("rds-init: the root filesystem holds") and int(line.split()[-2]) > 29000
                         for line in console.read_text().splitlines()), 300, "the filesystem to grow")

    # a new class restarts the guest with its memory; a rename shows in virsh
    rds.modify_db_instance(DBInstanceIdentifier="guest2", DBInstanceClass="db.t3.small", ApplyImmediately=True)
    wait_status(rds, "guest2", "available", timeout=300)
    assert domain_of(emulator, "guest2").maxMemory() == 768 * 1024
    rds.modify_db_instance(DBInstanceIdentifier="guest2", NewDBInstanceIdentifier="renamed", ApplyImmediately=True)
    wait_for(lambda: "renamed" in titles(), 30, "the new title in virsh list --title")

    # the host has no room for a class this large: refused at once, nothing left behind
    with pytest.raises(rds.exceptions.InsufficientDBInstanceCapacityFault, match="MiB left for guests"):
        create(rds, "too-big", DBInstanceClass="db.r5.24xlarge")

    ports = [endpoint["Port"], other["Port"]]
    for name in ("guest1", "renamed"):
        rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    for name in ("guest1", "renamed"):
        rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=name, WaiterConfig={"Delay": 1})
    assert guests_of(emulator) == {}
    assert not any((emulator.data_dir / "guests").iterdir())
    assert all(bindable("127.0.0.1", port) for port in ports)  # QEMU's forwards are gone


def test_a_guest_restored_with_its_own_values_restarts_the_template_server_with_them(emulator_factory, rds_client):
    emulator, rds = with_template(emulator_factory, rds_client, "own-values", "not the template's")
    rds.modify_db_parameter_group(DBParameterGroupName="own-values", Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": "66", "ApplyMethod": "pending-reboot"}])
    create(rds, "tuned", DBParameterGroupName="own-values", BackupRetentionPeriod=0)
    endpoint = wait_status(rds, "tuned", "available", timeout=300)["Endpoint"]
    assert query(endpoint, "SELECT @@max_connections, @@server_id != 1") == ((66, 1),)
    assert describe(rds, "tuned")["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync"
    assert error_log(rds, "tuned").count("ready for connections") == 2  # the template's start, then its own
    rds.delete_db_instance(DBInstanceIdentifier="tuned", SkipFinalSnapshot=True)
    rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier="tuned", WaiterConfig={"Delay": 1})
    assert guests_of(emulator) == {}


def test_the_emulator_restarting_leaves_guests_running_and_takes_them_back(emulator_factory, rds_client):
    emulator = emulator_factory("libvirt", None, "--guest-start", "boot")
    rds = rds_client(emulator)
    create(rds, "steady")
    endpoint = wait_status(rds, "steady", "available", timeout=300)["Endpoint"]
    write_rows(endpoint, "admin", PASSWORD, "app", ["before the restart"])
    pids = servers_under(emulator.data_dir)
    emulator.stop()
    assert servers_under(emulator.data_dir) == pids
    stray = emulator.data_dir / "guests" / "db-STRAYSTRAYSTRAYSTRAYSTRAY"
    stray.mkdir()

    again = emulator_factory("libvirt", emulator.data_dir, "--guest-start", "boot")
    rds = rds_client(again)
    assert wait_status(rds, "steady", "available")["Endpoint"] == endpoint
    assert servers_under(emulator.data_dir) == pids
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["before the restart"]
    assert f"guest home {stray} belongs to no DB instance this emulator knows" in again.log.read_text()
    events = [e["Message"] for e in rds.describe_events(SourceType="db-instance", SourceIdentifier="steady")["Events"]]
    assert events == ["DB instance created", "Backing up DB instance", "Finished DB Instance backup"]


def titles() -> str:
    return subprocess.run(["virsh", "list", "--title"], capture_output=True, text=True, check=True).stdout


def domain_pid(emulator, title: str) -> int:
    domain = domain_of(emulator, title)
    return int(open(f"/run/libvirt/qemu/{domain.name()}.pid").read())


def pid_of(emulator, title: str) -> int | None:
    """The guest's QEMU, or None while it is between lives."""
    try:
        return domain_pid(emulator, title)
    except (ValueError, OSError, libvirt.libvirtError):
        return None


def test_libvirtd_restarting_under_the_emulator_is_connected_to_again(emulator_factory, rds_client):
    # libvirtd up without virtlogd, as a host can be left: the driver starts virtlogd, or no guest starts
    stop_daemons("libvirtd", "virtlogd")
    subprocess.run(["libvirtd", "-d"], check=True, timeout=60)
    emulator = emulator_factory("libvirt")
    rds = rds_client(emulator)
    create(rds, "first", BackupRetentionPeriod=0)
    endpoint = wait_status(rds, "first", "available", timeout=300)["Endpoint"]
    assert daemon_pids("virtlogd")
    write_rows(endpoint, "admin", PASSWORD, "app", ["before libvirtd restarted"])

    # as a package upgrade restarts it: the guests run on, and the emulator must reach the new libvirtd
    stop_daemons("libvirtd")
    subprocess.run(["libvirtd", "-d"], check=False, timeout=60)  # unless the emulator started one already
    rds.reboot_db_instance(DBInstanceIdentifier="first")
    wait_status(rds, "first", "available", timeout=300)
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["before libvirtd restarted"]
    create(rds, "second", BackupRetentionPeriod=0)
    wait_status(rds, "second", "available", timeout=300)
    # and the watch sees again: a guest that dies is started again
    pid = domain_pid(emulator, "second")
    subprocess.run(["kill", "-9", str(pid)], check=True)
    wait_for(lambda: "second" in guests_of(emulator).values() and pid_of(emulator, "second") not in (None, pid),
             120, "the guest to be started again")
    wait_status(rds, "second", "available", timeout=300)
    assert len(servers_under(emulator.data_dir)) == 2
    assert "the connection to libvirt was lost: connecting again" in emulator.log.read_text()
