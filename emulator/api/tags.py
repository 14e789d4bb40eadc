"""Tags on resources, named by ARN: AddTagsToResource, ListTagsForResource, RemoveTagsFromResource."""

from typing import Any

from emulator.api import common
from emulator.context import Context
from emulator.model import arn, validation
from emulator.model.keys import option_group_key, security_group_key, snapshot_key
from emulator.protocol.errors import instance_not_found, invalid
from emulator.store.errors import TooManyTags


def add(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    resource_id = _resource(ctx, request["ResourceName"])
    try:
        ctx.store.set_tags(resource_id, validation.tags(request["Tags"]))
    except TooManyTags:
        raise invalid(f"A resource can have at most {validation.MAX_TAGS} tags.") from None
    return {}


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
            raise common.subnet_group_not_found(resource)
        return common.subnet_group_tags_key(ctx, resource)
    if kind == "pg":
        if not here:
            raise common.parameter_group_not_found(resource)
        return common.parameter_group_tags_key(ctx, resource)
    if kind == "og":
        if not here:
            raise common.option_group_not_found(resource)
        return option_group_key(common.custom_option_group(ctx, resource.lower(), "tagged"))
    if kind == "snapshot":
        if not here or ctx.store.get_snapshot(resource.lower()) is None:
            raise common.snapshot_not_found(resource)
        return snapshot_key(resource.lower())
    if not here:  # secgrp: the ARN's pattern allows no other kind
        raise common.security_group_not_found(resource)
    return security_group_key(common.existing_security_group(ctx, resource)[0].name)
