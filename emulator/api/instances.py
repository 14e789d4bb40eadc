"""DB instances: create, describe, modify, reboot, stop, start, delete."""

from dataclasses import replace
from typing import Any

from emulator.api import common, master_users
from emulator.api.paging import page
from emulator.context import Context
from emulator.model import catalogue, ids, network, storage, validation, windows
from emulator.model.events import RENAMED, UPDATED_PARAMETER_GROUP
from emulator.model.instance import Instance, not_allowed_message, observed_allowing
from emulator.protocol import xml
from emulator.protocol.errors import RdsError, combination, instance_exists, instance_not_found, invalid, shown
from emulator.protocol.shapes import RDS
from emulator.store import Store
from emulator.store.errors import HasReplicas, NameTaken, StateConflict, TaskConflict
from emulator.work import backups, security_groups

# Members of CreateDBInstance we honour; any other that is sent is refused, never silently dropped.
CREATE_MEMBERS = {
    "DBInstanceIdentifier", "DBInstanceClass", "Engine", "EngineVersion", "AllocatedStorage", "StorageType",
    "MasterUsername", "MasterUserPassword", "DBName", "Port", "AvailabilityZone", "PreferredBackupWindow",
    "PreferredMaintenanceWindow", "BackupRetentionPeriod", "DBParameterGroupName", "Tags",
    "AutoMinorVersionUpgrade", "PubliclyAccessible", "DeletionProtection", "CopyTagsToSnapshot",
    "LicenseModel", "DBSubnetGroupName", "VpcSecurityGroupIds", "Iops", "StorageThroughput", "DBSecurityGroups",
    "MultiAZ", "OptionGroupName", "StorageEncrypted", "KmsKeyId", "MaxAllocatedStorage", "CACertificateIdentifier",
} | master_users.MEMBERS
MODIFY_MEMBERS = master_users.MODIFY_MEMBERS | {
    "DBInstanceIdentifier", "ApplyImmediately", "MasterUserPassword", "DBInstanceClass", "AllocatedStorage",
    "BackupRetentionPeriod", "PreferredBackupWindow", "PreferredMaintenanceWindow", "DBParameterGroupName",
    "NewDBInstanceIdentifier", "AutoMinorVersionUpgrade", "DeletionProtection", "CopyTagsToSnapshot",
    "PubliclyAccessible", "DBSubnetGroupName", "VpcSecurityGroupIds", "Iops", "StorageThroughput",
    "StorageType", "DBSecurityGroups", "EngineVersion", "AllowMajorVersionUpgrade", "MultiAZ", "OptionGroupName",
    "MaxAllocatedStorage", "CACertificateIdentifier", "CertificateRotationRestart",
}
# Members that infrastructure tools send by default, accepted when they ask for what every instance here
# already is (and reported so); any other value is refused by name, since we could not honour it.
FILTERS = ("db-instance-id", "dbi-resource-id", "engine")
# Creates racing for ports try this many candidates before giving up.
INSTANCE_SHAPE = RDS.operations["DescribeDBInstances"].output.members["DBInstances"][0].member


def create(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    common.refuse_unsupported(request, CREATE_MEMBERS, "CreateDBInstance")
    identifier = validation.identifier(request["DBInstanceIdentifier"])
    engine = validation.engine(request["Engine"])
    version = common.engine_version(ctx, engine, request.get("EngineVersion"))
    storage_type = validation.storage_type(request.get("StorageType"))
    size = validation.allocated_storage(request.get("AllocatedStorage"), engine, storage_type)
    iops, throughput = storage.performance(
        storage_type, size, request.get("Iops"), request.get("StorageThroughput"), engine
    )
    resource_id = ids.resource_id()
    backup, maintenance = windows.defaults(
        resource_id, request.get("PreferredBackupWindow"), request.get("PreferredMaintenanceWindow")
    )
    license_model = request.get("LicenseModel", catalogue.LICENSE_MODEL)
    if license_model != catalogue.LICENSE_MODEL:
        raise invalid(f"Invalid license model '{shown(license_model)}' for engine {engine}")
    instance = Instance(
        resource_id=resource_id,
        identifier=identifier,
        engine=engine,
        engine_version=version.version,
        instance_class=validation.instance_class(request["DBInstanceClass"]),
        master_username=validation.master_username(request.get("MasterUsername"), engine),
        **master_users.for_new(ctx, request, version.row.flavor),
        allocated_storage=size,
        storage_type=storage_type,
        port=0,
        availability_zone=validation.availability_zone(request.get("AvailabilityZone"), ctx.settings.region),
        backup_window=backup,
        maintenance_window=maintenance,
        retention=validation.retention(request.get("BackupRetentionPeriod")),
        parameter_group=common.parameter_group_for_instance(ctx, request.get("DBParameterGroupName"), version.family),
        created_at=ctx.clock.now(),
        db_name=validation.db_name(request.get("DBName")),
        address=ctx.settings.server_host,
        db_security_groups=common.security_group_memberships(ctx, request.get("DBSecurityGroups") or []),
        iops=iops,
        storage_throughput=throughput,
        max_allocated_storage=validation.max_allocated_storage(request.get("MaxAllocatedStorage"), size, storage_type),
        ca_certificate=common.ca_certificate(request.get("CACertificateIdentifier")),
        option_group=common.option_group_for(ctx, request.get("OptionGroupName"), engine, version.version),
        **common.encryption(ctx, request, engine, version.version),
        **common.instance_options(ctx, request),
    )
    instance = replace(instance, **common.multi_az(ctx, request, instance.availability_zone))
    tag_pairs = validation.tags(request.get("Tags", []))
    with common.room(ctx, instance, instance.instance_class, instance.multi_az):
        instance = common.insert_instance(ctx, instance, validation.port(request.get("Port")), tag_pairs)
    ctx.kick()
    around = ctx.store.surroundings([instance], {instance.resource_id: validation.tag_list(tag_pairs)})
    return common.instance_answer(ctx, replace(instance, task="create"), around[instance.resource_id])


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("DBInstanceIdentifier"):
        return {"DBInstances": [_described(ctx, common.instance_name_of(request["DBInstanceIdentifier"]))]}
    criteria = _filters(request.get("Filters", []))

    def fetch(after: str | None, n: int) -> list[Instance]:
        return ctx.store.list_instances(after=after, limit=n, **criteria)

    found, marker = page(fetch, lambda instance: instance.identifier, request)
    around = ctx.store.surroundings(found)
    return {"DBInstances": [common.instance_wire(ctx, instance, around[instance.resource_id]) for instance in found],
            "Marker": marker}


def _described(ctx: Context, name: str) -> dict[str, Any] | xml.Written:
    """The instance as DescribeDBInstances gives it: written once for each state it is in, since clients
    poll one instance far more often than it changes. Only an instance in the default parameter and subnet
    groups is kept, as the rows say all it depends on; another group's values are in rows of their own."""
    rows = ctx.store.instance_rows(name)
    if not rows:
        raise instance_not_found(name)
    kept = ctx.written.get(rows) if not ctx.full else None  # rows do not say what the watch sees of storage
    if kept is not None:
        return kept
    instance, tags = Store.instance_of(rows)
    value = common.instance_wire(ctx, instance, ctx.store.surroundings([instance], {instance.resource_id: tags})[
        instance.resource_id])
    # a replica's StatusInfos are what its server said last, which its rows do not hold
    if instance.parameter_group.startswith("default.") and instance.subnet_group == network.DEFAULT_SUBNET_GROUP \
            and not ctx.full and instance.replica_source is None:
        ctx.written.put(rows, xml.written(INSTANCE_SHAPE, value))
    return value


def modify(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    common.refuse_unsupported(request, MODIFY_MEMBERS, "ModifyDBInstance")
    instance = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    now = request.get("ApplyImmediately", False)
    work: dict[str, Any] = {}
    immediate: dict[str, Any] = {}
    events: list[str] = []
    if "DBInstanceClass" in request and request["DBInstanceClass"] != instance.instance_class:
        work["instance_class"] = validation.instance_class(request["DBInstanceClass"])
    _modify_storage(request, instance, work)
    if "MultiAZ" in request and request["MultiAZ"] != instance.multi_az:
        if request["MultiAZ"]:
            common.standby_possible(ctx)
        work["multi_az"] = request["MultiAZ"]
    upgrade = _upgrade(ctx, instance, request) if request.get("EngineVersion") else {}
    _modify_option_group(ctx, instance, request, upgrade, work)
    if request.get("CACertificateIdentifier") and request["CACertificateIdentifier"] != instance.ca_certificate:
        work["ca_certificate"] = common.ca_certificate(request["CACertificateIdentifier"])
        work["rotation_restart"] = request.get("CertificateRotationRestart", True)
    _replication_allows(ctx, instance, request, upgrade)
    work |= upgrade
    deferred: dict[str, Any] = {}
    if not now:  # class and storage wait for the maintenance window, as on RDS
        deferred, work = work, {}
    credentials = master_users.for_modify(ctx, instance, request, ctx.flavor(instance))
    immediate |= credentials
    if "password_hash" in credentials:
        work["password"] = True
    _modify_windows(request, instance, immediate)
    if "MaxAllocatedStorage" in request:
        size = work.get("allocated_storage") or deferred.get("allocated_storage") or instance.allocated_storage
        immediate["max_allocated_storage"] = validation.max_allocated_storage(
            request["MaxAllocatedStorage"], size, instance.storage_type)
    if "BackupRetentionPeriod" in request:
        retention = validation.retention(request["BackupRetentionPeriod"])
        if retention == 0 and instance.read_replicas:
            raise combination("Cannot set the backup retention period to 0 on a DB instance that has read "
                              "replicas.")
        if (retention == 0) != (instance.retention == 0):
            events.append("Disabled automated backups" if retention == 0 else "Enabled automated backups")
        immediate["retention"] = retention
    group = request.get("DBParameterGroupName")
    if group and group.lower() != instance.parameter_group and "parameter_group" not in upgrade:
        family = common.served_row(ctx, instance.engine, instance.engine_version).family
        immediate["parameter_group"] = common.parameter_group_for_instance(ctx, group, family)
        events.append(UPDATED_PARAMETER_GROUP.format(name=immediate["parameter_group"]))
    if request.get("DBSubnetGroupName"):
        immediate["subnet_group"] = common.existing_subnet_group(ctx, request["DBSubnetGroupName"])
    if "VpcSecurityGroupIds" in request:
        immediate["vpc_security_groups"] = common.vpc_security_groups(request["VpcSecurityGroupIds"])
    if "DBSecurityGroups" in request:
        immediate["db_security_groups"] = common.security_group_memberships(ctx, request["DBSecurityGroups"])
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
        if new != instance.identifier and not now:
            if ctx.store.find_instance(new) is not None:
                raise instance_exists()
            deferred["identifier"] = new
        elif new != instance.identifier:
            immediate["identifier"] = new
            events.append(RENAMED.format(old=instance.identifier, new=new))
    # a change with ApplyImmediately=true takes the waiting ones with it
    take = bool(now and instance.pending)
    new_class = work.get("instance_class") or (instance.pending.get("instance_class") if take else None)
    multi_az = work.get("multi_az", instance.pending.get("multi_az") if take else None)
    if multi_az and new_class is None:  # a standby is added: the primary keeps its class
        new_class = instance.instance_class
    also = [security_groups.firewall_sync(ctx, instance.resource_id)] if "db_security_groups" in immediate else []
    with common.room(ctx, instance, new_class, instance.multi_az if multi_az is None else multi_az):
        kind = _apply(ctx, instance, work, immediate, events, deferred, take, also)
    if immediate.get("retention") == 0 and instance.retention != 0:
        backups.forget(ctx, instance.resource_id)
    elif immediate.get("retention") and instance.retention == 0 and kind is None:
        kind = _first_backup(ctx, instance)
    pending = {} if take else {**instance.pending, **deferred}
    changed = replace(instance, **immediate, pending=pending, task=kind,
                      task_params={**instance.pending, **work} if kind else None)
    return common.instance_answer(ctx, changed)


def _upgrade(ctx: Context, instance: Instance, request: dict[str, Any]) -> dict[str, Any]:
    """The modify task's params for a new EngineVersion (none when it is the one the instance runs): a newer
    minor, or a newer major with AllowMajorVersionUpgrade and a parameter group of the new family (the
    default one's successor, or the one named), as RDS takes them."""
    target = common.upgrade_target(ctx, instance.engine, instance.engine_version, request["EngineVersion"])
    if target is None:
        return {}
    current = common.served_row(ctx, instance.engine, instance.engine_version)
    if target.row.major == current.major:
        return {"engine_version": target.version}
    if not request.get("AllowMajorVersionUpgrade"):
        raise combination("The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.")
    if request.get("DBParameterGroupName"):
        group = common.parameter_group_for_instance(ctx, request["DBParameterGroupName"], target.family)
    elif common.is_default_parameter_group(instance.parameter_group):
        group = f"{common.DEFAULT_PREFIX}{target.family}"
    else:
        raise combination(
            f"The DB parameter group {instance.parameter_group} is of family {current.family}; an upgrade to "
            f"{target.version} needs a DB parameter group of family {target.family} in DBParameterGroupName.")
    return {"engine_version": target.version, "parameter_group": group}


def _modify_option_group(ctx: Context, instance: Instance, request: dict[str, Any], upgrade: dict[str, Any],
                         work: dict[str, Any]) -> None:
    """OptionGroupName: the group the instance moves to, of its engine version (the new one, for an upgrade);
    a major upgrade moves an instance in its default group to the new version's default, and needs one named
    for an instance in a group of its own."""
    if "engine_version" not in upgrade and not request.get("OptionGroupName"):
        return
    version = upgrade.get("engine_version", instance.engine_version)
    major = common.served_row(ctx, instance.engine, instance.engine_version).major
    new_major = common.served_row(ctx, instance.engine, version).major != major
    if request.get("OptionGroupName"):
        chosen = common.option_group_for(ctx, request["OptionGroupName"], instance.engine, version)
        if chosen != instance.option_group or new_major:
            work["option_group"] = chosen or catalogue.option_group(instance.engine, version)
    elif new_major and instance.option_group:
        raise combination(f"The option group {instance.option_group} is for {instance.engine} {major}: name one "
                          f"of {version}'s in OptionGroupName to upgrade to it.")


def _first_backup(ctx: Context, instance: Instance) -> str | None:
    """Automated backups just turned on are taken at once, as on RDS: point-in-time restore starts there. An
    instance busy meanwhile gets its first one in its next backup window."""
    params = backups.automated(instance, ctx.clock.now())
    try:
        ctx.queue("db-instance", instance.resource_id, "backup", params, observed=observed_allowing("backup"))
    except (TaskConflict, StateConflict):
        return None
    return "backup"


def _replication_allows(ctx: Context, instance: Instance, request: dict[str, Any], upgrade: dict[str, Any]) -> None:
    """What replication rules out, as on RDS for MySQL and MariaDB: a replica's master password is its
    source's (a write of its own would be a transaction its source never had), and a source moves to a newer
    major only after its replicas (a replica cannot apply a newer server's log)."""
    if instance.replica_source is not None and master_users.MODIFY_MEMBERS.union({"MasterUserPassword"}) & set(request):
        raise combination(f"DB instance {instance.identifier} is a read replica: its master user password is its "
                          "source's. Change it on the source.")
    if "engine_version" not in upgrade or not instance.read_replicas:
        return
    major = common.served_row(ctx, instance.engine, upgrade["engine_version"]).major
    for name in instance.read_replicas:
        replica = ctx.store.find_instance(name)
        if replica is not None and common.served_row(ctx, replica.engine, replica.engine_version).major != major \
                and catalogue.newer(upgrade["engine_version"], replica.engine_version):
            raise combination(f"Upgrade the read replica {name} of DB instance {instance.identifier} to "
                              f"{upgrade['engine_version']} first: a source's major version may not pass its "
                              "replicas'.")


def reboot(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    if not request.get("ForceFailover"):
        return _queue(ctx, instance, "reboot")
    if not instance.multi_az:
        raise combination("ForceFailover can only be used on a Multi-AZ DB instance.")
    # the failover names the server it moves away from: one queued twice (a retry) moves once
    around = ctx.store.surroundings([instance])[instance.resource_id]
    _queue_task(ctx, instance, "reboot", "failover", {"from": instance.active_server, "forced": True}, {})
    return common.instance_answer(ctx, replace(instance, task="failover"), around)


def stop(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    if instance.replica_source is not None or instance.read_replicas:
        raise common.stop_refused(instance.identifier)
    if request.get("DBSnapshotIdentifier"):
        return _with_snapshot(ctx, instance, "stop", request["DBSnapshotIdentifier"], "DBSnapshotIdentifier", {})
    return _queue(ctx, instance, "stop")


def start(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    with common.room(ctx, instance, instance.instance_class, instance.multi_az):
        return _queue(ctx, instance, "start")


def delete(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    final, skip = request.get("FinalDBSnapshotIdentifier"), request.get("SkipFinalSnapshot", False)
    if skip and final:
        raise combination("Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.")
    if not skip and not final:
        raise combination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
    if instance.deletion_protection:
        raise combination("Cannot delete protected DB Instance, please disable deletion protection and try again.")
    params = {"delete_automated_backups": request.get("DeleteAutomatedBackups", True)}
    if final:
        return _with_snapshot(ctx, instance, "delete", final, "FinalDBSnapshotIdentifier", params)
    around = ctx.store.surroundings([instance])[instance.resource_id]
    _queue_task(ctx, instance, "delete", "delete", params, {})
    return common.instance_answer(ctx, replace(instance, task="delete"), around)


def _with_snapshot(ctx: Context, instance: Instance, action: str, name: str, member: str,
                   params: dict[str, Any]) -> dict[str, Any]:
    """Stop or delete after a snapshot of the running server (a stopped one is refused: it cannot be
    backed up hot, and RDS takes these snapshots of running instances)."""
    snapshot = backups.new_snapshot(instance, validation.snapshot_identifier(name, member), "manual",
                                        ctx.clock.now())
    pairs = common.snapshot_tags(ctx, instance, None)
    around = ctx.store.surroundings([instance])[instance.resource_id]
    try:
        ctx.store.queue_snapshot(snapshot, pairs, ctx.clock.now(), action, params, ("running",))
    except NameTaken:
        raise common.snapshot_exists(snapshot.identifier) from None
    except (StateConflict, TaskConflict):
        _refuse(ctx, instance, action)
    ctx.kick()
    return common.instance_answer(ctx, replace(instance, task=action), around)


# helpers


def _queue(ctx: Context, instance: Instance, action: str) -> dict[str, Any]:
    """Queue the task and answer with the status it gives; the task may finish (even delete) before we answer."""
    around = ctx.store.surroundings([instance])[instance.resource_id]
    _queue_task(ctx, instance, action, action, {}, {})
    return common.instance_answer(ctx, replace(instance, task=action), around)


def _queue_task(ctx: Context, instance: Instance, action: str, kind: str, params: dict, immediate: dict,
                **options: Any) -> None:
    """The store checks the instance's state and that no task is under way, as it queues: of two requests
    racing for one instance, one wins and the other is told the instance's state, as RDS tells it."""
    try:
        with common.refused_by_store(immediate.get("parameter_group")):
            ctx.queue("db-instance", instance.resource_id, kind, params, observed=observed_allowing(action),
                      alone=action == "stop", **options, **immediate)
    except (TaskConflict, StateConflict):
        _refuse(ctx, instance, action)
    except HasReplicas:
        raise common.stop_refused(instance.identifier) from None


def _refuse(ctx: Context, instance: Instance, action: str) -> None:
    current = ctx.store.get_instance(instance.resource_id)
    if current is None:
        raise instance_not_found(instance.identifier)
    raise RdsError("InvalidDBInstanceState", not_allowed_message(action, instance.identifier, current.status))


def _apply(ctx: Context, instance: Instance, work: dict, immediate: dict, events: list[str], deferred: dict,
           take: bool, also: list[tuple]) -> str | None:
    """Immediate changes, those deferred to the maintenance window, the task that carries out the rest (with
    the waiting changes, when `take`) and `also` (other resources' tasks), in one transaction; the task's kind."""
    kind = None
    if work or take:
        kind = "reset-credentials" if set(work) == {"password"} and not take else "modify"
        _queue_task(ctx, instance, "modify", kind, work, immediate, take_pending=take, defer=deferred or None,
                    also=also)
    elif immediate or deferred:
        with common.refused_by_store(immediate.get("parameter_group")):
            changed = ctx.store.update_instance_when(
                instance.resource_id, observed_allowing("modify"),
                defer=(deferred, ctx.clock.now()) if deferred else None, also=also, **immediate
            )
        if not changed:
            _refuse(ctx, instance, "modify")
    if also:
        ctx.kick()
    for message in events:
        ctx.instance_event(immediate.get("identifier", instance.identifier), message, "configuration change")
    return kind


def _modify_storage(request: dict[str, Any], instance: Instance, work: dict[str, Any]) -> None:
    kind = validation.storage_type(request.get("StorageType", instance.storage_type))
    if kind != instance.storage_type:
        raise combination("Changing StorageType is not supported by RDS Emulator yet.")
    size = instance.allocated_storage
    if "AllocatedStorage" in request and request["AllocatedStorage"] != size:
        size = validation.allocated_storage(request["AllocatedStorage"], instance.engine, kind)
        if size < instance.allocated_storage:
            raise invalid("Invalid storage size: allocated storage can only be increased.")
        work["allocated_storage"] = size
    if not work and "Iops" not in request and "StorageThroughput" not in request:
        return
    # gp3's baseline follows the size: figures that were the old baseline are not a choice to keep
    base = storage.performance(kind, instance.allocated_storage, None, None, instance.engine) if kind == "gp3" else None
    iops = request.get("Iops", None if base and instance.iops == base[0] else instance.iops)
    throughput = request.get(
        "StorageThroughput", None if base and instance.storage_throughput == base[1] else instance.storage_throughput
    )
    new_iops, new_throughput = storage.performance(kind, size, iops, throughput, instance.engine)
    if (new_iops, new_throughput) != (instance.iops, instance.storage_throughput):
        work["iops"], work["storage_throughput"] = new_iops, new_throughput


def _modify_windows(request: dict[str, Any], instance: Instance, immediate: dict[str, Any]) -> None:
    backup = request.get("PreferredBackupWindow", instance.backup_window)
    maintenance = request.get("PreferredMaintenanceWindow", instance.maintenance_window)
    if (backup, maintenance) != (instance.backup_window, instance.maintenance_window):
        windows.check(backup, maintenance)
        immediate["backup_window"] = backup
        immediate["maintenance_window"] = maintenance.lower()


def _filters(filters: list[dict[str, Any]]) -> dict[str, list[str]]:
    criteria: dict[str, list[str]] = {}
    for item in filters:
        name, values = item["Name"], item["Values"]
        if name not in FILTERS:
            raise invalid(f"Unrecognized filter name: {shown(name)}")
        if name == "db-instance-id":
            criteria["identifiers"] = [common.instance_name_of(value) for value in values]
        elif name == "dbi-resource-id":
            criteria["resource_ids"] = list(values)
        else:
            criteria["engines"] = [value.lower() for value in values]
    return criteria
