"""DescribeDBInstances by identifier answers with the XML kept for the instance's state (emulator/written.py):
the same answer while nothing changes, and the new state as soon as anything does."""

import re

from tests.api_client import NS

ARN = "arn:aws:rds:us-east-1:123456789012:db:db1"


def described(api) -> bytes:
    response, _ = api.call(Action="DescribeDBInstances", DBInstanceIdentifier="db1")
    assert response.status_code == 200, response.data
    return re.sub(rb"<RequestId>[^<]*</RequestId>", b"", response.data)


def test_a_kept_answer_gives_way_to_each_change(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    first = described(api)
    assert described(api) == first
    api.ok(**{"Action": "AddTagsToResource", "ResourceName": ARN, "Tags.Tag.1.Key": "env",
              "Tags.Tag.1.Value": "test"})
    tagged = described(api)
    assert b"<Key>env</Key><Value>test</Value>" in tagged and b"<Key>env</Key>" not in first
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", ApplyImmediately="false",
           DBInstanceClass="db.m5.large", DeletionProtection="true")
    pending = described(api)
    assert b"<PendingModifiedValues><DBInstanceClass>db.m5.large</DBInstanceClass>" in pending
    assert b"<DeletionProtection>true</DeletionProtection>" in pending
    api.ok(Action="RemoveTagsFromResource", ResourceName=ARN, **{"TagKeys.member.1": "env"})
    untagged = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="db1")
    assert untagged.find(f".//{NS}TagList") is not None and list(untagged.find(f".//{NS}TagList")) == []
    assert untagged.findtext(f".//{NS}DeletionProtection") == "true"
