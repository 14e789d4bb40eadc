"""Signed requests against the real server, on by default: boto3 and the AWS CLI with the data directory's
key (shown by `rds-emulator credentials`) and with wrong ones, a GET signed in its query string as old SDKs
send it, and our own signing client; `--auth off` takes anything."""

import os
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from compat.query_client import QueryClient, QueryError
from tests.compat.test_awscli import AWS


def client(emulator, access_key, secret):
    return boto3.client("rds", endpoint_url=emulator.url, region_name="us-east-1", aws_access_key_id=access_key,
                        aws_secret_access_key=secret)


def code(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def aws_cli(emulator, access_key, secret):
    env = os.environ | {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret,
                        "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run([AWS, "--endpoint-url", emulator.url, "rds", "describe-db-instances"],
                          capture_output=True, text=True, env=env, timeout=120)


def test_boto3_and_the_aws_cli_sign_with_the_key_rds_emulator_credentials_shows(emulator_factory):
    emulator = emulator_factory("none")
    shown = subprocess.run([sys.executable, "-m", "emulator.cli", "credentials", "--data-dir", str(emulator.data_dir)],
                           capture_output=True, text=True, check=True).stdout
    exported = dict(line.removeprefix("export ").split("=", 1) for line in shown.splitlines())
    access_key, secret = exported["AWS_ACCESS_KEY_ID"], exported["AWS_SECRET_ACCESS_KEY"]
    assert client(emulator, access_key, secret).describe_db_instances()["DBInstances"] == []
    assert aws_cli(emulator, access_key, secret).returncode == 0

    assert code(client(emulator, access_key, "wrong" + secret[5:]).describe_db_instances) \
        == ("SignatureDoesNotMatch", 403)
    assert code(client(emulator, "AKIANOBODYKNOWS00000", secret).describe_db_instances) == ("InvalidClientTokenId", 403)
    wrong = aws_cli(emulator, access_key, "wrong" + secret[5:])
    assert wrong.returncode != 0 and "SignatureDoesNotMatch" in wrong.stderr
    assert secret not in emulator.log.read_text()  # nor in the server's log


def test_a_get_signed_in_its_query_string_and_our_own_client(emulator_factory):
    emulator = emulator_factory("none")
    keys = emulator.credentials()
    request = AWSRequest(method="GET", url=f"{emulator.url}/?Action=DescribeDBInstances&Version=2013-05-15")
    SigV4QueryAuth(Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"]), "rds",
                   "us-east-1").add_auth(request)
    with urllib.request.urlopen(request.url, timeout=10) as answer:
        assert answer.status == 200 and b"<DescribeDBInstancesResult>" in answer.read()
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(f"{emulator.url}/?Action=DescribeDBInstances", timeout=10)
    assert unsigned.value.code == 403 and b"MissingAuthenticationToken" in unsigned.value.read()

    ours = QueryClient(emulator.url, (keys["aws_access_key_id"], keys["aws_secret_access_key"]))
    assert ours.call("DescribeDBInstances") == {"DBInstances": None}
    stranger = QueryClient(emulator.url, ("AKIANOBODYKNOWS00000", "x"))
    with pytest.raises(QueryError) as refused:
        stranger.call("DescribeDBInstances")
    assert refused.value.code == "InvalidClientTokenId"


def test_with_auth_off_any_key_goes(emulator_factory):
    emulator = emulator_factory("none", None, "--auth", "off")
    assert client(emulator, "test", "test").describe_db_instances()["DBInstances"] == []
    assert not (emulator.data_dir / "access.key").exists()
