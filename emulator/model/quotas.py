"""RDS's default quotas that this emulator keeps (the store refuses past them, in the transaction that would
pass them), by the names DescribeAccountAttributes gives them, and the error each is refused with."""

from emulator.protocol.errors import RdsError

LIMITS = {
    "DBParameterGroups": 50,
    "DBSecurityGroups": 25,
    "DBSubnetGroups": 50,
    "ManualSnapshots": 100,
    "ReadReplicasPerMaster": 15,
    "OptionGroups": 20,
}
_REFUSED = {
    "DBParameterGroups": ("DBParameterGroupQuotaExceeded", "DB parameter groups"),
    "DBSecurityGroups": ("QuotaExceeded.DBSecurityGroup", "DB security groups"),
    "DBSubnetGroups": ("DBSubnetGroupQuotaExceeded", "DB subnet groups"),
    "ManualSnapshots": ("SnapshotQuotaExceeded", "manual DB snapshots"),
    "OptionGroups": ("OptionGroupQuotaExceededFault", "option groups"),
}


def exceeded(name: str) -> RdsError:
    code, what = _REFUSED[name]
    return RdsError(code, f"The request would exceed the quota of {LIMITS[name]} {what} of this account "
                    f"({name}; DescribeAccountAttributes lists the quotas and their use).")
