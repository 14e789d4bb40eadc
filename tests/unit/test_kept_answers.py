"""DescribeDBInstances by identifier answers with the XML kept for the instance's state (emulator/written.py):
the same answer while nothing changes, and the new state as soon as anything does."""

import re
import threading
import time
import xml.etree.ElementTree as ET

from werkzeug.test import Client

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


def test_lookups_racing_tag_changes_never_go_back_to_an_older_state(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    deadline = time.monotonic() + 30
    seen: dict[int, list[int]] = {}

    def poll(n: int) -> None:
        """Until the last tag is seen (or the deadline passes)."""
        client = Client(api.runtime.app)
        seen[n] = [0]
        while seen[n][-1] < 20 and time.monotonic() < deadline:
            root = ET.fromstring(client.post("/", data={"Action": "DescribeDBInstances",
                                                        "DBInstanceIdentifier": "db1"}).data)
            seen[n].append(len(root.findall(f".//{NS}TagList/{NS}Tag")))

    pollers = [threading.Thread(target=poll, args=(n,)) for n in range(6)]
    for thread in pollers:
        thread.start()
    for n in range(20):
        api.ok(**{"Action": "AddTagsToResource", "ResourceName": ARN, "Tags.Tag.1.Key": f"k{n}",
                  "Tags.Tag.1.Value": "v"})
    for thread in pollers:
        thread.join()
    for counts in seen.values():
        assert counts == sorted(counts), "a lookup answered with fewer tags than one before it"
        assert counts[-1] == 20


def test_a_change_written_by_another_process_is_seen_at_the_next_lookup(api):
    """The reads keep their answers while SQLite's data_version stands still: a commit from a connection
    that is not the emulator's own (another emulator on a shared store, an operator's sqlite3) moves it."""
    import sqlite3

    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    assert described(api) == described(api)
    other = sqlite3.connect(api.runtime.ctx.settings.data_dir / "emulator.sqlite", isolation_level=None)
    try:
        for number in range(3):
            other.execute("UPDATE instances SET allocated_storage = ? WHERE identifier = 'db1'", (30 + number,))
            assert f"<AllocatedStorage>{30 + number}</AllocatedStorage>".encode() in described(api)
    finally:
        other.close()
