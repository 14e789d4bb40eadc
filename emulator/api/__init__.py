"""The API: one module per resource family; every handler is handler(ctx, request dict) -> result dict."""

from . import engines, events, instances, logs, parameter_groups, subnet_groups, tags

ACTIONS = {
    "AddTagsToResource": tags.add,
    "CopyDBParameterGroup": parameter_groups.copy,
    "CreateDBInstance": instances.create,
    "CreateDBParameterGroup": parameter_groups.create,
    "CreateDBSubnetGroup": subnet_groups.create,
    "DeleteDBInstance": instances.delete,
    "DeleteDBParameterGroup": parameter_groups.delete,
    "DeleteDBSubnetGroup": subnet_groups.delete,
    "DescribeDBEngineVersions": engines.describe_versions,
    "DescribeDBInstances": instances.describe,
    "DescribeDBLogFiles": logs.describe,
    "DescribeDBParameterGroups": parameter_groups.describe,
    "DescribeDBParameters": parameter_groups.describe_parameters,
    "DescribeDBSubnetGroups": subnet_groups.describe,
    "DescribeEngineDefaultParameters": parameter_groups.describe_engine_defaults,
    "DescribeEventCategories": events.describe_categories,
    "DescribeEvents": events.describe,
    "DescribeOrderableDBInstanceOptions": engines.describe_orderable,
    "DownloadDBLogFilePortion": logs.download,
    "ListTagsForResource": tags.list_tags,
    "ModifyDBInstance": instances.modify,
    "ModifyDBParameterGroup": parameter_groups.modify,
    "ModifyDBSubnetGroup": subnet_groups.modify,
    "RebootDBInstance": instances.reboot,
    "RemoveTagsFromResource": tags.remove,
    "ResetDBParameterGroup": parameter_groups.reset,
    "StartDBInstance": instances.start,
    "StopDBInstance": instances.stop,
}
