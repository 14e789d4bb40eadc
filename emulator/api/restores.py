"""New DB instances from backups: RestoreDBInstanceFromDBSnapshot and RestoreDBInstanceToPointInTime."""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from emulator.api import common, master_users
from emulator.context import Context
from emulator.model import catalogue, ids, validation, windows
from emulator.model.instance import Instance
from emulator.model.snapshot import Snapshot
from emulator.protocol.errors import RdsError, combination, invalid, shown
from emulator.work import backups

# Members of both restores that we honour; the rest are refused unless they ask for what we are (AS_IT_IS).
COMMON_MEMBERS = {
    "DBInstanceClass", "Port", "AvailabilityZone", "DBSubnetGroupName", "PubliclyAccessible",
    "AutoMinorVersionUpgrade", "LicenseModel", "Engine", "Iops", "StorageThroughput", "Tags", "StorageType",
    "VpcSecurityGroupIds", "CopyTagsToSnapshot", "DBParameterGroupName", "DeletionProtection", "AllocatedStorage",
    "BackupRetentionPeriod", "PreferredBackupWindow", "MultiAZ", "OptionGroupName", "CACertificateIdentifier",
} | master_users.MEMBERS
SNAPSHOT_MEMBERS = COMMON_MEMBERS | {"DBInstanceIdentifier", "DBSnapshotIdentifier"}
POINT_MEMBERS = COMMON_MEMBERS | {
    "SourceDBInstanceIdentifier", "TargetDBInstanceIdentifier", "RestoreTime", "UseLatestRestorableTime",
    "SourceDbiResourceId", "SourceDBInstanceAutomatedBackupsArn", "MaxAllocatedStorage",
}


@dataclass(frozen=True)
class Source:
    """What a point-in-time restore starts from: a DB instance, or the automated backups a deleted one left."""

    identifier: str
    resource_id: str
    retention: int
    restorable_until: datetime | None


def from_snapshot(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    common.refuse_unsupported(request, SNAPSHOT_MEMBERS, "RestoreDBInstanceFromDBSnapshot")
    identifier = validation.identifier(request["DBInstanceIdentifier"])
    if not request.get("DBSnapshotIdentifier"):
        raise RdsError("MissingParameter", "The request must contain the parameter DBSnapshotIdentifier.")
    snapshot = common.existing_snapshot(ctx, request["DBSnapshotIdentifier"])
    if snapshot.status != "available":
        raise RdsError("InvalidDBSnapshotState", f"Snapshot {snapshot.identifier} is not in available state.")
    return _restore(ctx, request, identifier, snapshot, {"snapshot": snapshot.identifier})


def to_point_in_time(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    common.refuse_unsupported(request, POINT_MEMBERS, "RestoreDBInstanceToPointInTime")
    target = validation.identifier(request["TargetDBInstanceIdentifier"], "TargetDBInstanceIdentifier")
    source = _source(ctx, request)
    if source.retention == 0:
        raise RdsError("PointInTimeRestoreNotEnabled",
                       f"Point-in-time restore is not enabled for DB instance {source.identifier}: its backup "
                       "retention period is 0.")
    backups = ctx.store.list_snapshots(instance_resource_ids=[source.resource_id], types=["automated"],
                                       statuses=["available"])
    latest = source.restorable_until
    if not backups or latest is None:
        raise RdsError("PointInTimeRestoreNotEnabled",
                       f"DB instance {source.identifier} has no automated backup to restore from yet.")
    when = _restore_time(request, latest)
    earliest = min(backup.data_time for backup in backups if backup.data_time)
    if not earliest <= when <= latest:
        raise RdsError(
            "InvalidRestoreFault",
            f"Restore time {when:%Y-%m-%dT%H:%M:%SZ} is outside the restorable window of DB instance "
            f"{source.identifier}: from {earliest:%Y-%m-%dT%H:%M:%SZ} to {latest:%Y-%m-%dT%H:%M:%SZ}.",
        )
    base = max((backup for backup in backups if backup.data_time and backup.data_time <= when),
               key=lambda backup: backup.data_time)
    params = {"snapshot": base.identifier, "until": when.isoformat(), "source": source.identifier,
              "latest": bool(request.get("UseLatestRestorableTime")),
              "source_resource_id": source.resource_id}
    return _restore(ctx, request, target, base, params, source)


def _source(ctx: Context, request: dict[str, Any]) -> Source:
    if request.get("SourceDBInstanceIdentifier"):
        return _of_instance(common.existing_instance(ctx, request["SourceDBInstanceIdentifier"]))
    if request.get("SourceDbiResourceId"):
        resource_id = request["SourceDbiResourceId"]
    elif request.get("SourceDBInstanceAutomatedBackupsArn"):
        resource_id = common.automated_backup_resource_id(request["SourceDBInstanceAutomatedBackupsArn"],
                                                       "SourceDbiResourceId")
    else:
        raise invalid("Give SourceDBInstanceIdentifier, SourceDbiResourceId or SourceDBInstanceAutomatedBackupsArn.")
    found = ctx.store.list_instances(resource_ids=[resource_id])
    if found:
        return _of_instance(found[0])
    retained = ctx.store.list_snapshots(instance_resource_ids=[resource_id], types=["automated"],
                                        statuses=["available"])
    if not retained:
        raise common.automated_backup_not_found(resource_id)
    newest = max(retained, key=lambda snapshot: snapshot.created_at)
    # retained before their retention was recorded: restorable all the same
    return Source(newest.instance_identifier, resource_id, newest.retention or 1,
                  backups.retained_until(ctx, resource_id, retained))


def _of_instance(instance: Instance) -> Source:
    return Source(instance.identifier, instance.resource_id, instance.retention, instance.restorable_until)


def _restore_time(request: dict[str, Any], latest: datetime) -> datetime:
    if request.get("UseLatestRestorableTime"):
        if request.get("RestoreTime"):
            raise combination("Cannot specify both RestoreTime and UseLatestRestorableTime.")
        return latest
    if not request.get("RestoreTime"):
        raise combination("Specify RestoreTime, or UseLatestRestorableTime=true.")
    return request["RestoreTime"]


def _restore(ctx: Context, request: dict[str, Any], identifier: str, snapshot: Snapshot,
             params: dict[str, Any], source: Source | None = None) -> dict[str, Any]:
    """A new instance with the snapshot's engine, storage and master user, and what the request changes."""
    if request.get("Engine") and validation.engine(request["Engine"]) != snapshot.engine:
        raise combination(f"The engine of the restored instance must be {snapshot.engine}, the snapshot's.")
    sized = common.storage_of_copy(request, snapshot, "the snapshot's")
    served = common.served_row(ctx, snapshot.engine, snapshot.engine_version)
    family = served.family
    resource_id = ids.resource_id()
    backup_window, maintenance = windows.defaults(resource_id, request.get("PreferredBackupWindow"), None)
    license_model = request.get("LicenseModel", catalogue.LICENSE_MODEL)
    if license_model != catalogue.LICENSE_MODEL:
        raise invalid(f"Invalid license model '{shown(license_model)}' for engine {snapshot.engine}")
    instance = Instance(
        resource_id=resource_id, identifier=identifier, engine=snapshot.engine,
        engine_version=snapshot.engine_version,
        instance_class=validation.instance_class(request.get("DBInstanceClass", snapshot.instance_class)),
        master_username=snapshot.master_username,
        **master_users.for_new(ctx, request, served.flavor, inherited=snapshot.password_hash),
        port=0,
        availability_zone=validation.availability_zone(request.get("AvailabilityZone"), ctx.settings.region),
        backup_window=backup_window, maintenance_window=maintenance,
        retention=validation.retention(request.get("BackupRetentionPeriod",
                                                   source.retention if source else 1)),
        parameter_group=common.parameter_group_for_instance(ctx, request.get("DBParameterGroupName"), family),
        created_at=ctx.clock.now(), db_name=snapshot.db_name, address=ctx.settings.server_host,
        option_group=common.option_group_for(ctx, request.get("OptionGroupName") or _kept_group(ctx, snapshot),
                                             snapshot.engine, snapshot.engine_version),
        **common.encrypted_as(ctx, snapshot),
        ca_certificate=common.ca_certificate(request.get("CACertificateIdentifier")),
        max_allocated_storage=validation.max_allocated_storage(request.get("MaxAllocatedStorage"),
                                                               sized["allocated_storage"], sized["storage_type"]),
        **common.instance_options(ctx, request), **sized,
    )
    instance = replace(instance, **common.multi_az(ctx, request, instance.availability_zone))
    tag_pairs = validation.tags(request.get("Tags", []))
    with common.room(ctx, instance, instance.instance_class, instance.multi_az):
        instance = common.insert_instance(ctx, instance, validation.port(request.get("Port")), tag_pairs,
                                    ("restore", params))
    ctx.kick()
    around = ctx.store.surroundings([instance], {instance.resource_id: validation.tag_list(tag_pairs)})
    return common.instance_answer(ctx, replace(instance, task="restore"), around[instance.resource_id])


def _kept_group(ctx: Context, snapshot: Snapshot) -> str | None:
    """The snapshot's option group, while it is one of the snapshot's engine version (an upgraded snapshot's
    group is its former version's: the new version's default then)."""
    group = ctx.store.get_option_group(snapshot.option_group) if snapshot.option_group else None
    major = common.served_row(ctx, snapshot.engine, snapshot.engine_version).major
    return group.name if group is not None and group.major == major else None
