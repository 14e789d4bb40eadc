"""What can be ordered: DescribeDBEngineVersions and DescribeOrderableDBInstanceOptions."""

from typing import Any

from emulator.api.paging import page_sequence
from emulator.context import Context
from emulator.model import catalogue, engine_versions
from emulator.model.catalogue import Offered
from emulator.protocol.errors import invalid, shown

LOG_TYPES = ["audit", "error", "general", "slowquery"]
VERSION_FILTERS = {"engine", "engine-version", "parameter-group-family", "status", "engine-mode"}
ORDERABLE_FILTERS = {"engine", "engine-version", "db-instance-class", "storage-type", "license-model"}


def describe_versions(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    filters = _filters(request.get("Filters", []), VERSION_FILTERS)
    wanted = {
        "engine": [request["Engine"].lower()] if request.get("Engine") else filters.get("engine"),
        "engine-version": [request["EngineVersion"]] if request.get("EngineVersion") else filters.get("engine-version"),
        "parameter-group-family": (
            [request["DBParameterGroupFamily"]] if request.get("DBParameterGroupFamily")
            else filters.get("parameter-group-family")
        ),
        "status": filters.get("status"),
        "engine-mode": filters.get("engine-mode"),
    }
    offered = catalogue.offered(ctx.driver.versions())
    if request.get("DefaultOnly"):
        offered = [version for version in offered if version.default]
    found = [version for version in offered if _version_matches(version, wanted)]
    items, marker = page_sequence(found, request)
    every = catalogue.offered(ctx.driver.versions())
    return {"DBEngineVersions": [_version_wire(version, every) for version in items], "Marker": marker}


def describe_orderable(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    engine = request["Engine"].lower()
    filters = _filters(request.get("Filters", []), ORDERABLE_FILTERS)
    if engine not in catalogue.ENGINES:
        return {"OrderableDBInstanceOptions": []}
    requested_version = request.get("EngineVersion")
    versions = [version for version in catalogue.offered(ctx.driver.versions()) if version.engine == engine
                and (not requested_version or (version.version + ".").startswith(requested_version + "."))]
    classes = [request["DBInstanceClass"]] if request.get("DBInstanceClass") else filters.get("db-instance-class")
    storage_types = filters.get("storage-type")
    license_model = request.get("LicenseModel")
    if license_model and license_model != catalogue.LICENSE_MODEL:
        return {"OrderableDBInstanceOptions": []}
    options = [
        _orderable_wire(ctx, version, instance_class, kind)
        for version in versions
        for instance_class in catalogue.INSTANCE_CLASSES
        if classes is None or instance_class in classes
        for kind in catalogue.STORAGE
        if storage_types is None or kind in storage_types
    ]
    items, marker = page_sequence(options, request, largest=1000)
    return {"OrderableDBInstanceOptions": items, "Marker": marker}


def _filters(filters: list[dict[str, Any]], known: set[str]) -> dict[str, list[str]]:
    found = {}
    for item in filters:
        if item["Name"] not in known:
            raise invalid(f"Unrecognized filter name: {shown(item['Name'])}")
        found[item["Name"]] = item["Values"]
    return found


def _version_matches(version: Offered, wanted: dict[str, list[str] | None]) -> bool:
    facts = {
        "engine": [version.engine],
        "engine-version": [version.version, ".".join(version.version.split(".")[:2])],
        "parameter-group-family": [version.family],
        "status": ["available"],
        "engine-mode": ["provisioned"],
    }
    return all(values is None or set(values) & set(facts[name]) for name, values in wanted.items())


def _upgrade_targets(version: Offered, every: list[Offered]) -> list[dict[str, Any]]:
    """The newer versions of the same engine an instance of `version` may be upgraded to (ModifyDBInstance)."""
    return [{
        "Engine": target.engine, "EngineVersion": target.version, "Description": target.version_description,
        "AutoUpgrade": engine_versions.current_minor(version.row) == target.row,
        "IsMajorVersionUpgrade": target.row.major != version.row.major,
        "SupportedEngineModes": ["provisioned"], "SupportsParallelQuery": False, "SupportsGlobalDatabases": False,
        "SupportsBabelfish": False, "SupportsLimitlessDatabase": False, "SupportsLocalWriteForwarding": False,
        "SupportsIntegrations": False,
    } for target in every if target.engine == version.engine and target.row.flavor == version.row.flavor
        and catalogue.newer(target.version, version.version)]


def _version_wire(version: Offered, every: list[Offered]) -> dict[str, Any]:
    return {
        "Engine": version.engine,
        "MajorEngineVersion": version.row.major,
        "EngineVersion": version.version,
        "DBParameterGroupFamily": version.family,
        "DBEngineDescription": version.description,
        "DBEngineVersionDescription": version.version_description,
        "ValidUpgradeTarget": _upgrade_targets(version, every),
        "ExportableLogTypes": LOG_TYPES,
        "SupportsLogExportsToCloudwatchLogs": False,
        "SupportsReadReplica": False,
        "SupportedEngineModes": ["provisioned"],
        "SupportedFeatureNames": [],
        "Status": "available",
        "SupportsParallelQuery": False,
        "SupportsGlobalDatabases": False,
        "SupportsBabelfish": False,
        "SupportsCertificateRotationWithoutRestart": False,
        "SupportsLimitlessDatabase": False,
        "SupportsIntegrations": False,
        "SupportsLocalWriteForwarding": False,
    }


def _orderable_wire(ctx: Context, version: Offered, instance_class: str, kind: str) -> dict[str, Any]:
    bounds = catalogue.STORAGE[kind]
    return {
        "Engine": version.engine,
        "EngineVersion": version.version,
        "DBInstanceClass": instance_class,
        "LicenseModel": catalogue.LICENSE_MODEL,
        "AvailabilityZones": [{"Name": zone} for zone in catalogue.availability_zones(ctx.settings.region)],
        "MultiAZCapable": False,
        "ReadReplicaCapable": False,
        "Vpc": True,
        "SupportsStorageEncryption": False,
        "StorageType": kind,
        "SupportsIops": kind in ("io1", "io2"),
        "SupportsStorageThroughput": False,
        "MinStorageSize": bounds.minimum,
        "MaxStorageSize": bounds.maximum,
        "SupportsEnhancedMonitoring": False,
        "SupportsIAMDatabaseAuthentication": False,
        "SupportsPerformanceInsights": False,
        "SupportedEngineModes": ["provisioned"],
        "SupportsStorageAutoscaling": False,
        "SupportsKerberosAuthentication": False,
        "OutpostCapable": False,
        "SupportedNetworkTypes": ["IPV4"],
        "SupportsGlobalDatabases": False,
        "SupportsClusters": False,
        "SupportsDedicatedLogVolume": False,
    }
