"""A read replica with the AWS CLI, as a user makes one against real servers (the process driver), on MySQL:
the CLI's own waiter, the replica's rows and the ones that follow, its master user refused a write, and
its promotion, after which it writes."""

import pymysql
import pytest

from tests.compat.test_awscli import available, aws, seen, wait
from tests.emulator_process import wait_for
from tests.mysql_client import read_rows, write_rows

pytestmark = pytest.mark.mariadb
PASSWORD = "cli-Replica-01"


def test_a_mysql_read_replica_with_the_cli(emulator_factory):
    emulator = emulator_factory("process")
    aws(emulator, "create-db-instance", "--db-instance-identifier", "src", "--engine", "mysql",
        "--db-instance-class", "db.t3.micro", "--allocated-storage", "20", "--master-username", "admin",
        "--master-user-password", PASSWORD, "--db-name", "app", "--backup-retention-period", "1")
    wait(emulator, "db-instance-available", "src", available)
    source = seen(emulator, "src")["Endpoint"]
    write_rows(source, "admin", PASSWORD, "app", ["one"])
    made = aws(emulator, "create-db-instance-read-replica", "--db-instance-identifier", "rep",
               "--source-db-instance-identifier", "src")["DBInstance"]
    assert made["ReadReplicaSourceDBInstanceIdentifier"] == "src"
    wait(emulator, "db-instance-available", "rep", available)
    replica = seen(emulator, "rep")
    assert replica["StatusInfos"] == [{"StatusType": "read replication", "Normal": True, "Status": "replicating"}]
    assert seen(emulator, "src")["ReadReplicaDBInstanceIdentifiers"] == ["rep"]
    write_rows(source, "admin", PASSWORD, "app", ["two"])
    wait_for(lambda: read_rows(replica["Endpoint"], "admin", PASSWORD, "app") == ["one", "two"], 30, "the follow")
    with pytest.raises(pymysql.err.OperationalError):
        write_rows(replica["Endpoint"], "admin", PASSWORD, "app", ["refused"])

    aws(emulator, "promote-read-replica", "--db-instance-identifier", "rep")
    wait_for(lambda: (found := seen(emulator, "rep"))["DBInstanceStatus"] == "available"
             and "StatusInfos" not in found, 90, "the promotion")
    write_rows(replica["Endpoint"], "admin", PASSWORD, "app", ["three"])
    assert read_rows(replica["Endpoint"], "admin", PASSWORD, "app") == ["one", "two", "three"]
