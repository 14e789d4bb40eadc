"""What clients read, checked on every call a test's boto3 client makes: the model's required members, the
members RDS returns for every instance (which infrastructure tools read without asking), and errors whose
codes the model or the common errors know."""

from typing import Any

from botocore.model import Shape

from emulator.protocol.shapes import RDS

# Returned by RDS for every DB instance of a MySQL-family engine in a VPC (DescribeDBInstances of real
# instances); tools that manage RDS declaratively read these unconditionally.
EVERY_INSTANCE = (
    "DBInstanceIdentifier", "DBInstanceClass", "Engine", "DBInstanceStatus", "MasterUsername",
    "AllocatedStorage", "PreferredBackupWindow", "BackupRetentionPeriod", "DBSecurityGroups", "VpcSecurityGroups",
    "DBParameterGroups", "AvailabilityZone", "DBSubnetGroup", "PreferredMaintenanceWindow",
    "PendingModifiedValues", "MultiAZ", "EngineVersion", "AutoMinorVersionUpgrade",
    "ReadReplicaDBInstanceIdentifiers", "LicenseModel", "OptionGroupMemberships", "PubliclyAccessible",
    "StorageType", "DbInstancePort", "StorageEncrypted", "DbiResourceId", "CACertificateIdentifier",
    "DomainMemberships", "CopyTagsToSnapshot", "MonitoringInterval", "DBInstanceArn",
    "IAMDatabaseAuthenticationEnabled", "PerformanceInsightsEnabled", "DeletionProtection", "AssociatedRoles",
    "TagList", "CustomerOwnedIpEnabled", "BackupTarget", "NetworkType",
)
PROVISIONED_STORAGE = ("Iops", "StorageThroughput")
EVERY_SUBNET_GROUP = ("DBSubnetGroupName", "DBSubnetGroupDescription", "VpcId", "SubnetGroupStatus", "Subnets",
                      "DBSubnetGroupArn", "SupportedNetworkTypes")


def check(value: Any, shape: Shape | None, path: str) -> None:
    if shape is None or value is None:
        return
    if shape.type_name == "structure":
        assert isinstance(value, dict), path
        for name in getattr(shape, "required_members", []):
            assert name in value, f"{path}.{name} is required by the model"
        if shape.name == "DBInstance":
            missing = [m for m in EVERY_INSTANCE if m not in value]
            if value.get("StorageType") in ("gp3", "io1", "io2"):
                missing += [m for m in PROVISIONED_STORAGE if m not in value]
            assert not missing, f"{path} lacks {missing}"
            if value["DBInstanceStatus"] not in ("creating", "deleting") or "Endpoint" in value:
                assert "Endpoint" in value and "InstanceCreateTime" in value, path
        if shape.name == "DBSubnetGroup":
            missing = [m for m in EVERY_SUBNET_GROUP if m not in value]
            assert not missing and value["Subnets"], f"{path} lacks {missing}"
        for name, member in shape.members.items():
            check(value.get(name), member, f"{path}.{name}")
    elif shape.type_name == "list":
        assert isinstance(value, list), path
        for n, item in enumerate(value):
            check(item, shape.member, f"{path}[{n}]")


def after_call(http_response: Any, parsed: dict, model: Any, **_: Any) -> None:
    if "Error" in parsed:
        code = parsed["Error"].get("Code")
        assert code in RDS.errors, f"{model.name} answered an error code unknown to the model: {code}"
        assert parsed["Error"].get("Message"), f"{model.name}: {code} without a message"
        return
    check(parsed, model.output_shape, model.name)


def watch(client: Any) -> Any:
    client.meta.events.register("after-call.rds", after_call)
    return client
