"""The official AWS CLI, run as a user runs it, with --endpoint-url."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from tests.emulator_process import wait_for
from tests.mysql_client import read_rows, refused, write_rows

pytestmark = pytest.mark.mariadb
AWS = str(pathlib.Path(sys.executable).parent / "aws")
FIRST, SECOND = "cli-Pass-0001", "cli-Pass-0002"


def aws(emulator, *args, check=True):
    env = os.environ | {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [AWS, "--endpoint-url", emulator.url, "--output", "json", "rds", *args],
        capture_output=True, text=True, env=env, timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else result


def status(emulator, name):
    return aws(emulator, "describe-db-instances", "--db-instance-identifier", name)["DBInstances"][0]


def test_instance_life_through_the_aws_cli(server_driver, emulator_factory):
    emulator = emulator_factory(server_driver)
    created = aws(
        emulator, "create-db-instance", "--db-instance-identifier", "cli-db", "--db-instance-class", "db.t3.micro",
        "--engine", "mysql", "--allocated-storage", "20", "--master-username", "admin",
        "--master-user-password", FIRST, "--db-name", "app", "--tags", "Key=owner,Value=cli",
    )["DBInstance"]
    assert created["DBInstanceStatus"] == "creating"
    aws(emulator, "wait", "db-instance-available", "--db-instance-identifier", "cli-db")
    instance = status(emulator, "cli-db")
    endpoint = instance["Endpoint"]
    assert instance["TagList"] == [{"Key": "owner", "Value": "cli"}]
    write_rows(endpoint, "admin", FIRST, "app", ["a", "b", "c"])

    aws(emulator, "reboot-db-instance", "--db-instance-identifier", "cli-db")
    wait_for(lambda: status(emulator, "cli-db")["DBInstanceStatus"] == "available", 60, "reboot")
    aws(emulator, "wait", "db-instance-available", "--db-instance-identifier", "cli-db")
    assert read_rows(endpoint, "admin", FIRST, "app") == ["a", "b", "c"]

    aws(emulator, "stop-db-instance", "--db-instance-identifier", "cli-db")
    wait_for(lambda: status(emulator, "cli-db")["DBInstanceStatus"] == "stopped", 60, "stopped")
    aws(emulator, "start-db-instance", "--db-instance-identifier", "cli-db")
    wait_for(lambda: status(emulator, "cli-db")["DBInstanceStatus"] == "available", 60, "started")
    assert read_rows(endpoint, "admin", FIRST, "app") == ["a", "b", "c"]

    aws(emulator, "modify-db-instance", "--db-instance-identifier", "cli-db", "--master-user-password", SECOND,
        "--apply-immediately")
    wait_for(lambda: status(emulator, "cli-db")["DBInstanceStatus"] == "available", 60, "new password")
    assert read_rows(endpoint, "admin", SECOND, "app") == ["a", "b", "c"]
    assert refused(endpoint, "admin", FIRST)

    events = aws(emulator, "describe-events", "--source-type", "db-instance", "--source-identifier", "cli-db")
    assert "Reset master credentials" in [e["Message"] for e in events["Events"]]

    aws(emulator, "delete-db-instance", "--db-instance-identifier", "cli-db", "--skip-final-snapshot")
    aws(emulator, "wait", "db-instance-deleted", "--db-instance-identifier", "cli-db")
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
