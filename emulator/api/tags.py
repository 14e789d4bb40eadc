"""Tags on resources, named by ARN: AddTagsToResource, ListTagsForResource, RemoveTagsFromResource."""

from typing import Any

from emulator.context import Context
from emulator.model import arn
from emulator.protocol.errors import RdsError, instance_not_found, invalid

NOT_FOUND = {
    "pg": ("DBParameterGroupNotFound", "DBParameterGroup {} not found."),
    "snapshot": ("DBSnapshotNotFound", "DBSnapshot {} not found."),
    "secgrp": ("DBSecurityGroupNotFound", "DBSecurityGroup {} not found."),
}


def add(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    resource_id = _resource(ctx, request["ResourceName"])
    ctx.store.set_tags(resource_id, pairs(request["Tags"]))
    return {}


def pairs(tags: list[dict[str, str]]) -> list[tuple[str, str]]:
    """Tags as (key, value), checked as RDS checks them."""
    checked = []
    for tag in tags:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not key or len(key) > 128 or key.lower().startswith(("aws:", "rds:")):
            raise invalid(f"Invalid tag key: '{key}'. Keys are 1 to 128 characters and may not start with aws: or rds:")
        if len(value) > 256:
            raise invalid(f"Invalid tag value for key {key}: values are at most 256 characters.")
        checked.append((key, value))
    return checked


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
    region, account = name.split(":")[3:5]
    if kind != "db":
        code, message = NOT_FOUND[kind]
        raise RdsError(code, message.format(resource))
    instance = ctx.store.find_instance(resource.lower())
    if instance is None or (region, account) != (ctx.settings.region, ctx.settings.account_id):
        raise instance_not_found(resource)
    return instance.resource_id
