"""DB subnet groups: CreateDBSubnetGroup, DescribeDBSubnetGroups, ModifyDBSubnetGroup, DeleteDBSubnetGroup.

Records, with RDS's rules and errors. The `default` group (the VPC's subnets, one in each zone) exists
implicitly and may not be changed or deleted; a group that an instance uses may not be deleted.
"""

import re
from typing import Any

from emulator.api import common
from emulator.api.paging import page
from emulator.context import Context
from emulator.model import network, validation
from emulator.model.records import SubnetGroup
from emulator.protocol.errors import RdsError, invalid, shown
from emulator.store.errors import NameTaken

_NAME = re.compile(r"^[a-z0-9._ -]{1,255}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
LONGEST_DESCRIPTION = 255


def create(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = _valid_name(request["DBSubnetGroupName"])
    if name == network.DEFAULT_SUBNET_GROUP:
        raise RdsError("DBSubnetGroupAlreadyExists", "The DB subnet group 'default' already exists.")
    group = SubnetGroup(
        name, _description(request["DBSubnetGroupDescription"]), _subnets(ctx, request["SubnetIds"]), ctx.clock.now()
    )
    tag_pairs = validation.tags(request.get("Tags", []))
    try:
        ctx.store.add_subnet_group(group, tag_pairs)
    except NameTaken:
        raise RdsError("DBSubnetGroupAlreadyExists", f"The DB subnet group '{name}' already exists.") from None
    return {"DBSubnetGroup": common.subnet_group_wire(ctx, group)}


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("Filters"):
        raise invalid("DescribeDBSubnetGroups does not support filters yet.")
    if request.get("DBSubnetGroupName"):
        name = common.existing_subnet_group(ctx, request["DBSubnetGroupName"])
        return {"DBSubnetGroups": [common.subnet_group_wire_of(ctx, name)]}

    def fetch(after: str | None, n: int) -> list[dict[str, Any]]:
        # the implicit default group sorts first: its key is the empty string
        found = [] if after is not None else [network.default_subnet_group_wire(*common.place(ctx))]
        stored = ctx.store.list_subnet_groups(after=after or None, limit=n - len(found))
        return found + [common.subnet_group_wire(ctx, group) for group in stored]

    def key(group: dict[str, Any]) -> str:
        name = group["DBSubnetGroupName"]
        return "" if name == network.DEFAULT_SUBNET_GROUP else name

    found, marker = page(fetch, key, request)
    return {"DBSubnetGroups": found, "Marker": marker}


def modify(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = common.stored_subnet_group(ctx, request["DBSubnetGroupName"], "modified")
    values: dict[str, Any] = {"subnets": _subnets(ctx, request["SubnetIds"])}
    if request.get("DBSubnetGroupDescription") is not None:
        values["description"] = _description(request["DBSubnetGroupDescription"])
    ctx.store.update_subnet_group(name, **values)
    group = ctx.store.get_subnet_group(name)
    if group is None:
        raise common.subnet_group_not_found(name)
    return {"DBSubnetGroup": common.subnet_group_wire(ctx, group)}


def delete(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = common.stored_subnet_group(ctx, request["DBSubnetGroupName"], "deleted")
    if not ctx.store.remove_subnet_group(name):
        raise RdsError("InvalidDBSubnetGroupStateFault", f"Cannot delete the subnet group '{name}' because at least "
                       "one database instance is still using it.")
    return {}


def _valid_name(name: str) -> str:
    lowered = name.lower()
    if not _NAME.match(lowered):
        raise invalid(
            f"The parameter DBSubnetGroupName is not a valid name: {shown(name)}. It must be 1 to 255 letters, "
            "digits, periods, underscores, spaces or hyphens."
        )
    return lowered


def _description(text: str) -> str:
    if not text.strip() or len(text) > LONGEST_DESCRIPTION:
        raise invalid("The parameter DBSubnetGroupDescription must be 1 to 255 characters.")
    return text


def _subnets(ctx: Context, ids: list[str]) -> list[dict[str, str]]:
    if not ids:
        raise invalid("The parameter SubnetIds must name at least one subnet.")
    for subnet_id in ids:
        if not _SUBNET_ID.match(subnet_id):
            raise RdsError("InvalidSubnet", f"The subnet {shown(subnet_id)} is not a valid subnet identifier.")
    placed = network.place_subnets(*common.place(ctx), ids)
    if len({subnet["zone"] for subnet in placed}) < 2:
        raise RdsError(
            "DBSubnetGroupDoesNotCoverEnoughAZs",
            "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. "
            "Current AZ coverage: " + ", ".join(sorted({s["zone"] for s in placed})) + ". Add subnets to cover "
            "at least 2 AZs.",
        )
    return placed
