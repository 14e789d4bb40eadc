"""Input no real client sends: it gets an AWS-shaped 4xx, and never a 500, malformed XML or stored garbage."""

import xml.etree.ElementTree as ET

import pytest
from werkzeug.test import Client

from emulator.config import Settings
from emulator.protocol.errors import QUOTED
from emulator.runtime import boot
from emulator.web.bodies import MAX_BODY
from emulator.web.query import MAX_FIELDS

NS = "{http://rds.amazonaws.com/doc/2014-10-31/}"
CREATE = {"Action": "CreateDBInstance", "DBInstanceClass": "db.t3.micro", "Engine": "mysql",
          "AllocatedStorage": "20", "MasterUsername": "admin", "MasterUserPassword": "password1"}
ARN = "arn:aws:rds:us-east-1:123456789012:db:"


@pytest.fixture
def client(tmp_path):
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off"), schedule=False)
    yield Client(runtime.app)
    runtime.close()


def error(response, status: int = 400) -> tuple[str, str]:
    assert response.status_code == status, response.data
    root = ET.fromstring(response.data)  # well-formed, whatever was sent
    return root.findtext(f"{NS}Error/{NS}Code"), root.findtext(f"{NS}Error/{NS}Message")


@pytest.mark.parametrize("bad", ["a\x01b", "a\x00b", "\x1b[31m", "a\ufffeb"])
def test_characters_xml_forbids_are_refused_wherever_they_are_sent(client, bad):
    assert error(client.post("/", data=CREATE | {"DBInstanceIdentifier": "t", "Tags.Tag.1.Key": "k",
                                                  "Tags.Tag.1.Value": bad}))[0] == "InvalidParameterValue"
    assert error(client.post("/", data={"Action": "DescribeDBInstances", "DBInstanceIdentifier": bad}))[0] == (
        "InvalidParameterValue")
    assert error(client.post("/", data={"Action": bad}))[0] == "InvalidParameterValue"
    assert error(client.post("/", data={"Action": "DescribeDBInstances", bad: "x"}))[0] == "InvalidParameterValue"


def test_a_refused_tag_leaves_every_describe_well_formed(client):
    client.post("/", data=CREATE | {"DBInstanceIdentifier": "t"})
    client.post("/", data={"Action": "AddTagsToResource", "ResourceName": ARN + "t",
                           "Tags.Tag.1.Key": "k", "Tags.Tag.1.Value": "a\x01b"})
    body = client.post("/", data={"Action": "DescribeDBInstances"}).data
    assert ET.fromstring(body).find(f".//{NS}DBInstance") is not None
    assert b"\x01" not in body


@pytest.mark.parametrize("fields", [
    {"Action": "DescribeDBInstances", "Filters.member.\u00b2.Name": "engine",
     "Filters.member.\u00b2.Values.member.1": "x"},
    {"Action": "DescribeDBInstances", "Filters.member." + "9" * 5000 + ".Name": "engine"},
    {"Action": "DescribeDBInstances", "Filters.member.\u0661.Name": "engine"},
    {"Action": "DescribeEvents", "Marker": "YWZ0ZXI6wrI="},  # after:² in base64
    {"Action": "DescribeEvents", "Marker": "after:" + "9" * 5000},
    {"Action": "DescribeEvents", "MaxRecords": "9" * 5000},
    {"Action": "DescribeEvents", "Duration": "\u0661\u0662"},
    {"Action": "DescribeEvents", "StartTime": "9" * 400},
    {"Action": "DescribeEvents", "StartTime": "nan"},
    {"Action": "CreateDBInstance", "AllocatedStorage": "1e400"},
])
def test_odd_numbers_and_markers_get_a_4xx(client, fields):
    code, message = error(client.post("/", data=fields))
    assert code in ("InvalidParameterValue", "MissingParameter")
    assert len(message) < 400


def test_the_earliest_end_time_lists_nothing_instead_of_failing(client):
    response = client.post("/", data={"Action": "DescribeEvents", "EndTime": "0001-01-01T00:00:00Z"})
    assert response.status_code == 200, response.data
    response = client.post("/", data={"Action": "DescribeEvents", "EndTime": "0001-01-01T00:00:00Z", "Duration": "5"})
    assert response.status_code == 200, response.data


def test_an_oversized_value_is_quoted_only_in_part(client):
    huge = "x" * (MAX_BODY // 2)
    code, message = error(client.post("/", data={"Action": "DescribeDBInstances", "DBInstanceIdentifier": huge}), 404)
    assert code == "DBInstanceNotFound"
    assert len(message) < QUOTED + 100
    code, message = error(client.post("/", data={"Action": "ListTagsForResource", "ResourceName": "arn:" + huge}))
    assert code == "InvalidParameterValue"
    assert len(message) < QUOTED + 200


def test_bodies_and_field_counts_are_bounded(client):
    code, message = error(client.post("/", data=b"&" * (20 * 1024 * 1024),
                                      content_type="application/x-www-form-urlencoded"))
    assert code == "InvalidQueryParameter" and "larger than" in message
    many = "&".join(f"f{n}=" for n in range(MAX_FIELDS + 1))
    code, message = error(client.post("/", data="Action=DescribeDBInstances&" + many,
                                      content_type="application/x-www-form-urlencoded"))
    assert code == "InvalidQueryParameter" and "fields" in message
    code, _ = error(client.get("/?" + "&".join(f"f{n}=" for n in range(MAX_FIELDS + 1))))
    assert code == "InvalidQueryParameter"


def test_rds_tag_rules(client):
    client.post("/", data=CREATE | {"DBInstanceIdentifier": "t"})
    tags = {f"Tags.Tag.{n}.{part}": f"{part}{n}" for n in range(1, 51) for part in ("Key", "Value")}
    assert client.post("/", data={"Action": "AddTagsToResource", "ResourceName": ARN + "t", **tags}).status_code == 200
    more = {"Tags.Tag.1.Key": "one-more", "Tags.Tag.1.Value": "x"}
    code, message = error(client.post("/", data={"Action": "AddTagsToResource", "ResourceName": ARN + "t", **more}))
    assert code == "InvalidParameterValue" and "at most 50 tags" in message
    listed = ET.fromstring(client.post("/", data={"Action": "ListTagsForResource", "ResourceName": ARN + "t"}).data)
    assert len(listed.findall(f".//{NS}Tag")) == 50
    # updating a tag that exists is not one more
    same = {"Tags.Tag.1.Key": "Key7", "Tags.Tag.1.Value": "changed"}
    assert client.post("/", data={"Action": "AddTagsToResource", "ResourceName": ARN + "t", **same}).status_code == 200
    for key, value in (("k" * 129, "v"), ("aws:owner", "v"), ("k", "v" * 257)):
        code, _ = error(client.post("/", data=CREATE | {"DBInstanceIdentifier": "u", "Tags.Tag.1.Key": key,
                                                         "Tags.Tag.1.Value": value}))
        assert code == "InvalidParameterValue"
    code, _ = error(client.post("/", data=CREATE | {"DBInstanceIdentifier": "u", **{
        f"Tags.Tag.{n}.Key": f"k{n}" for n in range(1, 52)}}))
    assert code == "InvalidParameterValue"
