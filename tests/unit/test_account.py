"""What inventory tools read of an account: the families we have none of answer an empty list (and their
not-found error for a named resource), DescribeAccountAttributes gives the quotas with this host's limits and
what is used, and the store holds the quotas when many clients reach one at once."""

from collections import Counter

import pytest

from emulator.api.inventory import INVENTORY
from emulator.model import quotas
from emulator.protocol.shapes import RDS
from tests.api_client import NS
from tests.together import all_at_once


@pytest.mark.parametrize("action", sorted(INVENTORY))
def test_a_family_we_have_none_of_lists_empty(api, action):
    operation = RDS.operations[action]
    listed = next(name for name, (shape, _) in operation.output.members.items() if shape.type == "list")
    root = api.ok(Action=action)
    element = root.find(f".//{NS}{listed}")
    assert element is not None and len(element) == 0
    named = [name for name in operation.input.members if name not in ("Filters", "MaxRecords", "Marker")]
    if action != "DescribeDBRecommendations":
        message = api.error(404,
                            _code(action), Action=action, **{_identifier(action, named): "nothing-here"})
        assert "nothing-here" in message
    api.error(400, "InvalidParameterValue", Action=action, MaxRecords="5")


def _identifier(action: str, named: list[str]) -> str:
    return {"DescribeDBClusterSnapshots": "DBClusterSnapshotIdentifier",
            "DescribeDBClusterEndpoints": "DBClusterIdentifier",
            "DescribeDBClusterAutomatedBackups": "DBClusterIdentifier",
            "DescribeExportTasks": "ExportTaskIdentifier",
            "DescribeReservedDBInstances": "ReservedDBInstanceId"}.get(action, named[0])


def _code(action: str) -> str:
    return {"DescribeDBClusters": "DBClusterNotFoundFault", "DescribeDBClusterSnapshots":
            "DBClusterSnapshotNotFoundFault", "DescribeDBClusterParameterGroups": "DBParameterGroupNotFound",
            "DescribeDBClusterEndpoints": "DBClusterNotFoundFault",
            "DescribeDBClusterAutomatedBackups": "DBClusterAutomatedBackupNotFoundFault",
            "DescribeDBProxies": "DBProxyNotFoundFault", "DescribeGlobalClusters": "GlobalClusterNotFoundFault",
            "DescribeBlueGreenDeployments": "BlueGreenDeploymentNotFoundFault",
            "DescribeDBShardGroups": "DBShardGroupNotFound", "DescribeEventSubscriptions": "SubscriptionNotFound",
            "DescribeReservedDBInstances": "ReservedDBInstanceNotFound", "DescribeExportTasks": "ExportTaskNotFound",
            "DescribeIntegrations": "IntegrationNotFoundFault"}[action]


def quotas_of(api) -> dict[str, tuple[int, int]]:
    root = api.ok(Action="DescribeAccountAttributes")
    return {quota.findtext(f"{NS}AccountQuotaName"): (int(quota.findtext(f"{NS}Used")), int(quota.findtext(f"{NS}Max")))
            for quota in root.iter(f"{NS}AccountQuota")}


def test_account_attributes_give_the_limits_and_what_is_used(api):
    before = quotas_of(api)
    assert before["DBInstances"] == (0, 19999 - 13306 + 1)
    assert before["AllocatedStorage"][0] == 0 and before["AllocatedStorage"][1] > 2 ** 30
    api.create("db1", AllocatedStorage="30")
    api.ok(Action="CreateDBParameterGroup", DBParameterGroupName="mine", DBParameterGroupFamily="mysql9.7",
           Description="d")
    after = quotas_of(api)
    assert after["DBInstances"][0] == 1 and after["AllocatedStorage"][0] == 30 * 2 ** 30
    assert after["DBParameterGroups"] == (before["DBParameterGroups"][0] + 1, 50)
    assert after["ReadReplicasPerMaster"] == (0, 15)


def test_a_quota_reached_by_clients_at_once_lets_exactly_the_rest_in(api):
    limit = quotas.LIMITS["DBParameterGroups"]
    used = quotas_of(api)["DBParameterGroups"][0]
    for n in range(limit - used - 2):
        api.ok(Action="CreateDBParameterGroup", DBParameterGroupName=f"g{n}", DBParameterGroupFamily="mysql9.7",
               Description="d")

    def create(name: str) -> str:
        response, root = api.call(Action="CreateDBParameterGroup", DBParameterGroupName=name,
                                  DBParameterGroupFamily="mysql9.7", Description="d")
        return "made" if response.status_code == 200 else root.findtext(f"{NS}Error/{NS}Code")

    outcomes = Counter(all_at_once(create, [f"racer{n}" for n in range(6)]))
    assert outcomes == {"made": 2, "DBParameterGroupQuotaExceeded": 4}
    assert quotas_of(api)["DBParameterGroups"] == (limit, limit)


def test_valid_modifications_are_what_modify_takes(api):
    api.create("gp3db", StorageType="gp3", AllocatedStorage="500")
    api.wait_available("gp3db")
    found = api.ok(Action="DescribeValidDBInstanceModifications", DBInstanceIdentifier="gp3db")
    options = found.find(f".//{NS}ValidStorageOptions")
    assert options.findtext(f"{NS}StorageType") == "gp3"
    size = options.find(f"{NS}StorageSize/{NS}Range")
    assert (size.findtext(f"{NS}From"), size.findtext(f"{NS}To")) == ("500", "65536")
    iops = options.find(f"{NS}ProvisionedIops/{NS}Range")
    assert (iops.findtext(f"{NS}From"), iops.findtext(f"{NS}To")) == ("12000", "64000")
    # the top of each range is taken, and one past it is not
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="gp3db", Iops="64000", StorageThroughput="4000",
           ApplyImmediately="true")
    api.error(400, "InvalidParameterValue", Action="ModifyDBInstance", DBInstanceIdentifier="gp3db",
              AllocatedStorage="65537")
    api.error(404, "DBInstanceNotFound", Action="DescribeValidDBInstanceModifications",
              DBInstanceIdentifier="nothing")


def test_max_allocated_storage_is_kept_changed_and_turned_off(api):
    def limit(identifier):
        return api.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier).findtext(
            f".//{NS}MaxAllocatedStorage")

    api.create("growing", AllocatedStorage="20", MaxAllocatedStorage="100")
    assert limit("growing") == "100"
    api.wait_available("growing")
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="growing", MaxAllocatedStorage="200")
    assert limit("growing") == "200"
    api.error(400, "InvalidParameterValue", Action="ModifyDBInstance", DBInstanceIdentifier="growing",
              MaxAllocatedStorage="10")
    api.error(400, "InvalidParameterValue", Action="CreateDBInstance", DBInstanceIdentifier="too-big",
              DBInstanceClass="db.t3.micro", Engine="mysql", AllocatedStorage="20", MasterUsername="admin",
              MasterUserPassword="secret123", MaxAllocatedStorage="70000")
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="growing", MaxAllocatedStorage="20")
    assert limit("growing") is None  # the allocated storage itself turns autoscaling off, as on RDS


def test_endpoints_report_the_address_clients_reach(tmp_path):
    from emulator.config import Settings
    from emulator.runtime import boot
    from tests.api_client import Api

    runtime = boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off", endpoint_address="127.0.0.9"),
                   schedule=False)
    try:
        api = Api(runtime)
        api.create("boxed")
        api.wait_available("boxed")
        found = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="boxed")
        assert found.findtext(f".//{NS}Endpoint/{NS}Address") == "127.0.0.9"
    finally:
        runtime.close()
