"""Managed master passwords, as Terraform's most used RDS module asks for them by default: RDS makes the
password and keeps it in Secrets Manager, which the same endpoint answers. Read back with the AWS CLI and
boto3, the password opens the real server; rotated, the new one does and the old one does not; given up, the
user's own password takes over. No password ever lands in a file the emulator keeps."""

import json
import pathlib
import subprocess
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.compat.test_awscli import AWS, cli_env
from tests.emulator_process import wait_for
from tests.mysql_client import read_rows, refused, write_rows

pytestmark = pytest.mark.mariadb
OWN = "own-Pass-0001"


def secrets_client(emulator):
    return boto3.client("secretsmanager", endpoint_url=emulator.url, region_name="us-east-1",
                        **emulator.credentials())


def cli_secret(emulator, secret_id: str) -> dict:
    """`aws secretsmanager get-secret-value`, as a user runs it."""
    result = subprocess.run([AWS, "--endpoint-url", emulator.url, "--output", "json", "secretsmanager",
                             "get-secret-value", "--secret-id", secret_id],
                            capture_output=True, text=True, env=cli_env(emulator), timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(json.loads(result.stdout)["SecretString"])


def settled(rds, name: str) -> dict:
    """The instance once it is available with its secret active."""
    def ready():
        found = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        secret = found.get("MasterUserSecret", {"SecretStatus": "active"})
        return found if found["DBInstanceStatus"] == "available" and secret["SecretStatus"] == "active" else None
    return wait_for(ready, 120, f"{name} available, its secret active", interval=0.2)


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


def files_holding(root: pathlib.Path, needles: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{path}: {needle[:3]}..." for needle in needles if needle.encode() in data]
    return found


def test_a_managed_master_password_is_made_read_rotated_and_given_up(emulator_factory, rds_client):
    emulator = emulator_factory("process")
    rds, manager = rds_client(emulator), secrets_client(emulator)
    made = rds.create_db_instance(
        DBInstanceIdentifier="kept", Engine="mariadb", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
        MasterUsername="admin", ManageMasterUserPassword=True, MasterUserSecretKmsKeyId="alias/app-secrets",
        DBName="app")["DBInstance"]
    secret = made["MasterUserSecret"]
    assert secret["SecretArn"].startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-")
    assert secret["KmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert secret["SecretStatus"] == "creating"
    instance = settled(rds, "kept")
    assert instance["MasterUserSecret"] == {**secret, "SecretStatus": "active"}

    first = cli_secret(emulator, secret["SecretArn"])
    assert first["username"] == "admin" and len(first["password"]) == 28
    write_rows(instance["Endpoint"], "admin", first["password"], "app", ["one"])
    described = manager.describe_secret(SecretId=secret["SecretArn"])
    assert described["OwningService"] == "rds" and described["RotationEnabled"] is True
    assert described["KmsKeyId"] == secret["KmsKeyId"]
    assert {"Key": "aws:rds:primaryDBInstanceArn", "Value": instance["DBInstanceArn"]} in described["Tags"]
    listed = manager.list_secrets(Filters=[{"Key": "owning-service", "Values": ["rds"]}])["SecretList"]
    assert [entry["ARN"] for entry in listed] == [secret["SecretArn"]]
    by_name = manager.get_secret_value(SecretId=described["Name"])
    assert json.loads(by_name["SecretString"]) == first and by_name["VersionStages"] == ["AWSCURRENT"]

    # two rotations at once: one is taken, the other told the instance is busy, and the secret stays whole
    def rotate():
        try:
            rds.modify_db_instance(DBInstanceIdentifier="kept", RotateMasterUserPassword=True, ApplyImmediately=True)
            return "rotated"
        except ClientError as error:
            return error.response["Error"]["Code"]
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(lambda _: rotate(), range(2)))
    assert outcomes == ["InvalidDBInstanceState", "rotated"]
    instance = settled(rds, "kept")
    second = json.loads(manager.get_secret_value(SecretId=secret["SecretArn"])["SecretString"])
    previous = json.loads(manager.get_secret_value(SecretId=secret["SecretArn"],
                                                   VersionStage="AWSPREVIOUS")["SecretString"])
    assert previous == first and second["password"] != first["password"]
    assert read_rows(instance["Endpoint"], "admin", second["password"], "app") == ["one"]
    assert refused(instance["Endpoint"], "admin", first["password"])
    assert len(manager.list_secret_version_ids(SecretId=secret["SecretArn"])["Versions"]) == 2
    events = [event["Message"] for event in rds.describe_events(SourceIdentifier="kept",
                                                                 SourceType="db-instance")["Events"]]
    assert "Reset master credentials" in events

    # what each can get wrong, answered with the service's codes
    assert code_of(rds.modify_db_instance, DBInstanceIdentifier="kept", RotateMasterUserPassword=True) == \
        "InvalidParameterCombination"
    assert code_of(rds.modify_db_instance, DBInstanceIdentifier="kept", MasterUserPassword=OWN) == \
        "InvalidParameterCombination"
    assert code_of(rds.create_db_instance, DBInstanceIdentifier="both", Engine="mariadb",
                   DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="admin",
                   MasterUserPassword=OWN, ManageMasterUserPassword=True) == "InvalidParameterCombination"
    assert code_of(rds.create_db_instance, DBInstanceIdentifier="elsewhere", Engine="mariadb",
                   DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="admin",
                   ManageMasterUserPassword=True,
                   MasterUserSecretKmsKeyId="arn:aws:kms:eu-west-1:999999999999:key/"
                                            "0b8a7c55-1d2e-4f3a-9b8c-7d6e5f4a3b2c") == "KMSKeyNotAccessibleFault"
    assert code_of(manager.get_secret_value, SecretId="rds!db-nothing") == "ResourceNotFoundException"
    assert code_of(manager.put_secret_value, SecretId=secret["SecretArn"], SecretString="{}") == \
        "InvalidRequestException"
    assert code_of(manager.create_secret, Name="mine", SecretString="x") == "InvalidRequestException"

    rds.modify_db_instance(DBInstanceIdentifier="kept", ManageMasterUserPassword=False, MasterUserPassword=OWN,
                           ApplyImmediately=True)
    instance = settled(rds, "kept")
    assert "MasterUserSecret" not in instance
    assert code_of(manager.describe_secret, SecretId=secret["SecretArn"]) == "ResourceNotFoundException"
    assert read_rows(instance["Endpoint"], "admin", OWN, "app") == ["one"]
    assert refused(instance["Endpoint"], "admin", second["password"])

    emulator.stop()  # every file flushed: the log, the store, the server's logs
    assert files_holding(emulator.data_dir, [first["password"], second["password"]]) == []
