"""A DB instance as the store keeps it, its status, what each status allows, and its wire form."""

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from emulator.model import catalogue, network
from emulator.model.secrets import MasterSecret

# The status RDS shows while a task of this kind is under way.
TASK_STATUS = {
    "create": "creating",
    "reboot": "rebooting",
    "recover": "rebooting",
    "stop": "stopping",
    "start": "starting",
    "delete": "deleting",
    "modify": "modifying",
    "reset-credentials": "resetting-master-credentials",
    "backup": "backing-up",
    "restore": "creating",
    "replicate": "creating",
    "promote": "modifying",
    "failover": "rebooting",
    "standby": "modifying",
}
# A stopped instance starts again by itself after this long, as on RDS.
AUTOMATIC_RESTART_AFTER = timedelta(days=7)
# The status with no task under way, from what the driver last observed of the server.
OBSERVED_STATUS = {
    "none": "creating", "running": "available", "stopped": "stopped", "failed": "failed",
    # the server would not start with its parameter group's values
    "incompatible": "incompatible-parameters",
    # a restore that could not finish: its server (stopped) holds part of what was asked, and only goes
    # away; RDS's two words, for a point-in-time restore and for a snapshot's
    "incompatible-restore": "incompatible-restore",
    "restore-error": "restore-error",
    # shown, never stored: the server runs, but the disk holding its storage has no room (its writes wait)
    "storage-full": "storage-full",
}


# Not columns: read with the instance from other rows (its task under way, its source and read replicas).
JOINED_FIELDS = ("task", "task_params", "source_identifier", "replica_names")

# The statuses from which each action may begin; any other answers InvalidDBInstanceState. Every status
# here is one with no task under way: the store itself refuses a second task for an instance.
ALLOWED_FROM = {
    "modify": ("available", "incompatible-parameters"),
    "reboot": ("available", "failed", "incompatible-parameters"),
    "stop": ("available",),
    "start": ("stopped", "failed", "incompatible-parameters"),
    "delete": ("available", "stopped", "failed", "incompatible-parameters", "incompatible-restore", "restore-error"),
    "recover": ("available",),
    "backup": ("available",),
    "promote": ("available", "incompatible-parameters"),
    "failover": ("available",),
    "standby": ("available",),
}
_OBSERVED_FOR = {status: observed for observed, status in OBSERVED_STATUS.items()}


def status(task: str | None, observed: str) -> str:
    return TASK_STATUS[task] if task else OBSERVED_STATUS[observed]


def observed_allowing(action: str) -> tuple[str, ...]:
    """What the driver must last have observed for `action` to begin (the store checks it as it queues)."""
    return tuple(_OBSERVED_FOR[name] for name in ALLOWED_FROM[action])


def not_allowed_message(action: str, identifier: str, current: str) -> str:
    """RDS's words for an action refused in the instance's current status."""
    if action == "delete" and current == "deleting":
        return f"Instance {identifier} is already being deleted."
    if action == "start":
        return f"Instance {identifier} cannot be started as it is not in stopped state."
    return f"Instance {identifier} is not in available state."


@dataclass
class Instance:
    resource_id: str
    identifier: str
    engine: str
    engine_version: str
    instance_class: str
    master_username: str
    password_hash: str
    allocated_storage: int
    storage_type: str
    port: int
    availability_zone: str
    backup_window: str
    maintenance_window: str
    retention: int
    parameter_group: str
    created_at: datetime
    db_name: str | None = None
    address: str | None = None
    observed: str = "none"
    multi_az: bool = False
    auto_minor_version_upgrade: bool = True
    publicly_accessible: bool = False
    deletion_protection: bool = False
    copy_tags_to_snapshot: bool = False
    stopped_at: datetime | None = None
    subnet_group: str = network.DEFAULT_SUBNET_GROUP
    vpc_security_groups: list[str] = field(default_factory=list)
    iops: int | None = None
    storage_throughput: int | None = None
    # The parameters the server runs with (its group's values when it last started, and each change applied
    # at once since), the group they came from, and the values the server refused.
    server_parameters: dict[str, str] = field(default_factory=dict)
    server_parameter_group: str | None = None
    parameter_failures: dict[str, str] = field(default_factory=dict)
    # The start of the hour the server's current slow and general log files cover.
    logs_rotated_at: datetime | None = None
    # The emulator's time up to which every committed transaction is archived (LatestRestorableTime), and
    # where the server's binary log stood when it was last closed: {"file": ..., "position": ...}.
    restorable_until: datetime | None = None
    binlog_mark: dict[str, Any] | None = None
    # Changes asked for with ApplyImmediately=false (the modify task's params), waiting for the maintenance
    # window that opens after `pending_since`; and the user's choice for each pending maintenance action
    # (ApplyPendingMaintenanceAction's next-maintenance or immediate), if any.
    pending: dict[str, Any] = field(default_factory=dict)
    pending_since: datetime | None = None
    upgrade_opt_in: str | None = None
    system_update_opt_in: str | None = None
    # DB security groups (the EC2-Classic kind): the instance lets in only what they authorize
    db_security_groups: list[str] = field(default_factory=list)
    # a read replica's source (its resource id): the server replicates from the source's
    replica_source: str | None = None
    # Multi-AZ: the standby's zone; which of the instance's two servers is its primary (0 or 1: the other is
    # its standby); and how many times it failed over, which names the binary logs each primary wrote
    secondary_az: str | None = None
    active_server: int = 0
    binlog_chain: int = 0
    # a managed master password's secret (model/secrets.py's MasterSecret as a row); None: the user's own
    master_secret: dict[str, Any] | None = None
    # its option group (None: its engine's default) and the options its server was last configured with
    # (model/options.py's server variables)
    option_group: str | None = None
    server_options: dict[str, str] = field(default_factory=dict)
    # encryption at rest: the KMS key it reports, and the name of its data key (host/storage_keys.py)
    storage_encrypted: bool = False
    kms_key_id: str | None = None
    data_key_id: str | None = None
    # storage autoscaling's limit (MaxAllocatedStorage; None: off)
    max_allocated_storage: int | None = None
    # the authority its server's TLS certificate is signed by (CACertificateIdentifier)
    ca_certificate: str = "rds-ca-rsa2048-g1"
    # the kind and parameters of the task under way, joined from the tasks table; not columns
    task: str | None = field(default=None, compare=False)
    task_params: dict[str, Any] | None = field(default=None, compare=False)
    # a read replica's source's identifier, and a source's read replicas' (joined by commas); not columns
    source_identifier: str | None = field(default=None, compare=False)
    replica_names: str | None = field(default=None, compare=False)

    @property
    def status(self) -> str:
        return status(self.task, self.observed)

    @property
    def data_key_name(self) -> str:
        """The name its data key is derived by: the instance that first wrote its data (host/storage_keys.py)."""
        return self.data_key_id or self.resource_id

    @property
    def read_replicas(self) -> list[str]:
        return sorted(self.replica_names.split(",")) if self.replica_names else []

    @property
    def automatic_restart_time(self) -> datetime | None:
        if self.status != "stopped" or self.stopped_at is None:
            return None
        return self.stopped_at + AUTOMATIC_RESTART_AFTER

    def to_row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in JOINED_FIELDS}

    @property
    def pending_modified_values(self) -> dict[str, Any]:
        """What a modification under way, or waiting for the maintenance window, will change, as RDS shows
        it until it is applied."""
        params = {**self.pending, **(self.task_params or {})} if self.task in ("modify", "reset-credentials", None) \
            else self.pending
        return {
            "DBInstanceClass": params.get("instance_class"),
            "AllocatedStorage": params.get("allocated_storage"),
            "Iops": params.get("iops"),
            "StorageThroughput": params.get("storage_throughput"),
            "DBInstanceIdentifier": params.get("identifier"),
            "EngineVersion": params.get("engine_version"),
            "MasterUserPassword": "****" if params.get("password") else None,
            "MultiAZ": params.get("multi_az"),
            "CACertificateIdentifier": params.get("ca_certificate"),
        }

    @property
    def option_group_memberships(self) -> list[dict[str, str]]:
        """Its option group, pending-apply while a change of its options (or a move to another group) waits for
        the maintenance window, applying while a task applies it; a group it moves to is listed first."""
        current = self.option_group or catalogue.option_group(self.engine, self.engine_version)
        under_way = self.task_params or {} if self.task == "modify" else {}
        moving = under_way.get("option_group") or self.pending.get("option_group")
        if moving and moving != current:
            status = "applying" if under_way.get("option_group") else "pending-apply"
            return [{"OptionGroupName": moving, "Status": status},
                    {"OptionGroupName": current, "Status": "pending-removal"}]
        status = "applying" if under_way.get("options") else \
            "pending-apply" if self.pending.get("options") else "in-sync"
        return [{"OptionGroupName": current, "Status": status}]

    def to_wire(
        self, arn: str, tags: list[dict[str, str]], subnet_group: dict[str, Any], default_security_group: str,
        parameter_apply_status: str, replication: tuple[str, str] | None = None, reported_address: str | None = None,
    ) -> dict[str, Any]:
        """`subnet_group` is the group's own wire form; no security group chosen means the VPC's default.
        `replication`: a read replica's, as its server last said it (status, the server's error).
        `reported_address`: the endpoint's address as clients reach it, when not where the server listens."""
        provisioned = self.observed != "none"
        return {
            "DBInstanceIdentifier": self.identifier,
            "DBInstanceClass": self.instance_class,
            "Engine": self.engine,
            "DBInstanceStatus": self.status,
            "MasterUsername": self.master_username,
            "DBName": self.db_name,
            "Endpoint": {"Address": reported_address or self.address, "Port": self.port}
            if provisioned and self.address else None,
            "AllocatedStorage": self.allocated_storage,
            "MaxAllocatedStorage": self.max_allocated_storage,
            "InstanceCreateTime": self.created_at if provisioned else None,
            "PreferredBackupWindow": self.backup_window,
            "BackupRetentionPeriod": self.retention,
            "DBSecurityGroups": [{"DBSecurityGroupName": name, "Status": "active"} for name in self.db_security_groups],
            # an instance only in DB security groups is an EC2-Classic one: in no VPC security group
            "VpcSecurityGroups": [
                {"VpcSecurityGroupId": group, "Status": "active"}
                for group in self.vpc_security_groups or ([] if self.db_security_groups else [default_security_group])
            ],
            "DBParameterGroups": [
                {"DBParameterGroupName": self.parameter_group, "ParameterApplyStatus": parameter_apply_status}
            ],
            "AvailabilityZone": self.availability_zone,
            "DBSubnetGroup": subnet_group,
            "PreferredMaintenanceWindow": self.maintenance_window,
            "PendingModifiedValues": self.pending_modified_values,
            "MultiAZ": self.multi_az,
            "SecondaryAvailabilityZone": self.secondary_az if self.multi_az else None,
            "EngineVersion": self.engine_version,
            "AutoMinorVersionUpgrade": self.auto_minor_version_upgrade,
            "ReadReplicaDBInstanceIdentifiers": self.read_replicas,
            "ReadReplicaSourceDBInstanceIdentifier": self.source_identifier if self.replica_source else None,
            "StatusInfos": _status_infos(replication) if self.replica_source and provisioned else None,
            "LicenseModel": "general-public-license",
            "OptionGroupMemberships": self.option_group_memberships,
            "PubliclyAccessible": self.publicly_accessible,
            "StorageType": self.storage_type,
            "Iops": self.iops,
            "StorageThroughput": self.storage_throughput,
            "DbInstancePort": 0,
            "StorageEncrypted": self.storage_encrypted,
            "KmsKeyId": self.kms_key_id if self.storage_encrypted else None,
            "DbiResourceId": self.resource_id,
            "CACertificateIdentifier": self.ca_certificate,
            "DomainMemberships": [],
            "CopyTagsToSnapshot": self.copy_tags_to_snapshot,
            "MonitoringInterval": 0,
            "DBInstanceArn": arn,
            "MasterUserSecret": MasterSecret.of(self.master_secret).rds_wire() if self.master_secret else None,
            "IAMDatabaseAuthenticationEnabled": False,
            "PerformanceInsightsEnabled": False,
            "DeletionProtection": self.deletion_protection,
            "AssociatedRoles": [],
            "TagList": tags,
            "CustomerOwnedIpEnabled": False,
            "BackupTarget": "region",
            "NetworkType": "IPV4",
            "AutomaticRestartTime": self.automatic_restart_time,
            "LatestRestorableTime": self.restorable_until if self.retention > 0 else None,
            "DedicatedLogVolume": False,
            "IsStorageConfigUpgradeAvailable": False,
            "EngineLifecycleSupport": "open-source-rds-extended-support-disabled",
        }


def _status_infos(replication: tuple[str, str] | None) -> list[dict[str, Any]]:
    """RDS's `read replication` status: replicating, error (with the server's reason) or stopped; a replica
    whose server was not asked yet is replicating, as its making checked it last."""
    status, message = replication or ("replicating", "")
    return [{"StatusType": "read replication", "Normal": status == "replicating", "Status": status,
             "Message": message or None}]
