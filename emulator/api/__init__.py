"""The API: one module per resource family; every handler is handler(ctx, request dict) -> result dict."""

from . import engines, events, instances, subnet_groups, tags

ACTIONS = {
    "AddTagsToResource": tags.add,
    "CreateDBInstance": instances.create,
    "CreateDBSubnetGroup": subnet_groups.create,
    "DeleteDBInstance": instances.delete,
    "DeleteDBSubnetGroup": subnet_groups.delete,
    "DescribeDBEngineVersions": engines.describe_versions,
    "DescribeDBInstances": instances.describe,
    "DescribeDBSubnetGroups": subnet_groups.describe,
    "DescribeEventCategories": events.describe_categories,
    "DescribeEvents": events.describe,
    "DescribeOrderableDBInstanceOptions": engines.describe_orderable,
    "ListTagsForResource": tags.list_tags,
    "ModifyDBInstance": instances.modify,
    "ModifyDBSubnetGroup": subnet_groups.modify,
    "RebootDBInstance": instances.reboot,
    "RemoveTagsFromResource": tags.remove,
    "StartDBInstance": instances.start,
    "StopDBInstance": instances.stop,
}
