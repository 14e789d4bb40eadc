"""boto3 as infrastructure tools use it: the VPC members of every instance, provisioned storage figures,
the members such tools send by default, and DB subnet groups with RDS's rules. Every response is also
checked by tests/compat/reading.py (the client fixture's hook)."""

import pytest

from tests.compat import reading

BASE = {"DBInstanceClass": "db.t3.micro", "Engine": "mysql", "MasterUsername": "admin",
        "MasterUserPassword": "password1"}
SUBNETS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]


@pytest.fixture
def client(emulator_factory, rds_client):
    return rds_client(emulator_factory(driver="none"))


def test_every_instance_reports_its_vpc_and_storage_performance(client):
    plain = client.create_db_instance(DBInstanceIdentifier="plain", AllocatedStorage=20, **BASE)["DBInstance"]
    group = plain["DBSubnetGroup"]
    assert group["DBSubnetGroupName"] == "default" and group["VpcId"].startswith("vpc-")
    zones = [s["SubnetAvailabilityZone"]["Name"] for s in group["Subnets"]]
    assert zones == [f"us-east-1{z}" for z in "abcdef"]
    [security] = plain["VpcSecurityGroups"]
    assert security["VpcSecurityGroupId"].startswith("sg-") and security["Status"] == "active"
    assert "Iops" not in plain and "StorageThroughput" not in plain
    small = client.create_db_instance(DBInstanceIdentifier="small", AllocatedStorage=200, StorageType="gp3",
                                      **BASE)["DBInstance"]
    assert (small["Iops"], small["StorageThroughput"]) == (3000, 125)
    large = client.create_db_instance(DBInstanceIdentifier="large", AllocatedStorage=400, StorageType="gp3",
                                      StorageThroughput=1000, Iops=16000, **BASE)["DBInstance"]
    assert (large["Iops"], large["StorageThroughput"]) == (16000, 1000)
    io1 = client.create_db_instance(DBInstanceIdentifier="piops", AllocatedStorage=100, StorageType="io1",
                                    Iops=3000, **BASE)["DBInstance"]
    assert io1["Iops"] == 3000
    listed = client.describe_db_instances()["DBInstances"]
    assert {i["DBInstanceIdentifier"]: i.get("Iops") for i in listed} == {
        "large": 16000, "piops": 3000, "plain": None, "small": 3000}
    client.get_waiter("db_instance_available").wait(DBInstanceIdentifier="small", WaiterConfig={"Delay": 1})
    grown = client.modify_db_instance(DBInstanceIdentifier="small", AllocatedStorage=500, ApplyImmediately=True)
    assert grown["DBInstance"]["PendingModifiedValues"]["Iops"] == 12000
    with pytest.raises(client.exceptions.ClientError) as caught:
        client.create_db_instance(DBInstanceIdentifier="bad", AllocatedStorage=200, StorageType="gp3", Iops=5000,
                                  **BASE)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert "storage size less than 400" in caught.value.response["Error"]["Message"]


def test_members_tools_send_by_default_are_accepted_and_reported(client):
    made = client.create_db_instance(
        DBInstanceIdentifier="tool", AllocatedStorage=20, StorageType="gp3", MultiAZ=False, StorageEncrypted=False,
        EnableIAMDatabaseAuthentication=False, EnablePerformanceInsights=False, MonitoringInterval=0,
        CACertificateIdentifier="rds-ca-rsa2048-g1", NetworkType="IPV4", EnableCloudwatchLogsExports=[],
        VpcSecurityGroupIds=["sg-0123456789abcdef0"], Iops=3000, StorageThroughput=125, **BASE,
    )["DBInstance"]
    assert made["VpcSecurityGroups"] == [{"VpcSecurityGroupId": "sg-0123456789abcdef0", "Status": "active"}]
    assert (made["MultiAZ"], made["StorageEncrypted"], made["NetworkType"]) == (False, False, "IPV4")
    with pytest.raises(client.exceptions.ClientError) as caught:
        client.create_db_instance(DBInstanceIdentifier="x", AllocatedStorage=20, EnablePerformanceInsights=True,
                                  **BASE)
    assert "EnablePerformanceInsights" in caught.value.response["Error"]["Message"]


def test_subnet_groups_as_rds_keeps_them(client):
    made = client.create_db_subnet_group(
        DBSubnetGroupName="App-Subnets", DBSubnetGroupDescription="for the app", SubnetIds=SUBNETS,
        Tags=[{"Key": "team", "Value": "data"}],
    )["DBSubnetGroup"]
    assert made["DBSubnetGroupName"] == "app-subnets"
    assert [s["SubnetIdentifier"] for s in made["Subnets"]] == SUBNETS
    assert len({s["SubnetAvailabilityZone"]["Name"] for s in made["Subnets"]}) == 2
    arn = made["DBSubnetGroupArn"]
    assert client.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "team", "Value": "data"}]
    with pytest.raises(client.exceptions.DBSubnetGroupAlreadyExistsFault):
        client.create_db_subnet_group(DBSubnetGroupName="app-subnets", DBSubnetGroupDescription="x",
                                      SubnetIds=SUBNETS)
    with pytest.raises(client.exceptions.DBSubnetGroupDoesNotCoverEnoughAZs):
        client.create_db_subnet_group(DBSubnetGroupName="one", DBSubnetGroupDescription="x", SubnetIds=SUBNETS[:1])
    with pytest.raises(client.exceptions.InvalidSubnet):
        client.create_db_subnet_group(DBSubnetGroupName="odd", DBSubnetGroupDescription="x",
                                      SubnetIds=["nonsense", "subnet-0a1b2c3d4e5f60009"])
    for n in range(25):
        client.create_db_subnet_group(DBSubnetGroupName=f"g{n:02d}", DBSubnetGroupDescription="x", SubnetIds=SUBNETS)
    pages = list(client.get_paginator("describe_db_subnet_groups").paginate(PaginationConfig={"PageSize": 20}))
    names = [g["DBSubnetGroupName"] for page in pages for g in page["DBSubnetGroups"]]
    assert names == ["default", "app-subnets"] + [f"g{n:02d}" for n in range(25)]

    used = client.create_db_instance(DBInstanceIdentifier="inside", AllocatedStorage=20,
                                     DBSubnetGroupName="app-subnets", **BASE)["DBInstance"]
    assert used["DBSubnetGroup"]["DBSubnetGroupName"] == "app-subnets"
    changed = client.modify_db_subnet_group(DBSubnetGroupName="app-subnets", DBSubnetGroupDescription="changed",
                                            SubnetIds=SUBNETS + ["subnet-0a1b2c3d4e5f60003"])["DBSubnetGroup"]
    assert changed["DBSubnetGroupDescription"] == "changed" and len(changed["Subnets"]) == 3
    described = client.describe_db_instances(DBInstanceIdentifier="inside")["DBInstances"][0]
    assert described["DBSubnetGroup"]["DBSubnetGroupDescription"] == "changed"
    with pytest.raises(client.exceptions.InvalidDBSubnetGroupStateFault):
        client.delete_db_subnet_group(DBSubnetGroupName="app-subnets")
    with pytest.raises(client.exceptions.InvalidDBSubnetGroupStateFault):
        client.delete_db_subnet_group(DBSubnetGroupName="default")
    with pytest.raises(client.exceptions.DBSubnetGroupNotFoundFault):
        client.create_db_instance(DBInstanceIdentifier="nowhere", AllocatedStorage=20, DBSubnetGroupName="ghost",
                                  **BASE)
    # as on RDS, an instance is deleted once it is available (its first backup done), not while it is made
    client.get_waiter("db_instance_available").wait(DBInstanceIdentifier="inside", WaiterConfig={"Delay": 1})
    client.delete_db_instance(DBInstanceIdentifier="inside", SkipFinalSnapshot=True)
    client.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier="inside", WaiterConfig={"Delay": 1})
    client.delete_db_subnet_group(DBSubnetGroupName="app-subnets")
    with pytest.raises(client.exceptions.DBSubnetGroupNotFoundFault):
        client.describe_db_subnet_groups(DBSubnetGroupName="app-subnets")


def test_the_reading_check_catches_a_missing_member(client):
    made = client.create_db_instance(DBInstanceIdentifier="checked", AllocatedStorage=20, **BASE)
    model = client.meta.service_model.operation_model("CreateDBInstance")
    del made["DBInstance"]["DBSubnetGroup"]
    with pytest.raises(AssertionError, match="DBSubnetGroup"):
        reading.after_call(http_response=None, parsed=made, model=model)
    with pytest.raises(AssertionError, match="unknown to the model"):
        reading.after_call(http_response=None, parsed={"Error": {"Code": "Oops", "Message": "m"}}, model=model)
