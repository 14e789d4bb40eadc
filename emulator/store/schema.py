"""The store's tables, as the newest migration leaves them."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    text,
)


class UtcDateTime(TypeDecorator):
    """SQLite keeps no zone: store naive UTC, hand back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = MetaData()

instances = Table(
    "instances",
    metadata,
    Column("resource_id", String, primary_key=True),
    Column("identifier", String, unique=True, nullable=False),
    Column("engine", String, nullable=False),
    Column("engine_version", String, nullable=False),
    Column("instance_class", String, nullable=False),
    Column("master_username", String, nullable=False),
    Column("password_hash", String, nullable=False),
    Column("allocated_storage", Integer, nullable=False),
    Column("storage_type", String, nullable=False),
    Column("port", Integer, nullable=False),
    Column("availability_zone", String, nullable=False),
    Column("backup_window", String, nullable=False),
    Column("maintenance_window", String, nullable=False),
    Column("retention", Integer, nullable=False),
    Column("parameter_group", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("db_name", String),
    Column("address", String),
    Column("observed", String, nullable=False),
    Column("multi_az", Boolean, nullable=False),
    Column("auto_minor_version_upgrade", Boolean, nullable=False),
    Column("publicly_accessible", Boolean, nullable=False),
    Column("deletion_protection", Boolean, nullable=False),
    Column("copy_tags_to_snapshot", Boolean, nullable=False),
    Column("stopped_at", UtcDateTime),
    Column("subnet_group", String, nullable=False, server_default="default"),
    Column("vpc_security_groups", JSON, nullable=False, server_default="[]"),
    Column("iops", Integer),
    Column("storage_throughput", Integer),
    Column("server_parameters", JSON, nullable=False, server_default="{}"),
    Column("server_parameter_group", String),
    Column("parameter_failures", JSON, nullable=False, server_default="{}"),
    Column("logs_rotated_at", UtcDateTime),
    Column("restorable_until", UtcDateTime),
    Column("binlog_mark", JSON),
    Column("pending", JSON, nullable=False, server_default="{}"),
    Column("pending_since", UtcDateTime),
    Column("upgrade_opt_in", String),
    Column("system_update_opt_in", String),
    Column("db_security_groups", JSON, nullable=False, server_default="[]"),
    Column("replica_source", String, index=True),
    Column("secondary_az", String),
    Column("active_server", Integer, nullable=False, server_default="0"),
    Column("binlog_chain", Integer, nullable=False, server_default="0"),
    Column("master_secret", JSON),
    Column("option_group", String, index=True),
    Column("server_options", JSON, nullable=False, server_default="{}"),
    Column("storage_encrypted", Boolean, nullable=False, server_default="0"),
    Column("kms_key_id", String),
    Column("data_key_id", String),
    Column("max_allocated_storage", Integer),
    Column("ca_certificate", String, nullable=False, server_default="rds-ca-rsa2048-g1"),
    Index("uq_instances_endpoint", "address", "port", unique=True),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("identifier", String, primary_key=True),
    Column("instance_resource_id", String, nullable=False, index=True),
    Column("instance_identifier", String, nullable=False),
    Column("snapshot_type", String, nullable=False),
    Column("status", String, nullable=False),
    Column("progress", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("instance_created_at", UtcDateTime, nullable=False),
    Column("engine", String, nullable=False),
    Column("engine_version", String, nullable=False),
    Column("instance_class", String, nullable=False),
    Column("allocated_storage", Integer, nullable=False),
    Column("storage_type", String, nullable=False),
    Column("iops", Integer),
    Column("storage_throughput", Integer),
    Column("port", Integer, nullable=False),
    Column("availability_zone", String, nullable=False),
    Column("master_username", String, nullable=False),
    Column("password_hash", String, nullable=False),
    Column("db_name", String),
    Column("storage_key", String, nullable=False),
    Column("size", Integer, nullable=False),
    Column("binlog_file", String),
    Column("binlog_position", Integer),
    Column("binlog_gtid", String),
    Column("source_snapshot", String),
    Column("restore_accounts", JSON, nullable=False, server_default="[]"),
    Column("data_time", UtcDateTime),
    Column("retention", Integer),
    Column("retained_until", UtcDateTime),
    # the engine version the backup was made with, once the snapshot was upgraded to a newer one
    Column("data_version", String),
    Column("option_group", String),
    Column("storage_encrypted", Boolean, nullable=False, server_default="0"),
    Column("kms_key_id", String),
    Column("data_key_id", String),
)

# An instance's binary log files, each archived once the server closed it.
binlogs = Table(
    "binlogs",
    metadata,
    Column("instance_resource_id", String, primary_key=True),
    Column("name", String, primary_key=True),
    Column("storage_key", String, nullable=False),
    Column("size", Integer, nullable=False),
    # the emulator's time when the server closed the file: everything before it is in this file or earlier
    Column("closed_at", UtcDateTime, nullable=False),
    # the emulator's clock minus the host's then, in seconds: the server stamps events with the host's time
    Column("clock_offset", Float, nullable=False),
)

# What the emulator keeps of itself: the clock's offset.
emulator_state = Table(
    "emulator_state",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", String, nullable=False),
)

option_groups = Table(
    "option_groups",
    metadata,
    Column("name", String, primary_key=True),
    Column("engine", String, nullable=False),
    Column("major", String, nullable=False),
    Column("description", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("options", JSON, nullable=False, server_default="{}"),
    Column("source", String),
)

parameter_groups = Table(
    "parameter_groups",
    metadata,
    Column("name", String, primary_key=True),
    Column("family", String, nullable=False),
    Column("description", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# The values users set in their groups; a default group has none, and every group's other parameters
# have their engine's or the system's value.
group_parameters = Table(
    "group_parameters",
    metadata,
    Column("group_name", String, primary_key=True),
    Column("name", String, primary_key=True),
    Column("value", String, nullable=False),
    Column("method", String, nullable=False),
)

subnet_groups = Table(
    "subnet_groups",
    metadata,
    Column("name", String, primary_key=True),
    Column("description", String, nullable=False),
    # [{"id": "subnet-...", "zone": "us-east-1a"}, ...]
    Column("subnets", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# DB security groups, and the ingress each lets in: a CIDR range (kind `cidr`) or an EC2 security group
# (kind `ec2`, recorded only: no EC2 instance reaches the emulator). Rules are `authorizing` until they are
# applied where the instances listen, then `authorized`; `revoking` until they are gone from there.
db_security_groups = Table(
    "db_security_groups",
    metadata,
    Column("name", String, primary_key=True),
    Column("description", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

db_security_group_rules = Table(
    "db_security_group_rules",
    metadata,
    Column("group_name", String, primary_key=True),
    Column("kind", String, primary_key=True),
    Column("value", String, primary_key=True),
    Column("owner_id", String),
    Column("status", String, nullable=False),
)

tags = Table(
    "tags",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", String, nullable=False, index=True),
    Column("key", String, nullable=False),
    Column("value", String, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("date", UtcDateTime, nullable=False, index=True),
    Column("source_type", String, nullable=False),
    Column("source_id", String, nullable=False),
    Column("source_arn", String, nullable=False),
    Column("message", String, nullable=False),
    # ",backup,availability,": a LIKE on ",name," filters by one category
    Column("categories", String, nullable=False),
)

ACTIVE = ("queued", "running")
ACTIVE_SQL = "state IN ('queued', 'running')"

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", String, nullable=False, index=True),
    Column("kind", String, nullable=False),
    Column("params", JSON, nullable=False),
    # queued -> running -> done | failed; a retried step goes back to queued with a later not_before
    Column("state", String, nullable=False, index=True),
    Column("owner", String),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("resource_type", String, nullable=False, server_default="db-instance"),
    # not run before this time of the emulator's clock
    Column("not_before", UtcDateTime),
    # scheduled work names itself, so that it is queued once however often its job looks
    Column("key", String),
    Column("error", String),
    UniqueConstraint("key", name="uq_tasks_key"),
    Index(
        "uq_tasks_one_under_way", "resource_type", "resource_id", unique=True,
        sqlite_where=text(ACTIVE_SQL), postgresql_where=text(ACTIVE_SQL),
    ),
)
