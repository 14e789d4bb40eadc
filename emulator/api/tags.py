"""Tags on resources, named by ARN: AddTagsToResource, ListTagsForResource, RemoveTagsFromResource."""

from typing import Any

from emulator.context import Context
from emulator.model import arn
from emulator.protocol.errors import RdsError, instance_not_found, invalid, shown
from emulator.store import MAX_TAGS, TooManyTags

from . import subnet_groups

NOT_FOUND = {
    "pg": ("DBParameterGroupNotFound", "DBParameterGroup {} not found."),
    "snapshot": ("DBSnapshotNotFound", "DBSnapshot {} not found."),
    "secgrp": ("DBSecurityGroupNotFound", "DBSecurityGroup {} not found."),
}


def add(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    resource_id = _resource(ctx, request["ResourceName"])
    try:
        ctx.store.set_tags(resource_id, pairs(request["Tags"]))
    except TooManyTags:
        raise invalid(f"A resource can have at most {MAX_TAGS} tags.") from None
    return {}


def pairs(tags: list[dict[str, str]]) -> list[tuple[str, str]]:
    """Tags as (key, value), checked as RDS checks them; a key given twice keeps its last value."""
    if len(tags) > MAX_TAGS:
        raise invalid(f"A resource can have at most {MAX_TAGS} tags; the request has {len(tags)}.")
    checked: dict[str, str] = {}
    for tag in tags:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not key or len(key) > 128 or key.lower().startswith(("aws:", "rds:")):
            raise invalid(
                f"Invalid tag key: '{shown(key)}'. Keys are 1 to 128 characters and may not start with aws: or rds:"
            )
        if len(value) > 256:
            raise invalid(f"Invalid tag value for key {shown(key)}: values are at most 256 characters.")
        checked[key] = value
    return list(checked.items())


def list_tags(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    resource_id = _resource(ctx, request["ResourceName"])
    return {"TagList": ctx.store.tags_for(resource_id)}


def remove(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    resource_id = _resource(ctx, request["ResourceName"])
    ctx.store.remove_tags(resource_id, request["TagKeys"])
    return {}


def _resource(ctx: Context, name: str) -> str:
    """The store's key of the resource an ARN names."""
    kind, resource = arn.parse(name)
    here = tuple(name.split(":")[3:5]) == (ctx.settings.region, ctx.settings.account_id)
    if kind == "db":
        instance = ctx.store.find_instance(resource.lower()) if here else None
        if instance is None:
            raise instance_not_found(resource)
        return instance.resource_id
    if kind == "subgrp":
        if not here:
            raise subnet_groups.not_found(resource)
        return subnet_groups.tags_key(ctx, resource)
    code, message = NOT_FOUND[kind]
    raise RdsError(code, message.format(shown(resource)))
