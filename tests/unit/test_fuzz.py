"""No input yields a 500 or anything but RDS's XML: every member of every action, fed odd values."""

import itertools
import random
import xml.etree.ElementTree as ET

import pytest
from werkzeug.test import Client

from emulator.api import ACTIONS
from emulator.config import Settings
from emulator.protocol.shapes import RDS
from emulator.runtime import boot
from tests.emulator_process import wait_for

ODD = ["", "x", "-1", "0", "99999999999999999999", "1.5", "true", "TRUE", "<a>&", "é", "arn:aws:rds:::db:",
       "arn:aws:rds:us-east-1:123456789012:db:", "mon:00:00-mon:00:30", "00:00-00:30", "db.t3.micro", "mysql",
       "a\x01b", "\u00b2", "\u0661", "9" * 5000, "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "nan", "inf",
       "x" * 70000, "gp3", "io1", "default", "subnet-0123456789abcdef0", "sg-0123456789abcdef0"]
NS = "{http://rds.amazonaws.com/doc/2014-10-31/}"
CREATE = {"Action": "CreateDBInstance", "DBInstanceIdentifier": "fuzzed", "DBInstanceClass": "db.t3.micro",
          "Engine": "mysql", "AllocatedStorage": "20", "MasterUsername": "admin", "MasterUserPassword": "password1"}
PLAUSIBLE = {"DBInstanceIdentifier": "fuzzed", "DBInstanceClass": "db.t3.micro", "Engine": "mysql",
             "ResourceName": "arn:aws:rds:us-east-1:123456789012:db:fuzzed", "DBParameterGroupName": "fuzzed-pg",
             "DBParameterGroupFamily": "mysql9.7", "Description": "fuzz", "LogFileName": "error/mysql-error.log",
             "SourceDBParameterGroupIdentifier": "fuzzed-pg", "TargetDBParameterGroupIdentifier": "fuzzed-copy",
             "TargetDBParameterGroupDescription": "fuzz", "SourceDBInstanceIdentifier": "fuzzed"}
GROUP = {"Action": "CreateDBParameterGroup", "DBParameterGroupName": "fuzzed-pg", "DBParameterGroupFamily": "mysql9.7",
         "Description": "fuzz"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    runtime = boot(Settings(data_dir=tmp_path_factory.mktemp("fuzz"), driver="none", auth="off"), schedule=False)
    yield Client(runtime.app)
    runtime.close()


def keys_for(name: str, shape) -> list[str]:
    """The flat keys a member can arrive under: itself, or its first list item (and that item's fields)."""
    if shape.type == "list":
        item = f"{name}.member.1"
        if shape.member.type == "structure":
            return [f"{item}.{field}" for field in shape.member.members]
        return [item]
    if shape.type == "structure":
        return [f"{name}.{field}" for field in shape.members]
    return [name]


def available_instance(client) -> None:
    """Handlers go deepest with a real instance to act on: make sure there is one, available."""
    def status() -> str | None:
        root = ET.fromstring(client.post("/", data={"Action": "DescribeDBInstances"}).data)
        found = {e.findtext(f"{NS}DBInstanceIdentifier"): e.findtext(f"{NS}DBInstanceStatus")
                 for e in root.iter(f"{NS}DBInstance")}
        return found.get("fuzzed")

    # an action fuzzed before may have left it being deleted or stopped: let that end first
    settled = wait_for(lambda: (found := status()) in (None, "available", "stopped") and (found or "gone"), 60,
                       "the fuzzed instance to settle")
    if settled == "gone":
        client.post("/", data=CREATE)
    client.post("/", data=GROUP)
    if settled == "stopped":
        client.post("/", data={"Action": "StartDBInstance", "DBInstanceIdentifier": "fuzzed"})
    wait_for(lambda: status() == "available", 60, "the fuzzed instance")


@pytest.mark.parametrize("action", sorted(set(RDS.operations) - set(ACTIONS)))
def test_an_action_we_do_not_serve_is_named_unsupported(client, action):
    response = client.post("/", data={"Action": action, "Whatever.member.1": "x"})
    assert response.status_code == 400
    root = ET.fromstring(response.data)
    assert root.findtext(f"{NS}Error/{NS}Code") == "UnsupportedOperation"
    message = root.findtext(f"{NS}Error/{NS}Message")
    assert f"{action} is an RDS action that RDS Emulator does not support yet" in message


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_odd_values_in_every_member_get_xml_and_never_a_500(client, action):
    available_instance(client)
    rng = random.Random(action)
    operation = RDS.operations[action]
    base = {"Action": action} | {k: v for k, v in PLAUSIBLE.items() if k in operation.input.required}
    if action == "CreateDBInstance":
        base = CREATE | {"DBInstanceIdentifier": "fuzzed-create"}
    keys = [key for name, (shape, _) in operation.input.members.items() for key in keys_for(name, shape)]
    cases = [base | {key: value} for key, value in itertools.product(keys, ODD)]
    cases += [base | {key: rng.choice(ODD) for key in rng.sample(keys, min(len(keys), 4))} for _ in range(50)]
    for fields in cases:
        response = client.post("/", data=fields)
        assert response.status_code < 500, (fields, response.data)
        root = ET.fromstring(response.data)
        assert root.tag.endswith("Response"), (fields, response.data)
