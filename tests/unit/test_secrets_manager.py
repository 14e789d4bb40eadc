"""Secrets Manager's JSON endpoint, beside RDS's Query one: what a client sends that is odd gets a JSON error
with Secrets Manager's codes, never a 500; unsigned requests are refused when signing is on."""

import itertools
import json
from datetime import timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.test import Client

from emulator.config import Settings
from emulator.host import credentials
from emulator.protocol.shapes import SECRETS_MANAGER
from emulator.runtime import boot
from scheduler import jobs
from tests.api_client import NS
from tests.emulator_process import wait_for

ODD = [None, "", "x", 0, -1, 10**30, 1.5, True, [], {}, ["x"], {"a": "b"}, "é\u0661", "a\x00b", "x" * 70000,
       "AWSCURRENT", "AWSPREVIOUS", "rds!db-"]
CREATE = {"Action": "CreateDBInstance", "DBInstanceIdentifier": "kept", "DBInstanceClass": "db.t3.micro",
          "Engine": "mysql", "AllocatedStorage": "20", "MasterUsername": "admin",
          "ManageMasterUserPassword": "true"}


def call(client, action, body, headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post("/", data=raw, headers={"X-Amz-Target": f"secretsmanager.{action}",
                                                   "Content-Type": "application/x-amz-json-1.1", **(headers or {})})
    return response.status_code, json.loads(response.data)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    runtime = boot(Settings(data_dir=tmp_path_factory.mktemp("secrets"), driver="none", auth="off"), schedule=False)
    client = Client(runtime.app)
    answer = client.post("/", data=CREATE).data.decode()
    arn = answer.split("<SecretArn>")[1].split("</SecretArn>")[0]
    yield client, arn
    runtime.close()


def test_the_managed_secret_reads_as_secrets_manager_gives_it(served):
    client, arn = served
    status, value = call(client, "GetSecretValue", {"SecretId": arn})
    assert status == 200 and value["ARN"] == arn and value["VersionStages"] == ["AWSCURRENT"]
    assert set(json.loads(value["SecretString"])) == {"username", "password"}
    assert isinstance(value["CreatedDate"], float)
    status, page = call(client, "ListSecrets", {"MaxResults": 1})
    assert status == 200 and [entry["ARN"] for entry in page["SecretList"]] == [arn] and "NextToken" not in page
    assert call(client, "ListSecrets", {"Filters": [{"Key": "name", "Values": ["!rds!"]}]})[1]["SecretList"] == []


@pytest.mark.parametrize(("body", "code"), [
    (b"{not json", "SerializationException"),
    ([], "SerializationException"),
    ({"SecretId": 5}, "SerializationException"),
    ({}, "InvalidParameterException"),
    ({"SecretId": "rds!db-none"}, "ResourceNotFoundException"),
])
def test_a_bad_request_gets_a_json_error(served, body, code):
    status, error = call(served[0], "GetSecretValue", body)
    assert (status, error["__type"]) == (400, code)


def test_an_unknown_target_and_other_services_are_refused(served):
    client = served[0]
    response = client.post("/", data=b"{}", headers={"X-Amz-Target": "kms.Decrypt"})
    assert (response.status_code, json.loads(response.data)["__type"]) == (400, "UnknownOperationException")
    assert call(client, "ListSecrets", {"NextToken": "LTE="})[1]["__type"] == "InvalidNextTokenException"


@pytest.mark.parametrize("action", sorted(SECRETS_MANAGER.operations))
def test_odd_values_in_every_member_get_json_and_never_a_500(served, action):
    client, arn = served
    operation = SECRETS_MANAGER.operations[action]
    base = {name: arn if name == "SecretId" else "x" for name in operation.input.required}
    for name, value in itertools.product(operation.input.members, ODD):
        status, answer = call(client, action, base | {name: value})
        assert status < 500, (action, name, value, answer)
        assert status == 200 or "__type" in answer


def test_every_secrets_manager_request_is_signed(tmp_path):
    runtime = boot(Settings(data_dir=tmp_path, driver="none", auth="sigv4"), schedule=False)
    try:
        client = Client(runtime.app)
        status, error = call(client, "ListSecrets", {})
        assert (status, error["__type"]) == (403, "MissingAuthenticationTokenException")
        access_key, secret = credentials.data_dir_pair(tmp_path)
        request = AWSRequest(method="POST", url="http://localhost/", data=b"{}",
                             headers={"X-Amz-Target": "secretsmanager.ListSecrets",
                                      "Content-Type": "application/x-amz-json-1.1"})
        SigV4Auth(Credentials(access_key, secret), "secretsmanager", "us-east-1").add_auth(request)
        assert call(client, "ListSecrets", b"{}", dict(request.headers)) == (200, {"SecretList": []})
        wrong = dict(request.headers) | {"X-Amz-Date": request.headers["X-Amz-Date"][:-3] + "00Z"}
        assert call(client, "ListSecrets", b"{}", wrong)[1]["__type"] == "InvalidSignatureException"
    finally:
        runtime.close()


def test_a_managed_password_is_rotated_every_seven_days_once(api, clock):
    create = CREATE | {"DBInstanceIdentifier": "weekly"}
    arn = api.ok(**create).findtext(f".//{NS}MasterUserSecret/{NS}SecretArn")
    api.wait_available("weekly")
    wait_for(lambda: secret_status(api, "weekly") == "active", 10, "the secret to be active")
    first = call(api.client, "GetSecretValue", {"SecretId": arn})[1]
    ctx = api.runtime.ctx
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    jobs.secret_rotations(ctx)
    assert secret_status(api, "weekly") == "active"
    clock.advance(timedelta(seconds=1))
    jobs.secret_rotations(ctx)
    jobs.secret_rotations(ctx)  # a second look while it is under way, or after, queues nothing more
    wait_for(lambda: secret_status(api, "weekly") == "active", 10, "the rotation to end")
    jobs.secret_rotations(ctx)
    second = call(api.client, "GetSecretValue", {"SecretId": arn})[1]
    assert second["VersionId"] != first["VersionId"]
    assert json.loads(second["SecretString"])["password"] != json.loads(first["SecretString"])["password"]
    described = call(api.client, "DescribeSecret", {"SecretId": arn})[1]
    assert described["LastRotatedDate"] == (clock.now()).timestamp()
    assert described["VersionIdsToStages"] == {second["VersionId"]: ["AWSCURRENT"],
                                               first["VersionId"]: ["AWSPREVIOUS"]}
    events = api.ok(Action="DescribeEvents", SourceIdentifier="weekly", SourceType="db-instance")
    assert [e.text for e in events.iter(f"{NS}Message")].count("Reset master credentials") == 1


def secret_status(api, identifier):
    found = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier)
    return found.findtext(f".//{NS}MasterUserSecret/{NS}SecretStatus")
