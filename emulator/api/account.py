"""DescribeAccountAttributes: RDS's quota names, with this host's limits and what the account uses of them."""

from collections import Counter
from typing import Any

from emulator.context import Context
from emulator.host import disk
from emulator.model import quotas

GIB = 1024 ** 3


def describe_attributes(ctx: Context, _request: dict[str, Any]) -> dict[str, Any]:
    """DBInstances: one port each, of the emulator's range; AllocatedStorage (bytes, as RDS counts it): the
    filesystem holding the data directory; the rest: RDS's default quotas, which the store keeps."""
    instances = ctx.store.list_instances()
    replicas = Counter(instance.replica_source for instance in instances if instance.replica_source)
    used = {
        "DBInstances": len(instances),
        "AllocatedStorage": sum(instance.allocated_storage for instance in instances) * GIB,
        "DBParameterGroups": len(ctx.store.list_parameter_groups()),
        "DBSecurityGroups": len(ctx.store.list_security_groups()),
        "DBSubnetGroups": len(ctx.store.list_subnet_groups()),
        "ManualSnapshots": len(ctx.store.list_snapshots(types=["manual"])),
        "OptionGroups": len(ctx.store.list_option_groups()),
        "ReadReplicasPerMaster": max(replicas.values(), default=0),
    }
    limits = {"DBInstances": len(ctx.settings.port_range), "AllocatedStorage": disk.size(ctx.settings.data_dir),
              **quotas.LIMITS}
    return {"AccountQuotas": [{"AccountQuotaName": name, "Used": count, "Max": limits[name]}
                              for name, count in used.items()]}
