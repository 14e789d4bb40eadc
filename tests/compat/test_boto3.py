"""boto3 as the client: the whole life of an instance with waiters, and the paginators."""

import pymysql
import pytest

from tests.emulator_process import wait_for
from tests.mysql_client import connect, read_rows, refused, write_rows

FAST = {"Delay": 1, "MaxAttempts": 120}


@pytest.mark.mariadb
def test_instance_life_with_waiters(server_driver, served_engine, emulator_factory, rds_client):
    client = rds_client(emulator_factory(server_driver))
    created = client.create_db_instance(
        DBInstanceIdentifier="life", DBInstanceClass="db.t3.micro", Engine=served_engine[0], AllocatedStorage=20,
        MasterUsername="admin", MasterUserPassword="first-pass1", DBName="shop",
    )["DBInstance"]
    assert created["DBInstanceStatus"] == "creating"
    assert "MasterUserPassword" not in created["PendingModifiedValues"]

    client.get_waiter("db_instance_available").wait(DBInstanceIdentifier="life", WaiterConfig=FAST)
    endpoint = client.describe_db_instances(DBInstanceIdentifier="life")["DBInstances"][0]["Endpoint"]
    write_rows(endpoint, "admin", "first-pass1", "shop", ["one", "two"])

    assert client.reboot_db_instance(DBInstanceIdentifier="life")["DBInstance"]["DBInstanceStatus"] == "rebooting"
    client.get_waiter("db_instance_available").wait(DBInstanceIdentifier="life", WaiterConfig=FAST)
    assert read_rows(endpoint, "admin", "first-pass1", "shop") == ["one", "two"]

    client.stop_db_instance(DBInstanceIdentifier="life")
    stopped = wait_for(
        lambda: (i := client.describe_db_instances(DBInstanceIdentifier="life")["DBInstances"][0])[
            "DBInstanceStatus"] == "stopped" and i,
        60, "stopped",
    )
    assert stopped["AutomaticRestartTime"] > stopped["InstanceCreateTime"]
    with pytest.raises(pymysql.err.OperationalError):
        connect(endpoint, "admin", "first-pass1").close()
    client.start_db_instance(DBInstanceIdentifier="life")
    client.get_waiter("db_instance_available").wait(DBInstanceIdentifier="life", WaiterConfig=FAST)
    assert read_rows(endpoint, "admin", "first-pass1", "shop") == ["one", "two"]

    modified = client.modify_db_instance(
        DBInstanceIdentifier="life", MasterUserPassword="second-pass2", ApplyImmediately=True
    )["DBInstance"]
    assert modified["DBInstanceStatus"] == "resetting-master-credentials"
    assert modified["PendingModifiedValues"] == {"MasterUserPassword": "****"}
    client.get_waiter("db_instance_available").wait(DBInstanceIdentifier="life", WaiterConfig=FAST)
    assert read_rows(endpoint, "admin", "second-pass2", "shop") == ["one", "two"]
    assert refused(endpoint, "admin", "first-pass1")

    events = [e["Message"] for e in client.describe_events(
        SourceType="db-instance", SourceIdentifier="life")["Events"]]
    assert events == [
        "DB instance created", "Backing up DB instance", "Finished DB Instance backup",
        "DB instance shutdown", "DB instance restarted", "DB instance stopped",
        "DB instance started", "Reset master credentials",
    ]
    client.delete_db_instance(DBInstanceIdentifier="life", SkipFinalSnapshot=True)
    client.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier="life", WaiterConfig=FAST)
    with pytest.raises(client.exceptions.DBInstanceNotFoundFault):
        client.describe_db_instances(DBInstanceIdentifier="life")


def test_paginators_walk_every_instance_and_event(emulator_factory, rds_client):
    client = rds_client(emulator_factory(driver="none"))
    for i in range(45):
        client.create_db_instance(
            DBInstanceIdentifier=f"p{i:02d}", DBInstanceClass="db.t3.micro", Engine="mariadb",
            AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="password1",
        )
    pages = list(client.get_paginator("describe_db_instances").paginate(PaginationConfig={"PageSize": 20}))
    assert [len(page["DBInstances"]) for page in pages] == [20, 20, 5]
    names = [i["DBInstanceIdentifier"] for page in pages for i in page["DBInstances"]]
    assert names == [f"p{i:02d}" for i in range(45)]
    wait_for(
        lambda: all(i["DBInstanceStatus"] == "available" for i in client.describe_db_instances()["DBInstances"]),
        30, "every instance to be available",
    )
    events = [
        e for page in client.get_paginator("describe_events").paginate(PaginationConfig={"PageSize": 20})
        for e in page["Events"]
    ]
    assert sorted(e["SourceIdentifier"] for e in events if e["Message"] == "DB instance created") == names


def test_errors_reach_boto3_as_modeled_exceptions(emulator_factory, rds_client):
    client = rds_client(emulator_factory(driver="none"))
    with pytest.raises(client.exceptions.DBInstanceNotFoundFault) as caught:
        client.reboot_db_instance(DBInstanceIdentifier="ghost")
    assert caught.value.response["Error"]["Message"] == "DBInstance ghost not found."
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(client.exceptions.ClientError) as caught:
        client.create_db_instance(
            DBInstanceIdentifier="x", DBInstanceClass="db.t3.micro", Engine="mysql", AllocatedStorage=20,
            MasterUsername="admin", MasterUserPassword="short",
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
