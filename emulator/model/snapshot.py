"""A DB snapshot as the store keeps it: what it was taken of, where its backup lies, and its wire form."""

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from emulator.model import catalogue

# An automated snapshot's name: rds:<instance>-YYYY-MM-DD-HH-MM, from the time its backup began.
AUTOMATED_NAME = "rds:{identifier}-{time:%Y-%m-%d-%H-%M}"


@dataclass
class Snapshot:
    identifier: str
    instance_resource_id: str
    instance_identifier: str
    snapshot_type: str  # manual | automated
    status: str  # creating | available | failed
    progress: int
    created_at: datetime
    instance_created_at: datetime
    engine: str
    engine_version: str
    instance_class: str
    allocated_storage: int
    storage_type: str
    iops: int | None
    storage_throughput: int | None
    port: int
    availability_zone: str
    master_username: str
    password_hash: str
    db_name: str | None
    storage_key: str
    size: int = 0
    # Where the backup's data ends in the instance's binary log: point-in-time restore replays from here.
    binlog_file: str | None = None
    binlog_position: int | None = None
    # the GTIDs its data holds (MariaDB's; a MySQL backup carries its own): where a replay of the logs of a
    # later chain (written after a failover) starts
    binlog_gtid: str | None = None
    source_snapshot: str | None = None
    # Accounts allowed to restore it (ModifyDBSnapshotAttribute's `restore`); "all" makes it public.
    restore_accounts: list[str] = field(default_factory=list)
    # The time of the data it holds: when the backup's consistent point was taken.
    data_time: datetime | None = None
    # An automated snapshot whose instance was deleted with its automated backups retained: the days it
    # is kept for after it was taken (the instance's BackupRetentionPeriod at its deletion).
    retention: int | None = None
    # ...and the time they restore up to: the instance's LatestRestorableTime when it was deleted
    retained_until: datetime | None = None
    # The engine version the backup was made with, once the snapshot was upgraded to a newer one
    # (ModifyDBSnapshot): a restore unpacks it with that version's tools, then runs `engine_version`'s server.
    data_version: str | None = None
    # the option group a restore of it is in unless it names one (None: its engine's default)
    option_group: str | None = None
    # its instance's encryption at rest, which a restore of it keeps (model/instance.py)
    storage_encrypted: bool = False
    kms_key_id: str | None = None
    data_key_id: str | None = None

    @property
    def data_key_name(self) -> str:
        """The name its instance's data key is derived by (model/instance.py)."""
        return self.data_key_id or self.instance_resource_id

    @property
    def made_with(self) -> str:
        return self.data_version or self.engine_version

    def to_row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_wire(self, arn: str, tags: list[dict[str, str]], vpc_id: str) -> dict[str, Any]:
        return {
            "DBSnapshotIdentifier": self.identifier,
            "DBInstanceIdentifier": self.instance_identifier,
            "SnapshotCreateTime": self.created_at,
            "Engine": self.engine,
            "AllocatedStorage": self.allocated_storage,
            "Status": self.status,
            "Port": self.port,
            "AvailabilityZone": self.availability_zone,
            "VpcId": vpc_id,
            "InstanceCreateTime": self.instance_created_at,
            "MasterUsername": self.master_username,
            "EngineVersion": self.engine_version,
            "LicenseModel": catalogue.LICENSE_MODEL,
            "SnapshotType": self.snapshot_type,
            "Iops": self.iops,
            "StorageThroughput": self.storage_throughput,
            "OptionGroupName": self.option_group or catalogue.option_group(self.engine, self.engine_version),
            "PercentProgress": self.progress,
            "SourceDBSnapshotIdentifier": self.source_snapshot,
            "StorageType": self.storage_type,
            "Encrypted": self.storage_encrypted,
            "KmsKeyId": self.kms_key_id if self.storage_encrypted else None,
            "DBSnapshotArn": arn,
            "IAMDatabaseAuthenticationEnabled": False,
            "DbiResourceId": self.instance_resource_id,
            "TagList": tags,
            "SnapshotTarget": "region",
            "OriginalSnapshotCreateTime": self.created_at,
            "SnapshotDatabaseTime": self.data_time,
            "DedicatedLogVolume": False,
            "MultiTenant": False,
        }
