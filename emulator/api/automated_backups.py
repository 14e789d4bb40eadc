"""Automated backups, one set a DB instance (its automated snapshots and archived binary logs):
DescribeDBInstanceAutomatedBackups and DeleteDBInstanceAutomatedBackup. A set is `active` while its
instance exists, and `retained` after an instance deleted with DeleteAutomatedBackups=false."""

from typing import Any

from emulator.api import common
from emulator.api.paging import page_sequence
from emulator.context import Context
from emulator.model import catalogue, network
from emulator.model.instance import Instance
from emulator.model.snapshot import Snapshot
from emulator.protocol.errors import RdsError, invalid, shown
from emulator.work import backups

FILTERS = ("db-instance-id", "dbi-resource-id", "status")


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    found = _all(ctx)
    if request.get("DbiResourceId") or request.get("DBInstanceAutomatedBackupsArn"):
        wanted = _resource_id(request)
        found = [item for item in found if item["DbiResourceId"] == wanted]
        if not found:
            raise common.automated_backup_not_found(wanted)
    if request.get("DBInstanceIdentifier"):
        name = common.instance_name_of(request["DBInstanceIdentifier"])
        found = [item for item in found if item["DBInstanceIdentifier"] == name]
    for item in request.get("Filters", []):
        key = {"db-instance-id": "DBInstanceIdentifier", "dbi-resource-id": "DbiResourceId", "status": "Status"}.get(
            item["Name"])
        if key is None:
            raise invalid(f"Unrecognized filter name: {shown(item['Name'])}")
        values = {common.instance_name_of(v) for v in item["Values"]} if key == "DBInstanceIdentifier" \
            else set(item["Values"])
        found = [backup for backup in found if backup[key] in values]
    listed, marker = page_sequence(found, request)
    return {"DBInstanceAutomatedBackups": listed, "Marker": marker}


def delete(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    wanted = _resource_id(request)
    match = [item for item in _all(ctx) if item["DbiResourceId"] == wanted]
    if not match:
        raise common.automated_backup_not_found(wanted)
    if match[0]["Status"] == "active":
        raise RdsError("InvalidDBInstanceAutomatedBackupState",
                       f"The automated backup of {match[0]['DBInstanceIdentifier']} belongs to a DB instance that "
                       "exists: set its BackupRetentionPeriod to 0, or delete the instance, instead.")
    backups.forget(ctx, wanted)
    return {"DBInstanceAutomatedBackup": match[0] | {"Status": "deleting"}}


def _all(ctx: Context) -> list[dict[str, Any]]:
    sets: dict[str, list[Snapshot]] = {}
    for snapshot in ctx.store.list_snapshots(types=["automated"], statuses=["available"]):
        sets.setdefault(snapshot.instance_resource_id, []).append(snapshot)
    listed = []
    for resource_id, snapshots in sets.items():
        instance = ctx.store.get_instance(resource_id)
        listed.append(_wire(ctx, resource_id, sorted(snapshots, key=lambda s: s.created_at), instance))
    return sorted(listed, key=lambda item: (item["DBInstanceIdentifier"], item["DbiResourceId"]))


def _wire(ctx: Context, resource_id: str, snapshots: list[Snapshot], instance: Instance | None) -> dict[str, Any]:
    newest = snapshots[-1]
    times = [snapshot.data_time for snapshot in snapshots if snapshot.data_time]
    latest = instance.restorable_until if instance is not None and instance.restorable_until else \
        backups.retained_until(ctx, resource_id, snapshots)
    identifier = instance.identifier if instance is not None else newest.instance_identifier
    return {
        "DBInstanceArn": ctx.instance_arn(identifier),
        "DbiResourceId": resource_id,
        "Region": ctx.settings.region,
        "DBInstanceIdentifier": identifier,
        "RestoreWindow": {"EarliestTime": min(times), "LatestTime": latest},
        "AllocatedStorage": newest.allocated_storage,
        "Status": "active" if instance is not None else "retained",
        "Port": newest.port,
        "AvailabilityZone": newest.availability_zone,
        "VpcId": network.vpc_id(ctx.settings.region, ctx.settings.account_id),
        "InstanceCreateTime": newest.instance_created_at,
        "MasterUsername": newest.master_username,
        "Engine": newest.engine,
        "EngineVersion": newest.engine_version,
        "LicenseModel": catalogue.LICENSE_MODEL,
        "Iops": newest.iops,
        "StorageThroughput": newest.storage_throughput,
        "OptionGroupName": newest.option_group or catalogue.option_group(newest.engine, newest.engine_version),
        "Encrypted": newest.storage_encrypted,
        "KmsKeyId": newest.kms_key_id if newest.storage_encrypted else None,
        "StorageType": newest.storage_type,
        "IAMDatabaseAuthenticationEnabled": False,
        "BackupRetentionPeriod": instance.retention if instance is not None else newest.retention,
        "DBInstanceAutomatedBackupsArn": ctx.arn("auto-backup", "ab-" + resource_id.removeprefix("db-").lower()),
        "BackupTarget": "region",
        "MultiTenant": False,
        "DedicatedLogVolume": False,
    }


def _resource_id(request: dict[str, Any]) -> str:
    if request.get("DbiResourceId"):
        return request["DbiResourceId"]
    return common.automated_backup_resource_id(request.get("DBInstanceAutomatedBackupsArn") or "", "DbiResourceId")


