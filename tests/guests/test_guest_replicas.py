"""Read replicas of guests, both engines, through boto3 and the AWS CLI: a replica guest reaches its source
guest's forwarded port only through the relay QEMU runs for its source address (user mode's restrict=on lets
nothing else out), has the source's rows and follows new ones, across its source's reboot and its own,
refuses its master user's writes, shows `error` with the server's reason when a privileged session breaks
its replication, and once promoted (by the CLI) is writable and follows nothing."""

import pymysql
import pytest

from emulator.drivers.libvirt.shared import ADMIN, admin_password
from tests.compat.test_awscli import aws
from tests.emulator_process import wait_for
from tests.guests.test_engine_guests import FIRST_IMAGE
from tests.guests.test_libvirt_driver import PASSWORD, create, domain_of, query
from tests.integration.instances import describe, wait_status
from tests.mysql_client import read_rows, write_rows

pytestmark = pytest.mark.guests
FOLLOW = 120  # a row's way through two emulated guests


def rows(endpoint):
    try:
        return read_rows(endpoint, "admin", PASSWORD, "app")
    except pymysql.err.ProgrammingError:  # the table not replicated yet
        return None


def replication_of(found):
    (info,) = found.get("StatusInfos", [{}])
    return info.get("Status"), info.get("Message")


def as_operator(emulator, found, sql):
    """A privileged session on a guest's server, as its operator has one: the administrator's password is
    derived from the key the emulator keeps in its data directory."""
    password = admin_password((emulator.data_dir / "guest-admin.key").read_bytes(), found["DbiResourceId"])
    with pymysql.connect(host=found["Endpoint"]["Address"], port=found["Endpoint"]["Port"], user=ADMIN,
                         password=password, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_a_guest_replica_follows_its_source_guest_and_is_promoted(emulator_factory, rds_client, engine):
    emulator = emulator_factory("libvirt")
    rds = rds_client(emulator)
    create(rds, "src", Engine=engine, BackupRetentionPeriod=1)
    source = wait_status(rds, "src", "available", timeout=FIRST_IMAGE)["Endpoint"]
    write_rows(source, "admin", PASSWORD, "app", ["before"])
    rds.create_db_instance_read_replica(DBInstanceIdentifier="rep", SourceDBInstanceIdentifier="src")
    found = wait_status(rds, "rep", "available", timeout=600)
    replica = found["Endpoint"]
    assert replication_of(found) == ("replicating", None)
    assert query(replica, "SELECT @@read_only")[0][0] == 1
    # only a guest that replicates gets the relay, and QEMU's sandbox set for it; the source keeps libvirt's
    assert "guestfwd" in domain_of(emulator, "rep").XMLDesc()
    assert "guestfwd" not in domain_of(emulator, "src").XMLDesc()
    assert rows(replica) == ["before"]
    write_rows(source, "admin", PASSWORD, "app", ["after"])
    wait_for(lambda: rows(replica) == ["before", "after"], FOLLOW, "the replica to follow")
    with pytest.raises(pymysql.err.MySQLError) as refused:
        write_rows(replica, "admin", PASSWORD, "app", ["on the replica"])
    assert refused.value.args[0] == 1290  # read-only

    rds.reboot_db_instance(DBInstanceIdentifier="src")  # the replica connects again, through a new relay
    wait_status(rds, "src", "available", timeout=300)
    write_rows(source, "admin", PASSWORD, "app", ["rebooted"])
    wait_for(lambda: rows(replica) == ["before", "after", "rebooted"], FOLLOW, "the replica to follow its source")
    rds.reboot_db_instance(DBInstanceIdentifier="rep")  # its server starts without replicating: resumed
    wait_status(rds, "rep", "available", timeout=300)
    write_rows(source, "admin", PASSWORD, "app", ["after its reboot"])
    wait_for(lambda: (rows(replica) or [""])[-1] == "after its reboot", FOLLOW, "the rebooted replica to follow")
    assert replication_of(describe(rds, "rep")) == ("replicating", None)

    # a row written on the replica by a privileged session, then the same key on the source
    as_operator(emulator, describe(rds, "rep"), "SET GLOBAL super_read_only = OFF" if engine == "mysql" else "DO 0")
    as_operator(emulator, describe(rds, "rep"), "INSERT INTO app.notes (id, body) VALUES (1000, 'mine')")
    with pymysql.connect(host=source["Address"], port=source["Port"], user="admin", password=PASSWORD,
                         database="app", autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("INSERT INTO notes (id, body) VALUES (1000, 'theirs')")
    broken = wait_for(lambda: replication_of(found := describe(rds, "rep"))[0] == "error" and found, FOLLOW,
                      "the broken replication")
    assert "Duplicate entry" in replication_of(broken)[1]

    made = aws(emulator, "promote-read-replica", "--db-instance-identifier", "rep")["DBInstance"]
    assert made["DBInstanceStatus"] == "modifying"
    promoted = wait_for(lambda: (item := describe(rds, "rep"))["DBInstanceStatus"] == "available"
                        and "StatusInfos" not in item and item, 300, "the promotion")
    assert promoted["Endpoint"] == replica
    write_rows(replica, "admin", PASSWORD, "app", ["promoted"])
    kept = ["before", "after", "rebooted", "after its reboot"]
    assert rows(replica) == [*kept, "mine", "promoted"]
    assert rows(source) == [*kept, "theirs"]
