"""Many clients at once against real servers: 30 creates racing for ports, then a burst of reboots,
password changes and tag changes on a few instances, then deletes that leave nothing behind."""

from collections import Counter

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.drivers.process import SPARES
from tests.emulator_process import servers_under, wait_for
from tests.mysql_client import connect, refused
from tests.together import all_at_once

pytestmark = pytest.mark.mariadb
FAST = {"Delay": 1, "MaxAttempts": 180}


def outcome(call) -> str:
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "ok"


def test_thirty_creates_then_a_burst_then_deletes(emulator_factory):
    emulator = emulator_factory()

    def client():
        return boto3.client("rds", endpoint_url=emulator.url, region_name="us-east-1", **emulator.credentials())

    names = [f"crowd-{n}" for n in range(30)]
    created = all_at_once(lambda name: outcome(lambda: client().create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="mariadb", AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=f"pw-{name}")), names)
    assert created == ["ok"] * 30
    rds = client()
    for name in names:
        rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=name, WaiterConfig=FAST)
    instances = {i["DBInstanceIdentifier"]: i for i in rds.describe_db_instances()["DBInstances"]}
    endpoints = {(i["Endpoint"]["Address"], i["Endpoint"]["Port"]) for i in instances.values()}
    assert len(endpoints) == 30
    for name in names:
        connect(instances[name]["Endpoint"], "master", f"pw-{name}").close()
    assert len(emulator.server_pids()) == 30

    # the burst: every request at once, on three instances
    few = names[:3]
    requests = [(name, kind, n) for name in few for kind in ("reboot", "password", "tag") for n in range(4)]

    def send(request):
        name, kind, n = request
        rds = client()
        if kind == "reboot":
            return outcome(lambda: rds.reboot_db_instance(DBInstanceIdentifier=name))
        if kind == "password":
            return outcome(lambda: rds.modify_db_instance(
                DBInstanceIdentifier=name, MasterUserPassword=f"new-{name}-{n}", ApplyImmediately=True))
        arn = instances[name]["DBInstanceArn"]
        return outcome(lambda: rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": f"k{n}", "Value": "v"}]))

    results = all_at_once(send, requests)
    assert set(results) <= {"ok", "InvalidDBInstanceState"}, results
    for name in few:
        rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=name, WaiterConfig=FAST)
        mine = Counter((kind, result) for (who, kind, _), result in zip(requests, results, strict=True) if who == name)
        assert mine[("tag", "ok")] == 4
        events = Counter(e["Message"] for e in rds.describe_events(
            SourceType="db-instance", SourceIdentifier=name, Duration=60)["Events"])
        # one request of the burst reaches the store first and wins; the ones racing it are refused
        assert mine[("reboot", "ok")] + mine[("password", "ok")] >= 1
        assert events["DB instance restarted"] == mine[("reboot", "ok")]
        assert events["Reset master credentials"] == mine[("password", "ok")]
        accepted = [f"new-{name}-{n}" for (who, kind, n), result in zip(requests, results, strict=True)
                    if who == name and kind == "password" and result == "ok"]
        endpoint = instances[name]["Endpoint"]
        works = [p for p in accepted + [f"pw-{name}"] if not refused(endpoint, "master", p)]
        assert len(works) == 1 and (not accepted or works[0] in accepted)
        tags = rds.list_tags_for_resource(ResourceName=instances[name]["DBInstanceArn"])["TagList"]
        assert sorted(t["Key"] for t in tags) == ["k0", "k1", "k2", "k3"]
        home = emulator.data_dir / "servers" / instances[name]["DbiResourceId"]
        assert len(servers_under(home)) == 1, f"{name} has exactly one server"

    deleted = all_at_once(lambda name: outcome(lambda: client().delete_db_instance(
        DBInstanceIdentifier=name, SkipFinalSnapshot=True)), names * 2)
    # each instance is deleted once; the other request finds it deleting, or (when quick) already gone
    assert deleted.count("ok") == 30
    assert set(deleted) - {"ok"} <= {"InvalidDBInstanceState", "DBInstanceNotFound"}
    for name in names:
        rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=name, WaiterConfig=FAST)
    assert emulator.server_pids() == []
    # nothing of the instances; the spare copies of the ready data directory wait for the next creates
    left = [p.name for p in (emulator.data_dir / "servers").iterdir() if p.name != SPARES]
    assert left == []
    assert wait_for(lambda: rds.describe_db_instances()["DBInstances"] == [], 5, "no instance listed") is not None
