"""The XML serializer: element names, list member names, timestamps, booleans, escaping, errors."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from emulator.protocol import xml
from emulator.protocol.errors import RdsError
from emulator.protocol.shapes import RDS

NS = "{http://rds.amazonaws.com/doc/2014-10-31/}"


def test_response_envelope_lists_timestamps_and_booleans():
    body = xml.response(
        RDS.operations["DescribeDBInstances"],
        {
            "DBInstances": [
                {
                    "DBInstanceIdentifier": "a<b",
                    "MultiAZ": False,
                    "InstanceCreateTime": datetime(2009, 11, 6, 2, 19, 59, 160000, tzinfo=UTC),
                    "DBParameterGroups": [{"DBParameterGroupName": "default.mysql9.7"}],
                    "TagList": [{"Key": "k", "Value": "v"}],
                    "Endpoint": None,
                }
            ]
        },
        "rid-1",
    )
    root = ET.fromstring(body)
    assert root.tag == f"{NS}DescribeDBInstancesResponse"
    instance = root.find(f"{NS}DescribeDBInstancesResult/{NS}DBInstances/{NS}DBInstance")
    assert instance.findtext(f"{NS}DBInstanceIdentifier") == "a<b"
    assert instance.findtext(f"{NS}MultiAZ") == "false"
    assert instance.findtext(f"{NS}InstanceCreateTime") == "2009-11-06T02:19:59.160Z"
    assert instance.findtext(f"{NS}DBParameterGroups/{NS}DBParameterGroup/{NS}DBParameterGroupName") == (
        "default.mysql9.7"
    )
    assert instance.findtext(f"{NS}TagList/{NS}Tag/{NS}Key") == "k"
    assert instance.find(f"{NS}Endpoint") is None
    assert root.findtext(f"{NS}ResponseMetadata/{NS}RequestId") == "rid-1"


def test_action_without_output_has_only_metadata():
    root = ET.fromstring(xml.response(RDS.operations["AddTagsToResource"], {}, "rid"))
    assert [child.tag for child in root] == [f"{NS}ResponseMetadata"]


def test_error_response():
    root = ET.fromstring(xml.error_response(RdsError("DBInstanceNotFound", "DBInstance x not found."), "rid"))
    assert root.tag == f"{NS}ErrorResponse"
    assert root.findtext(f"{NS}Error/{NS}Type") == "Sender"
    assert root.findtext(f"{NS}Error/{NS}Code") == "DBInstanceNotFound"
    assert root.findtext(f"{NS}Error/{NS}Message") == "DBInstance x not found."
    assert root.findtext(f"{NS}RequestId") == "rid"


def test_receiver_faults():
    error = RdsError("InternalFailure", "x")
    assert (error.fault, error.status) == ("Receiver", 500)
