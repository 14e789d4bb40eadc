"""DB instances: create, describe, modify, reboot, stop, start, delete."""

import base64
import secrets
import socket
from dataclasses import replace
from typing import Any

from emulator.context import Context
from emulator.engines.server import native_password_hash
from emulator.model import arn, catalogue, validation
from emulator.model.events import RENAMED, UPDATED_PARAMETER_GROUP
from emulator.model.instance import Instance
from emulator.protocol.errors import RdsError, combination, instance_not_found, invalid
from emulator.store import TaskConflict
from scheduler import windows

from .paging import page
from .tags import pairs as checked_tags

# Members of CreateDBInstance we honour; any other that is sent is refused, never silently dropped.
CREATE_MEMBERS = {
    "DBInstanceIdentifier", "DBInstanceClass", "Engine", "EngineVersion", "AllocatedStorage", "StorageType",
    "MasterUsername", "MasterUserPassword", "DBName", "Port", "AvailabilityZone", "PreferredBackupWindow",
    "PreferredMaintenanceWindow", "BackupRetentionPeriod", "DBParameterGroupName", "Tags", "MultiAZ",
    "AutoMinorVersionUpgrade", "PubliclyAccessible", "DeletionProtection", "CopyTagsToSnapshot",
    "LicenseModel", "StorageEncrypted",
}
MODIFY_MEMBERS = {
    "DBInstanceIdentifier", "ApplyImmediately", "MasterUserPassword", "DBInstanceClass", "AllocatedStorage",
    "BackupRetentionPeriod", "PreferredBackupWindow", "PreferredMaintenanceWindow", "DBParameterGroupName",
    "NewDBInstanceIdentifier", "AutoMinorVersionUpgrade", "DeletionProtection", "CopyTagsToSnapshot",
    "PubliclyAccessible",
}
# What is only ever false here until a later issue brings it.
FALSE_ONLY = {"MultiAZ": "Multi-AZ deployments", "StorageEncrypted": "Storage encryption"}
PORT_RANGE = range(13306, 20000)
FILTERS = ("db-instance-id", "dbi-resource-id", "engine")


def create(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    _refuse_unsupported(request, CREATE_MEMBERS, "CreateDBInstance")
    identifier = validation.identifier(request["DBInstanceIdentifier"])
    engine = validation.engine(request["Engine"])
    version = _engine_version(ctx, engine, request.get("EngineVersion"))
    storage_type = validation.storage_type(request.get("StorageType"))
    resource_id = "db-" + base64.b32encode(secrets.token_bytes(20)).decode()[:26]
    backup, maintenance = windows.defaults(
        resource_id, request.get("PreferredBackupWindow"), request.get("PreferredMaintenanceWindow")
    )
    license_model = request.get("LicenseModel", catalogue.LICENSE_MODEL)
    if license_model != catalogue.LICENSE_MODEL:
        raise invalid(f"Invalid license model '{license_model}' for engine {engine}")
    instance = Instance(
        resource_id=resource_id,
        identifier=identifier,
        engine=engine,
        engine_version=version.version,
        instance_class=validation.instance_class(request["DBInstanceClass"]),
        master_username=validation.master_username(request.get("MasterUsername"), engine),
        password_hash=native_password_hash(validation.master_password(request.get("MasterUserPassword"))),
        allocated_storage=validation.allocated_storage(request.get("AllocatedStorage"), engine, storage_type),
        storage_type=storage_type,
        port=_port(ctx, validation.port(request.get("Port"))),
        availability_zone=validation.availability_zone(request.get("AvailabilityZone"), ctx.settings.region),
        backup_window=backup,
        maintenance_window=maintenance,
        retention=validation.retention(request.get("BackupRetentionPeriod")),
        parameter_group=_parameter_group(request.get("DBParameterGroupName"), version.family),
        parameter_apply_status="in-sync",
        created_at=ctx.clock.now(),
        db_name=validation.db_name(request.get("DBName")),
        address=ctx.settings.server_host,
        auto_minor_version_upgrade=request.get("AutoMinorVersionUpgrade", True),
        publicly_accessible=request.get("PubliclyAccessible", False),
        deletion_protection=request.get("DeletionProtection", False),
        copy_tags_to_snapshot=request.get("CopyTagsToSnapshot", False),
    )
    tag_pairs = checked_tags(request.get("Tags", []))
    if not ctx.store.add_instance(instance, tag_pairs, ctx.clock.now()):
        raise RdsError("DBInstanceAlreadyExists", "DB instance already exists")
    instance.task = "create"
    ctx.kick()
    return {"DBInstance": _wire(ctx, instance, [{"Key": k, "Value": v} for k, v in dict(tag_pairs).items()])}


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("DBInstanceIdentifier"):
        name = _name(request["DBInstanceIdentifier"])
        found = ctx.store.find_instance_with_tags(name)
        if found is None:
            raise instance_not_found(name)
        return {"DBInstances": [_wire(ctx, *found)]}
    criteria = _filters(request.get("Filters", []))

    def fetch(after: str | None, n: int) -> list[Instance]:
        return ctx.store.list_instances(after=after, limit=n, **criteria)

    found, marker = page(fetch, lambda instance: instance.identifier, request)
    tags = ctx.store.tags_of(instance.resource_id for instance in found)
    return {
        "DBInstances": [_wire(ctx, instance, tags.get(instance.resource_id, [])) for instance in found],
        "Marker": marker,
    }


def modify(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    _refuse_unsupported(request, MODIFY_MEMBERS, "ModifyDBInstance")
    instance = _available(ctx, request["DBInstanceIdentifier"])
    now = request.get("ApplyImmediately", False)
    work: dict[str, Any] = {}
    immediate: dict[str, Any] = {}
    events: list[str] = []
    if "DBInstanceClass" in request and request["DBInstanceClass"] != instance.instance_class:
        work["instance_class"] = validation.instance_class(request["DBInstanceClass"])
    if "AllocatedStorage" in request and request["AllocatedStorage"] != instance.allocated_storage:
        size = validation.allocated_storage(request["AllocatedStorage"], instance.engine, instance.storage_type)
        if size < instance.allocated_storage:
            raise invalid("Invalid storage size: allocated storage can only be increased.")
        work["allocated_storage"] = size
    if work and not now:
        raise combination(
            "ApplyImmediately=false would defer " + " and ".join(sorted(work)).replace("_", " ")
            + " to the maintenance window, which RDS Emulator does not do yet: send ApplyImmediately=true."
        )
    if "MasterUserPassword" in request:
        password = validation.master_password(request["MasterUserPassword"])
        immediate["password_hash"] = native_password_hash(password)
        work["password"] = True
    _modify_windows(request, instance, immediate)
    if "BackupRetentionPeriod" in request:
        retention = validation.retention(request["BackupRetentionPeriod"])
        if (retention == 0) != (instance.retention == 0):
            events.append("Disabled automated backups" if retention == 0 else "Enabled automated backups")
        immediate["retention"] = retention
    group = request.get("DBParameterGroupName")
    if group and group != instance.parameter_group:
        family = _engine_version(ctx, instance.engine, None).family
        immediate["parameter_group"] = _parameter_group(group, family)
        immediate["parameter_apply_status"] = "pending-reboot"
        events.append(UPDATED_PARAMETER_GROUP.format(name=group))
    for member, column in (
        ("AutoMinorVersionUpgrade", "auto_minor_version_upgrade"),
        ("DeletionProtection", "deletion_protection"),
        ("CopyTagsToSnapshot", "copy_tags_to_snapshot"),
        ("PubliclyAccessible", "publicly_accessible"),
    ):
        if member in request:
            immediate[column] = request[member]
    if request.get("NewDBInstanceIdentifier"):
        new = validation.identifier(request["NewDBInstanceIdentifier"], "NewDBInstanceIdentifier")
        if new != instance.identifier:
            if not now:
                raise combination("Renaming a DB instance needs ApplyImmediately=true in RDS Emulator.")
            if ctx.store.find_instance(new) is not None:
                raise RdsError("DBInstanceAlreadyExists", "DB instance already exists")
            immediate["identifier"] = new
            events.append(RENAMED.format(old=instance.identifier, new=new))
    tags = ctx.store.tags_for(instance.resource_id)
    kind = _apply(ctx, instance, work, immediate, events)
    changed = replace(instance, **immediate, task=kind, task_params=work if kind else None)
    return {"DBInstance": _wire(ctx, changed, tags)}


def reboot(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("ForceFailover"):
        raise combination("ForceFailover can only be used on a Multi-AZ DB instance.")
    instance = _available(ctx, request["DBInstanceIdentifier"])
    return _queue(ctx, instance, "reboot")


def stop(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("DBSnapshotIdentifier"):
        raise combination("Snapshots are not supported by RDS Emulator yet: stop without DBSnapshotIdentifier.")
    instance = _available(ctx, request["DBInstanceIdentifier"])
    return _queue(ctx, instance, "stop")


def start(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = _existing(ctx, request["DBInstanceIdentifier"])
    if instance.status != "stopped":
        raise RdsError(
            "InvalidDBInstanceState",
            f"Instance {instance.identifier} cannot be started as it is not in stopped state.",
        )
    return _queue(ctx, instance, "start")


def delete(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = _existing(ctx, request["DBInstanceIdentifier"])
    if request.get("FinalDBSnapshotIdentifier"):
        raise combination(
            "Snapshots are not supported by RDS Emulator yet: delete with SkipFinalSnapshot=true "
            "and no FinalDBSnapshotIdentifier."
        )
    if not request.get("SkipFinalSnapshot", False):
        raise combination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
    if instance.deletion_protection:
        raise combination("Cannot delete protected DB Instance, please disable deletion protection and try again.")
    if instance.status == "deleting":
        raise RdsError("InvalidDBInstanceState", f"Instance {instance.identifier} is already being deleted.")
    if instance.status not in ("available", "stopped", "failed"):
        raise RdsError("InvalidDBInstanceState", f"Instance {instance.identifier} is currently {instance.status}.")
    return _queue(ctx, instance, "delete")


# helpers


def _wire(ctx: Context, instance: Instance, tags: list[dict[str, str]]) -> dict[str, Any]:
    return instance.to_wire(ctx.instance_arn(instance.identifier), tags)


def _name(value: str) -> str:
    """An identifier, or the ARN of an instance."""
    if value.startswith("arn:"):
        kind, name = arn.parse(value)
        if kind != "db":
            raise invalid(f"The ARN {value} does not name a DB instance.")
        return name.lower()
    return value.lower()


def _existing(ctx: Context, identifier: str) -> Instance:
    name = _name(identifier)
    instance = ctx.store.find_instance(name)
    if instance is None:
        raise instance_not_found(name)
    return instance


def _available(ctx: Context, identifier: str) -> Instance:
    instance = _existing(ctx, identifier)
    if instance.status != "available":
        raise RdsError("InvalidDBInstanceState", f"Instance {instance.identifier} is not in available state.")
    return instance


def _queue(ctx: Context, instance: Instance, kind: str) -> dict[str, Any]:
    """Queue the task and answer with the status it gives; the task may finish (even delete) before we answer."""
    tags = ctx.store.tags_for(instance.resource_id)
    _queue_task(ctx, instance, kind, {}, {})
    ctx.kick()
    return {"DBInstance": _wire(ctx, replace(instance, task=kind), tags)}


def _queue_task(ctx: Context, instance: Instance, kind: str, params: dict, immediate: dict) -> None:
    try:
        ctx.store.queue_task(instance.resource_id, kind, params, ctx.clock.now(), **immediate)
    except TaskConflict:
        raise RdsError("InvalidDBInstanceState", f"Instance {instance.identifier} is busy: try again.") from None


def _apply(ctx: Context, instance: Instance, work: dict, immediate: dict, events: list[str]) -> str | None:
    """Immediate changes and the task that carries out the rest, in one transaction; the task's kind."""
    kind = None
    if work:
        kind = "reset-credentials" if set(work) == {"password"} else "modify"
        _queue_task(ctx, instance, kind, work, immediate)
    elif immediate:
        ctx.store.update_instance(instance.resource_id, **immediate)
    for message in events:
        ctx.instance_event(immediate.get("identifier", instance.identifier), message, "configuration change")
    if work:
        ctx.kick()
    return kind


def _modify_windows(request: dict[str, Any], instance: Instance, immediate: dict[str, Any]) -> None:
    backup = request.get("PreferredBackupWindow", instance.backup_window)
    maintenance = request.get("PreferredMaintenanceWindow", instance.maintenance_window)
    if (backup, maintenance) != (instance.backup_window, instance.maintenance_window):
        windows.check(backup, maintenance)
        immediate["backup_window"] = backup
        immediate["maintenance_window"] = maintenance.lower()


def _refuse_unsupported(request: dict[str, Any], supported: set[str], action: str) -> None:
    unsupported = sorted(set(request) - supported)
    if unsupported:
        raise invalid(f"The parameter {unsupported[0]} of {action} is not supported by RDS Emulator yet.")
    for member, what in FALSE_ONLY.items():
        if request.get(member):
            raise invalid(f"{what} are not supported by RDS Emulator yet: {member} must be false.")


def _engine_version(ctx: Context, engine: str, requested: str | None) -> catalogue.EngineVersion:
    offered = catalogue.engine_version(engine, ctx.server)
    if requested and not (offered.version == requested or offered.version.startswith(requested + ".")):
        raise combination(f"Cannot find version {requested} for {engine}")
    return offered


def _parameter_group(name: str | None, family: str) -> str:
    default = f"default.{family}"
    if name and name != default:
        raise RdsError("DBParameterGroupNotFound", f"DBParameterGroup {name} not found.")
    return default


def _port(ctx: Context, requested: int | None) -> int:
    used = ctx.store.used_ports()
    if requested is not None:
        if requested in used:
            raise invalid(f"Port {requested} is already used by another DB instance of this emulator.")
        return requested
    for candidate in PORT_RANGE:
        if candidate not in used and _bindable(ctx.settings.server_host, candidate):
            return candidate
    raise RdsError("InsufficientDBInstanceCapacity", "No free port is left for another DB instance.")


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _filters(filters: list[dict[str, Any]]) -> dict[str, list[str]]:
    criteria: dict[str, list[str]] = {}
    for item in filters:
        name, values = item["Name"], item["Values"]
        if name not in FILTERS:
            raise invalid(f"Unrecognized filter name: {name}")
        if name == "db-instance-id":
            criteria["identifiers"] = [_name(value) for value in values]
        elif name == "dbi-resource-id":
            criteria["resource_ids"] = list(values)
        else:
            criteria["engines"] = [value.lower() for value in values]
    return criteria
