"""DB subnet groups: CreateDBSubnetGroup, DescribeDBSubnetGroups, ModifyDBSubnetGroup, DeleteDBSubnetGroup.

Records, with RDS's rules and errors. The `default` group (the VPC's subnets, one in each zone) exists
implicitly and may not be changed or deleted; a group that an instance uses may not be deleted.
"""

import re
from typing import Any

from emulator.api.paging import page
from emulator.context import Context
from emulator.model import network, validation
from emulator.model.keys import subnet_group_key
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
    return {"DBSubnetGroup": _wire(ctx, group)}


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("Filters"):
        raise invalid("DescribeDBSubnetGroups does not support filters yet.")
    if request.get("DBSubnetGroupName"):
        return {"DBSubnetGroups": [wire_of(ctx, existing(ctx, request["DBSubnetGroupName"]))]}

    def fetch(after: str | None, n: int) -> list[dict[str, Any]]:
        # the implicit default group sorts first: its key is the empty string
        found = [] if after is not None else [network.default_subnet_group_wire(*_place(ctx))]
        stored = ctx.store.list_subnet_groups(after=after or None, limit=n - len(found))
        return found + [_wire(ctx, group) for group in stored]

    def key(group: dict[str, Any]) -> str:
        name = group["DBSubnetGroupName"]
        return "" if name == network.DEFAULT_SUBNET_GROUP else name

    found, marker = page(fetch, key, request)
    return {"DBSubnetGroups": found, "Marker": marker}


def modify(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = _stored(ctx, request["DBSubnetGroupName"], "modified")
    values: dict[str, Any] = {"subnets": _subnets(ctx, request["SubnetIds"])}
    if request.get("DBSubnetGroupDescription") is not None:
        values["description"] = _description(request["DBSubnetGroupDescription"])
    ctx.store.update_subnet_group(name, **values)
    group = ctx.store.get_subnet_group(name)
    if group is None:
        raise not_found(name)
    return {"DBSubnetGroup": _wire(ctx, group)}


def delete(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = _stored(ctx, request["DBSubnetGroupName"], "deleted")
    if not ctx.store.remove_subnet_group(name):
        raise RdsError("InvalidDBSubnetGroupStateFault", f"Cannot delete the subnet group '{name}' because at least "
                       "one database instance is still using it.")
    return {}


def existing(ctx: Context, name: str | None) -> str:
    """The name of a group that exists (the default one when none is named), or DBSubnetGroupNotFoundFault."""
    if not name:
        return network.DEFAULT_SUBNET_GROUP
    lowered = name.lower()
    if lowered != network.DEFAULT_SUBNET_GROUP and ctx.store.get_subnet_group(lowered) is None:
        raise not_found(name)
    return lowered


def wire_of(ctx: Context, name: str) -> dict[str, Any]:
    """A group as an instance reports it: the default one is computed, others read from the store."""
    group = ctx.store.get_subnet_group(name) if name != network.DEFAULT_SUBNET_GROUP else None
    if group is None:
        return network.default_subnet_group_wire(*_place(ctx))
    return _wire(ctx, group)


def tags_key(ctx: Context, name: str) -> str:
    """The store's key for the tags of the group an ARN names."""
    return subnet_group_key(_stored(ctx, name, "tagged"))


def _stored(ctx: Context, name: str, what: str) -> str:
    lowered = name.lower()
    if lowered == network.DEFAULT_SUBNET_GROUP:
        raise RdsError("InvalidDBSubnetGroupStateFault", f"The default DB subnet group cannot be {what}.")
    if ctx.store.get_subnet_group(lowered) is None:
        raise not_found(name)
    return lowered


def _place(ctx: Context) -> tuple[str, str]:
    return ctx.settings.region, ctx.settings.account_id


def _wire(ctx: Context, group: SubnetGroup) -> dict[str, Any]:
    return network.subnet_group_wire(group.name, group.description, group.subnets, *_place(ctx))


def not_found(name: str) -> RdsError:
    return RdsError("DBSubnetGroupNotFoundFault", f"DBSubnetGroupName '{shown(name)}' not found.")


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
    placed = network.place_subnets(*_place(ctx), ids)
    if len({subnet["zone"] for subnet in placed}) < 2:
        raise RdsError(
            "DBSubnetGroupDoesNotCoverEnoughAZs",
            "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. "
            "Current AZ coverage: " + ", ".join(sorted({s["zone"] for s in placed})) + ". Add subnets to cover "
            "at least 2 AZs.",
        )
    return placed
