"""Encryption at rest on real servers of both engines (the process driver), through boto3: an encrypted instance's
rows, redo log and binary logs hold no byte of what a client wrote, while an unencrypted one's do (so the
search can fail); its snapshots are encrypted with its key, a restore of one is encrypted and reads the rows,
and a read replica made from a hot backup of it is too."""

import pathlib
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from tests.emulator_process import wait_for
from tests.integration.instances import wait_status
from tests.mysql_client import connect, read_rows, write_rows

pytestmark = pytest.mark.mariadb
PASSWORD = "sealed-Pass-01"
MARKER = "marker-7f3a9c2e-written-in-clear"


def make(rds, identifier, engine="mariadb", **extra):
    rds.create_db_instance(DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine=engine,
                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword=PASSWORD, DBName="app",
                           BackupRetentionPeriod=1, **extra)
    return wait_status(rds, identifier, "available", timeout=300)


def table_encrypted(endpoint, engine) -> bool:
    """Whether the server says the rows' table is encrypted, as each engine says it."""
    query = ("SELECT COUNT(*) FROM information_schema.INNODB_TABLESPACES_ENCRYPTION WHERE NAME = 'app/notes' "
             "AND ENCRYPTION_SCHEME = 1") if engine == "mariadb" else \
        "SELECT COUNT(*) FROM information_schema.INNODB_TABLESPACES WHERE NAME = 'app/notes' AND ENCRYPTION = 'Y'"
    with connect(endpoint, "admin", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone() == (1,)


def files_holding(folder: pathlib.Path, needle: bytes) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*")
                  if path.is_file() and needle in path.read_bytes())


def data_dir(emulator, instance) -> pathlib.Path:
    return emulator.data_dir / "servers" / instance["DbiResourceId"] / "data"


def stopped(rds, identifier):
    """A clean shutdown: every page and log the server had is on disk."""
    rds.stop_db_instance(DBInstanceIdentifier=identifier)
    wait_status(rds, identifier, "stopped")


def code_of(call, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"]


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_an_encrypted_instance_keeps_no_clear_byte_on_disk(emulator_factory, rds_client, engine):
    emulator = emulator_factory("process")
    rds = rds_client(emulator)
    sealed = make(rds, "sealed", engine, StorageEncrypted=True)
    assert sealed["StorageEncrypted"] is True
    assert sealed["KmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    plain = make(rds, "plain", engine)
    assert plain["StorageEncrypted"] is False and "KmsKeyId" not in plain
    for instance in (sealed, plain):
        write_rows(instance["Endpoint"], "admin", PASSWORD, "app", [MARKER] * 50)

    replica = rds.create_db_instance_read_replica(DBInstanceIdentifier="sealed-replica",
                                                  SourceDBInstanceIdentifier="sealed")["DBInstance"]
    assert replica["StorageEncrypted"] is True and replica["KmsKeyId"] == sealed["KmsKeyId"]
    replica = wait_status(rds, "sealed-replica", "available", timeout=300)
    assert read_rows(replica["Endpoint"], "admin", PASSWORD, "app") == [MARKER] * 50

    rds.create_db_snapshot(DBInstanceIdentifier="sealed", DBSnapshotIdentifier="sealed-snap")
    snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier="sealed-snap")["DBSnapshots"][0]
    assert (snapshot["Encrypted"], snapshot["KmsKeyId"]) == (True, sealed["KmsKeyId"])
    waiter = rds.get_waiter("db_snapshot_available")
    waiter.wait(DBSnapshotIdentifier="sealed-snap", WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    assert table_encrypted(sealed["Endpoint"], engine) and not table_encrypted(plain["Endpoint"], engine)
    rds.delete_db_instance(DBInstanceIdentifier="sealed-replica", SkipFinalSnapshot=True)

    restored = rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="reopened",
                                                        DBSnapshotIdentifier="sealed-snap")["DBInstance"]
    assert (restored["StorageEncrypted"], restored["KmsKeyId"]) == (True, sealed["KmsKeyId"])
    restored = wait_status(rds, "reopened", "available", timeout=300)
    assert table_encrypted(restored["Endpoint"], engine)
    assert read_rows(restored["Endpoint"], "admin", PASSWORD, "app") == [MARKER] * 50

    for name in ("sealed", "plain", "reopened"):
        stopped(rds, name)
    assert files_holding(data_dir(emulator, sealed), MARKER.encode()) == []
    assert files_holding(data_dir(emulator, restored), MARKER.encode()) == []
    # the same rows, unencrypted: in the table's file and the binary log (the search can fail)
    found = files_holding(data_dir(emulator, plain), MARKER.encode())
    assert "app/notes.ibd" in found and any(name.startswith("binlog.") for name in found), found


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_archived_binary_logs_are_sealed_and_restore_to_a_point_in_time(emulator_factory, rds_client, engine):
    """The logs a point-in-time restore replays hold no clear byte in backup storage either."""
    emulator = emulator_factory("process", None, "--archive-seconds", "1")
    rds = rds_client(emulator)
    sealed = make(rds, "logged", engine, StorageEncrypted=True)
    write_rows(sealed["Endpoint"], "admin", PASSWORD, "app", [MARKER] * 20)
    written = datetime.now(UTC)

    def archived_after_the_rows():
        found = rds.describe_db_instances(DBInstanceIdentifier="logged")["DBInstances"][0]
        return found.get("LatestRestorableTime", written) > written
    wait_for(archived_after_the_rows, 60, "the rows' binary log archived", interval=0.2)
    assert files_holding(emulator.data_dir / "backups", MARKER.encode()) == []
    rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="logged",
                                             TargetDBInstanceIdentifier="logged-again", UseLatestRestorableTime=True)
    again = wait_status(rds, "logged-again", "available", timeout=300)
    assert again["StorageEncrypted"] is True
    assert read_rows(again["Endpoint"], "admin", PASSWORD, "app") == [MARKER] * 20


def test_what_encryption_refuses(emulator_factory, rds_client):
    rds = rds_client(emulator_factory("process"))
    base = {"DBInstanceClass": "db.t3.micro", "AllocatedStorage": 20, "MasterUsername": "admin",
            "MasterUserPassword": PASSWORD}
    assert code_of(rds.create_db_instance, DBInstanceIdentifier="elsewhere", Engine="mariadb", StorageEncrypted=True,
                   KmsKeyId="arn:aws:kms:eu-west-1:123456789012:key/0b8a7c55-1d2e-4f3a-9b8c-7d6e5f4a3b2c",
                   **base) == "KMSKeyNotAccessibleFault"
    assert code_of(rds.create_db_instance, DBInstanceIdentifier="keyonly", Engine="mariadb",
                   KmsKeyId="alias/app", **base) == "InvalidParameterCombination"
    made = rds.create_db_instance(DBInstanceIdentifier="aliased", Engine="mariadb", StorageEncrypted=True,
                                  KmsKeyId="alias/app", **base)["DBInstance"]
    again = rds.create_db_instance(DBInstanceIdentifier="aliased2", Engine="mariadb", StorageEncrypted=True,
                                   KmsKeyId="arn:aws:kms:us-east-1:123456789012:alias/app", **base)["DBInstance"]
    assert made["KmsKeyId"] == again["KmsKeyId"]  # one alias, one key
