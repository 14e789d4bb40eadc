"""DB snapshots: create, describe, copy, delete, and who may restore them."""

from dataclasses import replace
from typing import Any

from emulator.api import common
from emulator.api.paging import page
from emulator.context import Context
from emulator.model import ids, network, validation
from emulator.model.instance import Instance, observed_allowing
from emulator.model.keys import snapshot_key
from emulator.model.snapshot import Snapshot
from emulator.protocol.errors import RdsError, combination, invalid, shown
from emulator.store.errors import NameTaken, SnapshotGone, SnapshotInUse, StateConflict, TaskConflict
from emulator.work.backups import new_snapshot

FILTERS = ("db-instance-id", "db-snapshot-id", "dbi-resource-id", "snapshot-type", "engine")
TYPES = ("automated", "manual", "shared", "public", "awsbackup")
# The most accounts a manual snapshot may be shared with, as on RDS.
MAX_SHARES = 20


def create(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = validation.snapshot_identifier(request["DBSnapshotIdentifier"])
    instance = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    snapshot = new_snapshot(instance, name, "manual", ctx.clock.now())
    pairs = common.snapshot_tags(ctx, instance, request.get("Tags"))
    queue(ctx, snapshot, instance, pairs, "backup", observed_allowing("backup"))
    return {"DBSnapshot": wire(ctx, snapshot, validation.tag_list(pairs))}


def queue(ctx: Context, snapshot: Snapshot, instance: Instance, pairs: list[tuple[str, str]], kind: str,
          observed: tuple[str, ...], params: dict[str, Any] | None = None) -> None:
    """The snapshot and the instance's task that takes it, or RDS's refusal."""
    try:
        ctx.store.queue_snapshot(snapshot, pairs, ctx.clock.now(), kind, params, observed)
    except NameTaken:
        raise common.snapshot_exists(snapshot.identifier) from None
    except (StateConflict, TaskConflict):
        raise RdsError(
            "InvalidDBInstanceState",
            f"Cannot create a snapshot because the database instance {instance.identifier} is not currently in "
            "the available state.",
        ) from None
    ctx.kick()


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    criteria = _criteria(ctx, request)
    if request.get("DBSnapshotIdentifier") and not ctx.store.list_snapshots(identifiers=criteria["identifiers"]):
        raise common.snapshot_not_found(request["DBSnapshotIdentifier"])

    def fetch(after: str | None, n: int) -> list[Snapshot]:
        return ctx.store.list_snapshots(after=after, limit=n, **criteria)

    found, marker = page(fetch, lambda snapshot: snapshot.identifier, request)
    tags = ctx.store.tags_of(snapshot_key(snapshot.identifier) for snapshot in found)
    return {
        "DBSnapshots": [wire(ctx, snapshot, tags.get(snapshot_key(snapshot.identifier), [])) for snapshot in found],
        "Marker": marker,
    }


def delete(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    snapshot = common.existing_snapshot(ctx, request["DBSnapshotIdentifier"])
    if snapshot.snapshot_type == "automated":
        raise RdsError("InvalidDBSnapshotState", "Only manual snapshots may be deleted.")
    tags = ctx.store.tags_for(snapshot_key(snapshot.identifier))
    gone = ctx.snapshot_event(snapshot.identifier, "Deleted user snapshot")
    try:
        removed = ctx.store.remove_snapshot(snapshot.identifier, ctx.clock.now(), events=[gone])
    except SnapshotInUse:
        raise RdsError("InvalidDBSnapshotState", f"Cannot delete the snapshot {snapshot.identifier} while a copy of "
                                                 "it is made or a DB instance is restored from it.") from None
    if removed is None:
        current = ctx.store.get_snapshot(snapshot.identifier)
        if current is None:
            raise common.snapshot_not_found(snapshot.identifier)
        raise RdsError("InvalidDBSnapshotState", f"Cannot delete the snapshot {snapshot.identifier} while it is "
                                                 f"{current.status}.")
    return {"DBSnapshot": wire(ctx, replace(removed, status="deleted"), tags)}


# CopyDBSnapshot's members we honour (PreSignedUrl and SourceRegion are a cross-region copy's: refused)
COPY_MEMBERS = {"SourceDBSnapshotIdentifier", "TargetDBSnapshotIdentifier", "Tags", "CopyTags", "KmsKeyId",
                "OptionGroupName", "CopyOptionGroup"}


def copy(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    common.refuse_unsupported(request, COPY_MEMBERS, "CopyDBSnapshot")
    source = common.existing_snapshot(ctx, request["SourceDBSnapshotIdentifier"])
    if request.get("KmsKeyId") and (not source.storage_encrypted
                                    or common.storage_key(ctx, request["KmsKeyId"]) != source.kms_key_id):
        raise combination("RDS Emulator cannot yet encrypt a snapshot's copy with another KMS key than its "
                          "source's, nor encrypt an unencrypted snapshot's (docs/encryption.md).")
    group = common.option_group_for(ctx, request.get("OptionGroupName"), source.engine, source.engine_version) \
        if request.get("OptionGroupName") else source.option_group
    target = validation.snapshot_identifier(request["TargetDBSnapshotIdentifier"], "TargetDBSnapshotIdentifier")
    if source.status != "available":
        raise RdsError("InvalidDBSnapshotState", f"Snapshot {source.identifier} is not in available state.")
    pairs = [(tag["Key"], tag["Value"]) for tag in ctx.store.tags_for(snapshot_key(source.identifier))] \
        if request.get("CopyTags") else []
    pairs = list(dict(pairs + validation.tags(request.get("Tags", []))).items())
    made = replace(source, identifier=target, snapshot_type="manual", status="creating", progress=0,
                   created_at=ctx.clock.now(), storage_key=f"snapshots/{ids.token()}.mbstream",
                   source_snapshot=source.identifier, restore_accounts=[], option_group=group)
    try:
        ctx.store.add_copy(made, pairs, source.storage_key, ctx.clock.now())
    except NameTaken:
        raise common.snapshot_exists(target) from None
    except SnapshotGone:
        raise common.snapshot_not_found(source.identifier) from None
    ctx.kick()
    return {"DBSnapshot": wire(ctx, made, validation.tag_list(pairs))}


def modify_attribute(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    snapshot = common.existing_snapshot(ctx, request["DBSnapshotIdentifier"])
    if request["AttributeName"] != "restore":
        raise invalid(f"Invalid snapshot attribute name {shown(request['AttributeName'])}: only restore is known.")
    if snapshot.snapshot_type == "automated":
        raise RdsError("InvalidDBSnapshotState", "Automated snapshots cannot be shared: copy it first.")
    adding, removing = request.get("ValuesToAdd", []), request.get("ValuesToRemove", [])
    for value in adding + removing:
        if value != "all" and not validation.ACCOUNT_ID.match(value):
            raise invalid(f"Invalid AWS account id {shown(value)}: give 12 digits, or all.")
    accounts = [value for value in dict.fromkeys(snapshot.restore_accounts + adding) if value not in removing]
    if len([value for value in accounts if value != "all"]) > MAX_SHARES:
        raise RdsError("SharedSnapshotQuotaExceeded", f"A snapshot can be shared with at most {MAX_SHARES} accounts.")
    ctx.store.update_snapshot(snapshot.identifier, restore_accounts=accounts)
    return {"DBSnapshotAttributesResult": _attributes(snapshot.identifier, accounts)}


def modify(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    """ModifyDBSnapshot: a manual snapshot upgraded to a newer engine version, as RDS allows. Its backup stays
    as it was made: a restore of it unpacks the backup with the tools of the version that made it, then
    starts the newer server over it, which upgrades it as an instance's major upgrade does."""
    snapshot = common.existing_snapshot(ctx, request["DBSnapshotIdentifier"])
    if not request.get("EngineVersion"):
        if request.get("OptionGroupName"):
            group = common.option_group_for(ctx, request["OptionGroupName"], snapshot.engine,
                                            snapshot.engine_version)
            snapshot = replace(snapshot, option_group=group)
            ctx.store.update_snapshot(snapshot.identifier, option_group=group)
        return {"DBSnapshot": wire(ctx, snapshot, _tags(ctx, snapshot))}
    if snapshot.snapshot_type == "automated":
        raise RdsError("InvalidDBSnapshotState", "Automated snapshots cannot be upgraded: copy it first.")
    if snapshot.status != "available":
        raise RdsError("InvalidDBSnapshotState", f"The snapshot {snapshot.identifier} is not available.")
    target = common.upgrade_target(ctx, snapshot.engine, snapshot.engine_version, request["EngineVersion"])
    if target is None:
        return {"DBSnapshot": wire(ctx, snapshot, _tags(ctx, snapshot))}
    group = common.option_group_for(ctx, request.get("OptionGroupName"), snapshot.engine, target.version)
    upgraded = replace(snapshot, engine_version=target.version, data_version=snapshot.made_with, option_group=group)
    ctx.store.update_snapshot(snapshot.identifier, engine_version=upgraded.engine_version,
                              data_version=upgraded.data_version, option_group=group)
    return {"DBSnapshot": wire(ctx, upgraded, _tags(ctx, snapshot))}


def _tags(ctx: Context, snapshot: Snapshot) -> list[dict[str, str]]:
    return ctx.store.tags_for(snapshot_key(snapshot.identifier))


def describe_attributes(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    snapshot = common.existing_snapshot(ctx, request["DBSnapshotIdentifier"])
    return {"DBSnapshotAttributesResult": _attributes(snapshot.identifier, snapshot.restore_accounts)}


def _attributes(identifier: str, accounts: list[str]) -> dict[str, Any]:
    return {"DBSnapshotIdentifier": identifier,
            "DBSnapshotAttributes": [{"AttributeName": "restore", "AttributeValues": accounts}]}


# helpers


def wire(ctx: Context, snapshot: Snapshot, tags: list[dict[str, str]]) -> dict[str, Any]:
    return snapshot.to_wire(ctx.arn("snapshot", snapshot.identifier), tags,
                            network.vpc_id(ctx.settings.region, ctx.settings.account_id))




def _criteria(ctx: Context, request: dict[str, Any]) -> dict[str, list[str]]:
    criteria: dict[str, list[str]] = {}
    if request.get("DBSnapshotIdentifier"):
        criteria["identifiers"] = [common.snapshot_name_of(request["DBSnapshotIdentifier"])]
    if request.get("DBInstanceIdentifier"):
        criteria["instance_identifiers"] = [common.instance_name_of(request["DBInstanceIdentifier"])]
    if request.get("DbiResourceId"):
        criteria["instance_resource_ids"] = [request["DbiResourceId"]]
    kind = request.get("SnapshotType")
    if kind:
        if kind not in TYPES:
            raise invalid(f"Invalid snapshot type {shown(kind)}: choose one of {', '.join(TYPES)}.")
        criteria["types"] = [kind]
    for item in request.get("Filters", []):
        name, values = item["Name"], item["Values"]
        if name not in FILTERS:
            raise invalid(f"Unrecognized filter name: {shown(name)}")
        column = {"db-instance-id": "instance_identifiers", "db-snapshot-id": "identifiers",
                  "dbi-resource-id": "instance_resource_ids", "snapshot-type": "types", "engine": "engines"}[name]
        if column == "engines":
            values = [value.lower() for value in values]
        elif column == "instance_identifiers":
            values = [common.instance_name_of(value) for value in values]
        elif column == "identifiers":
            values = [common.snapshot_name_of(value) for value in values]
        criteria[column] = [value for value in values if value in criteria[column]] if column in criteria \
            else list(values)
    # shared, public and awsbackup find nothing: no other account shares with us, and AWS Backup is not here
    return criteria

