"""DescribeValidDBInstanceModifications: what ModifyDBInstance would take for an instance's storage (this
emulator changes no instance's storage type: it offers the one the instance has)."""

from typing import Any

from emulator.api import common
from emulator.context import Context
from emulator.model import catalogue, storage


def describe_valid(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = common.existing_instance(ctx, request["DBInstanceIdentifier"])
    largest = catalogue.STORAGE[instance.storage_type].maximum
    return {"ValidDBInstanceModificationsMessage": {
        "Storage": [storage.valid_options(instance.storage_type, instance.allocated_storage, largest)],
        "ValidProcessorFeatures": [], "SupportsDedicatedLogVolume": False,
    }}
