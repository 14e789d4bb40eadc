"""Read replicas: CreateDBInstanceReadReplica and PromoteReadReplica."""

from dataclasses import replace
from typing import Any

from emulator.api import common
from emulator.context import Context
from emulator.model import ids, validation, windows
from emulator.model.instance import Instance, not_allowed_message, observed_allowing
from emulator.protocol.errors import RdsError, combination, instance_not_found
from emulator.store.errors import SourceRefused, StateConflict, TaskConflict

# Members of CreateDBInstanceReadReplica we honour; the rest are refused unless they ask for what we are.
REPLICA_MEMBERS = {
    "DBInstanceIdentifier", "SourceDBInstanceIdentifier", "DBInstanceClass", "AvailabilityZone", "Port",
    "AutoMinorVersionUpgrade", "Iops", "StorageThroughput", "DBParameterGroupName", "PubliclyAccessible", "Tags",
    "DBSubnetGroupName", "VpcSecurityGroupIds", "StorageType", "CopyTagsToSnapshot", "DeletionProtection",
    "AllocatedStorage", "OptionGroupName", "KmsKeyId", "MaxAllocatedStorage", "CACertificateIdentifier",
}
PROMOTE_MEMBERS = {"DBInstanceIdentifier", "BackupRetentionPeriod", "PreferredBackupWindow"}
# RDS for MySQL and MariaDB: a chain of at most three read replicas from a source instance.
CHAIN = 3


def create(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    common.refuse_unsupported(request, REPLICA_MEMBERS, "CreateDBInstanceReadReplica")
    identifier = validation.identifier(request["DBInstanceIdentifier"])
    if not request.get("SourceDBInstanceIdentifier"):
        raise RdsError("MissingParameter", "The request must contain the parameter SourceDBInstanceIdentifier.")
    source = common.existing_instance(ctx, request["SourceDBInstanceIdentifier"])
    if source.retention == 0:
        raise RdsError("InvalidDBInstanceState",
                       "Automated backups are not enabled for this database instance. To enable automated "
                       "backups, use ModifyDBInstance to set the backup retention period to a non-zero value.")
    _chain_allows(ctx, source)
    sized = common.storage_of_copy(request, source, "the source's")
    family = common.served_row(ctx, source.engine, source.engine_version).family
    resource_id = ids.resource_id()
    backup_window, maintenance = windows.defaults(resource_id, None, None)
    replica = Instance(
        resource_id=resource_id, identifier=identifier, engine=source.engine, engine_version=source.engine_version,
        instance_class=validation.instance_class(request.get("DBInstanceClass", source.instance_class)),
        master_username=source.master_username, password_hash=source.password_hash,
        port=0,
        availability_zone=validation.availability_zone(request.get("AvailabilityZone"), ctx.settings.region),
        backup_window=backup_window, maintenance_window=maintenance, retention=0,
        parameter_group=common.parameter_group_for_instance(ctx, request.get("DBParameterGroupName"), family),
        created_at=ctx.clock.now(), db_name=source.db_name, address=ctx.settings.server_host,
        replica_source=source.resource_id, **common.instance_options(ctx, request), **sized,
        option_group=common.option_group_for(ctx, request.get("OptionGroupName") or source.option_group,
                                             source.engine, source.engine_version),
        **_encryption(ctx, source, request.get("KmsKeyId")),
        ca_certificate=common.ca_certificate(request.get("CACertificateIdentifier")),
        max_allocated_storage=validation.max_allocated_storage(request.get("MaxAllocatedStorage"),
                                                               sized["allocated_storage"], sized["storage_type"]),
    )
    tag_pairs = validation.tags(request.get("Tags", []))
    try:
        with common.room(ctx, replica, replica.instance_class):
            replica = common.insert_instance(ctx, replica, validation.port(request.get("Port")), tag_pairs,
                                             ("replicate", {}))
    except SourceRefused as refused:
        raise _refused(source.identifier, refused) from None
    ctx.kick()
    around = ctx.store.surroundings([replica], {replica.resource_id: validation.tag_list(tag_pairs)})
    made = replace(replica, task="replicate", source_identifier=source.identifier)
    return common.instance_answer(ctx, made, around[replica.resource_id])


def _refused(source: str, refused: SourceRefused) -> RdsError:
    if refused.reason == "replicas":
        return RdsError("InstanceQuotaExceeded",
                        f"DB instance {source} already has {refused.limit} read replicas, the most it may have.")
    if refused.reason == "gone":
        return instance_not_found(source)
    return RdsError("InvalidDBInstanceState", f"Instance {source} is not in available state.")


def promote(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    common.refuse_unsupported(request, PROMOTE_MEMBERS, "PromoteReadReplica")
    replica = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    if replica.replica_source is None:
        raise RdsError("InvalidDBInstanceState", f"DB instance {replica.identifier} is not a read replica.")
    params: dict[str, Any] = {"retention": validation.retention(request.get("BackupRetentionPeriod"))}
    if request.get("PreferredBackupWindow"):
        windows.check(request["PreferredBackupWindow"], replica.maintenance_window)
        params["backup_window"] = request["PreferredBackupWindow"]
    around = ctx.store.surroundings([replica])[replica.resource_id]
    try:
        ctx.queue("db-instance", replica.resource_id, "promote", params, observed=observed_allowing("promote"))
    except (TaskConflict, StateConflict):
        current = ctx.store.get_instance(replica.resource_id)
        if current is None:
            raise instance_not_found(replica.identifier) from None
        raise RdsError("InvalidDBInstanceState",
                       not_allowed_message("promote", replica.identifier, current.status)) from None
    return common.instance_answer(ctx, replace(replica, task="promote"), around)


def _chain_allows(ctx: Context, source: Instance) -> None:
    """A source that is the last of a chain of CHAIN read replicas takes none. Read before the insert: a chain
    only ever gets shorter (a promotion), so a replica that was allowed stays allowed."""
    above, ancestor = 0, source
    while ancestor.replica_source is not None and above < CHAIN:
        above += 1
        found = ctx.store.get_instance(ancestor.replica_source)
        if found is None:
            break
        ancestor = found
    if above >= CHAIN:
        raise RdsError("InvalidDBInstanceState",
                       f"DB instance {source.identifier} is the last of a chain of {CHAIN} read replicas: it cannot "
                       "have read replicas of its own.")


def _encryption(ctx: Context, source: Instance, key: str | None) -> dict[str, Any]:
    """A replica in the source's region is encrypted as its source is, with its key (KmsKeyId is for a
    replica in another region: here it may only name the source's key)."""
    if key and (not source.storage_encrypted or common.storage_key(ctx, key) != source.kms_key_id):
        raise combination("KmsKeyId is for a read replica in another region: a replica here is encrypted with "
                          "its source's key, or not at all.")
    return common.encrypted_as(ctx, source)
