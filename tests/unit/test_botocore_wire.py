"""The wire cannot drift from RDS: our shapes are the pinned botocore's, and requests and responses
round-trip through botocore's own Query serializer and parser."""

import ast
import json
import pathlib
from datetime import UTC, datetime

import botocore
import botocore.loaders
import botocore.model
import botocore.parsers
import botocore.serialize
import pytest

from emulator.api import ACTIONS, secrets
from emulator.protocol import query, xml
from emulator.protocol.shapes import RDS, SECRETS_MANAGER, Shape
from tools import gen_shapes

MODEL = botocore.loaders.Loader().load_service_model("rds", "service-2")
SERVICE = botocore.model.ServiceModel(MODEL, "rds")


def _compare(ours: Shape, theirs: botocore.model.Shape, path: str) -> None:
    assert ours.type == theirs.type_name, path
    if theirs.type_name == "structure":
        assert list(ours.members) == list(theirs.members), path
        for name, (member, location) in ours.members.items():
            assert location == theirs.members[name].serialization.get("name", name), f"{path}.{name}"
            _compare(member, theirs.members[name], f"{path}.{name}")
    elif theirs.type_name == "list":
        assert ours.member_name == theirs.member.serialization.get("name", "member"), path
        _compare(ours.member, theirs.member, f"{path}[]")


@pytest.mark.parametrize("action", sorted(RDS.operations))
def test_every_declared_shape_matches_botocore(action):
    operation = RDS.operations[action]
    theirs = SERVICE.operation_model(action)
    _compare(operation.input, theirs.input_shape, f"{action}.input")
    if theirs.output_shape is None:
        assert operation.output is None
    else:
        _compare(operation.output, theirs.output_shape, f"{action}.output")
        assert operation.result_wrapper == theirs.output_shape.serialization["resultWrapper"]


def test_the_vendored_model_is_the_pinned_botocore_whole():
    vendored = json.loads(gen_shapes.OUT.read_text())
    assert vendored["botocoreVersion"] == botocore.__version__, "run `make lock` (or tools/gen_shapes.py)"
    assert vendored == gen_shapes.build(MODEL, botocore.__version__)
    assert set(RDS.operations) == set(MODEL["operations"])
    assert set(ACTIONS) <= set(RDS.operations)


def test_the_vendored_secrets_manager_model_is_the_pinned_botocore_whole():
    vendored = json.loads(gen_shapes.SECRETS_OUT.read_text())
    assert vendored == gen_shapes.build_json(gen_shapes.installed_model("secretsmanager"), botocore.__version__)
    assert set(secrets.SERVED) <= set(SECRETS_MANAGER.operations)


def test_error_codes_carry_botocore_http_status():
    by_code = {
        shape["error"]["code"]: shape["error"]["httpStatusCode"]
        for shape in MODEL["shapes"].values()
        if "error" in shape and "code" in shape["error"]
    }
    assert len(by_code) > 100
    for code, status in by_code.items():
        assert RDS.errors[code].status == status, code
    assert RDS.errors["DBSubnetGroupNotFoundFault"].status == 404
    assert RDS.errors["MalformedQueryString"].status == 404
    assert not RDS.errors["InternalFailure"].sender


def _raised_codes() -> set[str]:
    """Every literal code passed to RdsError anywhere in the server."""
    codes = set()
    for path in pathlib.Path("emulator").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "RdsError" and node.args:
                if isinstance(node.args[0], ast.Constant):
                    codes.add(node.args[0].value)
    return codes


def test_every_error_code_we_raise_is_in_the_model():
    codes = _raised_codes()
    assert {"DBInstanceNotFound", "InvalidDBInstanceState", "UnsupportedOperation"} <= codes
    assert codes - set(RDS.errors) == set()


REQUESTS = [
    ("CreateDBInstance", {
        "DBInstanceIdentifier": "db1", "DBInstanceClass": "db.t3.micro", "Engine": "mysql",
        "AllocatedStorage": 20, "MasterUsername": "admin", "MasterUserPassword": "secret123",
        "MultiAZ": False, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    }),
    ("DescribeDBInstances", {
        "Filters": [{"Name": "engine", "Values": ["mysql", "mariadb"]}, {"Name": "db-instance-id", "Values": ["x"]}],
        "MaxRecords": 20, "Marker": "abc",
    }),
    ("DescribeEvents", {
        "SourceType": "db-instance", "SourceIdentifier": "db1", "EventCategories": ["backup", "creation"],
        "StartTime": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "Duration": 30,
    }),
    ("RemoveTagsFromResource", {"ResourceName": "arn:aws:rds:us-east-1:123456789012:db:db1", "TagKeys": ["a", "b"]}),
    ("ModifyDBInstance", {"DBInstanceIdentifier": "db1", "ApplyImmediately": True, "BackupRetentionPeriod": 0}),
]


@pytest.mark.parametrize(("action", "params"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_botocore_requests_parse_back_to_their_params(action, params):
    serialized = botocore.serialize.create_serializer("query").serialize_to_request(
        params, SERVICE.operation_model(action)
    )
    operation, parsed = query.parse({k: str(v) for k, v in serialized["body"].items()})
    assert operation.name == action
    assert parsed == params


RESULTS = [
    ("DescribeDBInstances", {
        "DBInstances": [{
            "DBInstanceIdentifier": "db1", "DBInstanceStatus": "available", "AllocatedStorage": 20,
            "Endpoint": {"Address": "127.0.0.1", "Port": 13306}, "MultiAZ": False,
            "InstanceCreateTime": datetime(2026, 1, 2, 3, 4, 5, 160000, tzinfo=UTC),
            "DBParameterGroups": [{"DBParameterGroupName": "default.mysql9.7", "ParameterApplyStatus": "in-sync"}],
            "VpcSecurityGroups": [], "PendingModifiedValues": {},
            "TagList": [{"Key": "a", "Value": "1"}],
        }],
        "Marker": "m",
    }),
    ("DescribeEvents", {"Events": [{
        "SourceIdentifier": "db1", "SourceType": "db-instance", "Message": "DB instance created",
        "EventCategories": ["creation"], "Date": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "SourceArn": "arn:aws:rds:us-east-1:123456789012:db:db1",
    }]}),
    ("DescribeEventCategories", {"EventCategoriesMapList": [
        {"SourceType": "db-parameter-group", "EventCategories": ["configuration change"]}
    ]}),
    ("ListTagsForResource", {"TagList": [{"Key": "a", "Value": "1"}]}),
]


@pytest.mark.parametrize(("action", "result"), RESULTS, ids=[r[0] for r in RESULTS])
def test_our_xml_parses_in_botocore_to_the_same_dict(action, result):
    body = xml.response(RDS.operations[action], result, "rid-42")
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": body.encode(), "headers": {}, "status_code": 200},
        SERVICE.operation_model(action).output_shape,
    )
    assert parsed.pop("ResponseMetadata")["RequestId"] == "rid-42"
    assert parsed == result


def test_our_error_xml_parses_in_botocore():
    from emulator.protocol.errors import RdsError

    body = xml.error_response(RdsError("DBInstanceNotFound", "DBInstance db1 not found."), "rid-7")
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": body.encode(), "headers": {}, "status_code": 404}, None
    )
    assert parsed["Error"]["Code"] == "DBInstanceNotFound"
    assert parsed["Error"]["Message"] == "DBInstance db1 not found."


def test_a_result_that_does_not_fit_the_model_is_caught():
    from tests.model_check import emitted_as_declared

    output = RDS.operations["DescribeDBInstances"].output
    emitted_as_declared(output, {"DBInstances": [{"AllocatedStorage": 20, "MultiAZ": False}]}, "ok")
    for wrong in ({"AllocatedStorage": "20"}, {"MultiAZ": "false"}, {"Allocated": 20}, {"TagList": {"a": "b"}}):
        with pytest.raises(AssertionError):
            emitted_as_declared(output, {"DBInstances": [wrong]}, "wrong")
