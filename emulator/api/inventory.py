"""The families this emulator has none of (Aurora clusters, proxies, global clusters, blue/green deployments,
shard groups, event subscriptions, reserved instances, exports, recommendations), as inventory and clean-up
tools read them on every account: an empty list, and each family's not-found error for a named resource.
Their writes stay UnsupportedOperation (api/__init__.py)."""

from collections.abc import Callable
from typing import Any

from emulator.api.paging import decode
from emulator.context import Context
from emulator.model import validation
from emulator.protocol.errors import RdsError, shown

Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]


def _empty(listed: str, named: str | None = None, code: str = "", what: str = "") -> Handler:
    """A Describe* of a family with no resource: `listed` is its list's member; `named` the member that
    names one resource, answered `code` ("<what> <name> not found.")."""

    def describe(_ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
        validation.max_records(request.get("MaxRecords"), 100)
        if request.get("Marker"):
            decode(request["Marker"])
        if named and request.get(named):
            raise RdsError(code, f"{what} {shown(request[named])} not found.")
        return {listed: []}

    return describe


INVENTORY: dict[str, Handler] = {
    "DescribeDBClusters": _empty("DBClusters", "DBClusterIdentifier", "DBClusterNotFoundFault", "DBCluster"),
    "DescribeDBClusterSnapshots": _empty("DBClusterSnapshots", "DBClusterSnapshotIdentifier",
                                         "DBClusterSnapshotNotFoundFault", "DBClusterSnapshot"),
    "DescribeDBClusterParameterGroups": _empty("DBClusterParameterGroups", "DBClusterParameterGroupName",
                                               "DBParameterGroupNotFound", "DBClusterParameterGroup"),
    "DescribeDBClusterEndpoints": _empty("DBClusterEndpoints", "DBClusterIdentifier", "DBClusterNotFoundFault",
                                         "DBCluster"),
    "DescribeDBClusterAutomatedBackups": _empty("DBClusterAutomatedBackups", "DBClusterIdentifier",
                                                "DBClusterAutomatedBackupNotFoundFault", "DBClusterAutomatedBackup"),
    "DescribeDBProxies": _empty("DBProxies", "DBProxyName", "DBProxyNotFoundFault", "DBProxy"),
    "DescribeGlobalClusters": _empty("GlobalClusters", "GlobalClusterIdentifier", "GlobalClusterNotFoundFault",
                                     "GlobalCluster"),
    "DescribeBlueGreenDeployments": _empty("BlueGreenDeployments", "BlueGreenDeploymentIdentifier",
                                           "BlueGreenDeploymentNotFoundFault", "BlueGreenDeployment"),
    "DescribeDBShardGroups": _empty("DBShardGroups", "DBShardGroupIdentifier", "DBShardGroupNotFound",
                                    "DBShardGroup"),
    "DescribeEventSubscriptions": _empty("EventSubscriptionsList", "SubscriptionName", "SubscriptionNotFound",
                                         "Event subscription"),
    "DescribeReservedDBInstances": _empty("ReservedDBInstances", "ReservedDBInstanceId",
                                          "ReservedDBInstanceNotFound", "Reserved DB instance"),
    "DescribeExportTasks": _empty("ExportTasks", "ExportTaskIdentifier", "ExportTaskNotFound", "Export task"),
    "DescribeDBRecommendations": _empty("DBRecommendations"),
    "DescribeIntegrations": _empty("Integrations", "IntegrationIdentifier", "IntegrationNotFoundFault",
                                   "Integration"),
}
