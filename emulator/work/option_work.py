"""An instance's option group reaching its server: the plugins its options load, and their settings, applied
to the running server and kept in its option file for its next start."""

from dataclasses import replace
from typing import Any

from emulator.context import Context
from emulator.engines import plugins
from emulator.model import options
from emulator.model.instance import Instance


def wanted(ctx: Context, instance: Instance) -> dict[str, str]:
    """The server variables of the instance's group's options (a default group has none)."""
    group = ctx.store.get_option_group(instance.option_group) if instance.option_group else None
    return options.server_variables(group.options) if group is not None else {}


def configure(cursor: Any, variables: dict[str, str]) -> None:
    """On a server just started or running: its option plugins as `variables` say (a restored backup may bring
    a plugin its new group does not have)."""
    if variables or plugins.installed(cursor) & plugins.OPTION_PLUGINS:
        plugins.apply(cursor, variables)


def apply(ctx: Context, instance: Instance) -> Instance:
    """The group's options on the running server now, and in its option file."""
    variables = wanted(ctx, instance)
    applied = replace(instance, server_options=variables)
    if instance.observed == "running":
        spec = ctx.spec(applied)
        ctx.driver.configure(spec)
        with ctx.driver.admin(spec) as cursor:
            configure(cursor, variables)
    ctx.store.update_instance(instance.resource_id, server_options=variables)
    return applied


def defer(ctx: Context, resource_id: str) -> None:
    """The group's change waits for the instance's maintenance window."""
    ctx.store.defer_instance(resource_id, {"options": True}, ctx.clock.now())
