"""The API: one module per resource family; every handler is handler(ctx, request dict) -> result dict."""

from . import engines, events, instances, tags

ACTIONS = {
    "AddTagsToResource": tags.add,
    "CreateDBInstance": instances.create,
    "DeleteDBInstance": instances.delete,
    "DescribeDBEngineVersions": engines.describe_versions,
    "DescribeDBInstances": instances.describe,
    "DescribeEventCategories": events.describe_categories,
    "DescribeEvents": events.describe,
    "DescribeOrderableDBInstanceOptions": engines.describe_orderable,
    "ListTagsForResource": tags.list_tags,
    "ModifyDBInstance": instances.modify,
    "RebootDBInstance": instances.reboot,
    "RemoveTagsFromResource": tags.remove,
    "StartDBInstance": instances.start,
    "StopDBInstance": instances.stop,
}
