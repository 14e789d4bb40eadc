"""The official AWS CLI, run as a user runs it, with --endpoint-url."""

import functools
import json
import os
import pathlib
import subprocess
import sys

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.emulator_process import wait_for
from tests.mysql_client import read_rows, refused, write_rows

pytestmark = pytest.mark.mariadb
AWS = str(pathlib.Path(sys.executable).parent / "aws")
FIRST, SECOND = "cli-Pass-0001", "cli-Pass-0002"


def cli_env(emulator) -> dict[str, str]:
    """The environment the AWS CLI signs with: the emulator's access key."""
    keys = emulator.credentials()
    return os.environ | {"AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
                         "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"], "AWS_DEFAULT_REGION": "us-east-1"}


def aws(emulator, *args, check=True):
    result = subprocess.run(
        [AWS, "--endpoint-url", emulator.url, "--output", "json", "rds", *args],
        capture_output=True, text=True, env=cli_env(emulator), timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else result


def status(emulator, name):
    """An instance as the CLI prints it."""
    return aws(emulator, "describe-db-instances", "--db-instance-identifier", name)["DBInstances"][0]


@functools.cache
def polling(emulator):
    """A boto3 client for polling (the CLI's own start-up is a second a call), one per emulator."""
    return boto3.client("rds", endpoint_url=emulator.url, region_name="us-east-1", **emulator.credentials())


def seen(emulator, name):
    """An instance as boto3 reads it, or None once it is gone."""
    try:
        return polling(emulator).describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    except ClientError as error:
        if error.response["Error"]["Code"] == "DBInstanceNotFound":
            return None
        raise


def wait(emulator, waiter, name, done, timeout=300):
    """`aws rds wait ...` as users run it, once polling has seen `done`: the CLI's waiters check first, then
    sleep 30 s between checks, which was most of this module's time; so the CLI's waiter is run where its first
    check must succeed, and still has to agree."""
    wait_for(lambda: done(seen(emulator, name)), timeout, f"{waiter} of {name}", interval=0.2)
    flag = "--db-snapshot-identifier" if "snapshot" in waiter else "--db-instance-identifier"
    aws(emulator, "wait", waiter, flag, name)


def available(instance):
    return instance is not None and instance["DBInstanceStatus"] == "available"


def test_instance_life_through_the_aws_cli(server_driver, served_engine, emulator_factory):
    emulator = emulator_factory(server_driver)
    created = aws(
        emulator, "create-db-instance", "--db-instance-identifier", "cli-db", "--db-instance-class", "db.t3.micro",
        "--engine", served_engine[0], "--allocated-storage", "20", "--master-username", "admin",
        "--master-user-password", FIRST, "--db-name", "app", "--tags", "Key=owner,Value=cli",
    )["DBInstance"]
    assert created["DBInstanceStatus"] == "creating"
    wait(emulator, "db-instance-available", "cli-db", available)
    instance = status(emulator, "cli-db")
    endpoint = instance["Endpoint"]
    assert instance["TagList"] == [{"Key": "owner", "Value": "cli"}]
    write_rows(endpoint, "admin", FIRST, "app", ["a", "b", "c"])

    aws(emulator, "reboot-db-instance", "--db-instance-identifier", "cli-db")
    wait(emulator, "db-instance-available", "cli-db", available, 60)
    assert read_rows(endpoint, "admin", FIRST, "app") == ["a", "b", "c"]

    aws(emulator, "stop-db-instance", "--db-instance-identifier", "cli-db")
    wait_for(lambda: seen(emulator, "cli-db")["DBInstanceStatus"] == "stopped", 60, "stopped", interval=0.2)
    aws(emulator, "start-db-instance", "--db-instance-identifier", "cli-db")
    wait_for(lambda: available(seen(emulator, "cli-db")), 60, "started", interval=0.2)
    assert read_rows(endpoint, "admin", FIRST, "app") == ["a", "b", "c"]

    aws(emulator, "modify-db-instance", "--db-instance-identifier", "cli-db", "--master-user-password", SECOND,
        "--apply-immediately")
    wait_for(lambda: available(seen(emulator, "cli-db")), 60, "new password", interval=0.2)
    assert read_rows(endpoint, "admin", SECOND, "app") == ["a", "b", "c"]
    assert refused(endpoint, "admin", FIRST)

    events = aws(emulator, "describe-events", "--source-type", "db-instance", "--source-identifier", "cli-db")
    assert "Reset master credentials" in [e["Message"] for e in events["Events"]]

    aws(emulator, "delete-db-instance", "--db-instance-identifier", "cli-db", "--skip-final-snapshot")
    wait(emulator, "db-instance-deleted", "cli-db", lambda instance: instance is None)
    missing = aws(emulator, "describe-db-instances", "--db-instance-identifier", "cli-db", check=False)
    assert missing.returncode != 0 and "DBInstanceNotFound" in missing.stderr
    assert emulator.server_pids() == []

    emulator.stop()
    for secret in (FIRST, SECOND):
        for path in emulator.data_dir.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"a master password is in {path}"


def test_cli_errors_are_aws_shaped(emulator_factory):
    emulator = emulator_factory(driver="none")
    result = aws(emulator, "create-db-instance", "--db-instance-identifier", "bad--name", "--db-instance-class",
                 "db.t3.micro", "--engine", "mysql", "--allocated-storage", "20", "--master-username", "admin",
                 "--master-user-password", "password1", check=False)
    assert result.returncode != 0
    assert "InvalidParameterValue" in result.stderr and "two consecutive hyphens" in result.stderr


def test_snapshots_and_restores_through_the_aws_cli(emulator_factory):
    emulator = emulator_factory("process", None, "--archive-seconds", "1")
    aws(emulator, "create-db-instance", "--db-instance-identifier", "cli-src", "--db-instance-class", "db.t3.micro",
        "--engine", "mariadb", "--allocated-storage", "20", "--master-username", "admin",
        "--master-user-password", FIRST, "--db-name", "app", "--copy-tags-to-snapshot", "--tags", "Key=team,Value=a")
    wait(emulator, "db-instance-available", "cli-src", available)
    endpoint = status(emulator, "cli-src")["Endpoint"]
    write_rows(endpoint, "admin", FIRST, "app", ["kept"])

    made = aws(emulator, "create-db-snapshot", "--db-instance-identifier", "cli-src",
               "--db-snapshot-identifier", "cli-snap")["DBSnapshot"]
    assert made["Status"] == "creating"
    client = polling(emulator)
    wait_for(lambda: client.describe_db_snapshots(DBSnapshotIdentifier="cli-snap")["DBSnapshots"][0]["Status"]
             == "available", 120, "the snapshot", interval=0.2)
    aws(emulator, "wait", "db-snapshot-available", "--db-snapshot-identifier", "cli-snap")
    listed = aws(emulator, "describe-db-snapshots", "--db-instance-identifier", "cli-src",
                 "--snapshot-type", "manual")["DBSnapshots"]
    assert [(found["DBSnapshotIdentifier"], found["TagList"]) for found in listed] == [
        ("cli-snap", [{"Key": "team", "Value": "a"}])]
    write_rows(endpoint, "admin", FIRST, "app", ["later"])

    aws(emulator, "restore-db-instance-from-db-snapshot", "--db-instance-identifier", "cli-copy",
        "--db-snapshot-identifier", "cli-snap", "--db-instance-class", "db.t3.small")
    wait_for(lambda: status(emulator, "cli-src").get("LatestRestorableTime", "") > made["SnapshotCreateTime"]
             and "later" in read_rows(endpoint, "admin", FIRST, "app"), 30, "the later row archived", interval=0.2)
    latest = status(emulator, "cli-src")["LatestRestorableTime"]
    wait_for(lambda: status(emulator, "cli-src")["LatestRestorableTime"] > latest, 30, "the next archive",
             interval=0.2)
    aws(emulator, "restore-db-instance-to-point-in-time", "--source-db-instance-identifier", "cli-src",
        "--target-db-instance-identifier", "cli-latest", "--use-latest-restorable-time")
    wait(emulator, "db-instance-available", "cli-copy", available)
    wait(emulator, "db-instance-available", "cli-latest", available)
    copy = status(emulator, "cli-copy")
    assert copy["DBInstanceClass"] == "db.t3.small"
    assert read_rows(copy["Endpoint"], "admin", FIRST, "app") == ["kept"]
    assert read_rows(status(emulator, "cli-latest")["Endpoint"], "admin", FIRST, "app") == ["kept", "later"]

    aws(emulator, "delete-db-snapshot", "--db-snapshot-identifier", "cli-snap")
    missing = aws(emulator, "describe-db-snapshots", "--db-snapshot-identifier", "cli-snap", check=False)
    assert missing.returncode != 0 and "DBSnapshotNotFound" in missing.stderr
    automated = aws(emulator, "describe-db-snapshots", "--snapshot-type", "automated")["DBSnapshots"][0]
    refused_delete = aws(emulator, "delete-db-snapshot", "--db-snapshot-identifier",
                         automated["DBSnapshotIdentifier"], check=False)
    assert refused_delete.returncode != 0 and "InvalidDBSnapshotState" in refused_delete.stderr
