"""An option group reaching its instances' servers: the plugins its options load, and their settings, applied
to running servers and kept in their option files for their next start.

A change applied at once is the group's task ("option-group"), which goes over the group's running instances
until none differs from the group; one busy meanwhile, or a change that came as the task ended, is found by the
watch (catch_up). A change left for the maintenance window waits in each instance's pending changes, which the
watch leaves alone."""

import logging
from dataclasses import replace
from typing import Any

import pymysql

from emulator.context import Context
from emulator.engines import plugins
from emulator.failures import Failure
from emulator.model import options
from emulator.model.instance import Instance
from emulator.model.options import OptionGroup
from emulator.model.records import Task
from emulator.work.runner import ResourceWork

log = logging.getLogger(__name__)
# A group changed while its task ran is read again; one changed faster than this is left to the watch.
MOST_PASSES = 5


def wanted(ctx: Context, instance: Instance, groups: dict[str, OptionGroup] | None = None) -> dict[str, str]:
    """The server variables of the instance's group's options (a default group has none)."""
    if not instance.option_group:
        return {}
    group = groups.get(instance.option_group) if groups is not None else \
        ctx.store.get_option_group(instance.option_group)
    return options.server_variables(group.options) if group is not None else {}


def configure(cursor: Any, variables: dict[str, str]) -> None:
    """On a server just started or running: its option plugins as `variables` say (a restored backup may bring
    a plugin its new group does not have)."""
    if variables or plugins.installed(cursor) & plugins.OPTION_PLUGINS:
        plugins.apply(cursor, variables)


def apply(ctx: Context, instance: Instance, variables: dict[str, str] | None = None) -> Instance:
    """The group's options on the running server now, and in its option file; a change that waited for the
    maintenance window is then applied too."""
    variables = wanted(ctx, instance) if variables is None else variables
    applied = replace(instance, server_options=variables)
    if instance.observed == "running":
        spec = ctx.spec(applied)
        ctx.driver.configure(spec)
        with ctx.driver.admin(spec) as cursor:
            configure(cursor, variables)
    ctx.store.record_options(instance.resource_id, variables)
    return applied


def defer(ctx: Context, resource_id: str) -> None:
    """The group's change waits for the instance's maintenance window."""
    ctx.store.defer_instance(resource_id, {"options": True}, ctx.clock.now())


def apply_group(ctx: Context, group: OptionGroup, task: Task) -> None:
    for _ in range(MOST_PASSES):
        group = ctx.store.get_option_group(group.name) or group
        members = [instance for instance in ctx.store.list_instances(option_groups=[group.name])
                   if instance.observed == "running" and instance.task is None]
        variables = options.server_variables(group.options)
        behind = [instance for instance in members
                  if instance.server_options != variables or instance.pending.get("options")]
        if not behind:
            return
        for instance in behind:
            _apply_logged(ctx, instance, variables)


def catch_up(ctx: Context, found: list[Instance]) -> None:
    """The watch: a running instance whose server differs from its group (a change that came while it was
    busy) gets the group now, unless the change waits for its maintenance window."""
    groups: dict[str, OptionGroup] | None = None
    for instance in found:
        if instance.observed != "running" or instance.task is not None or instance.pending.get("options"):
            continue
        if not instance.option_group and not instance.server_options:
            continue
        groups = groups if groups is not None else {group.name: group for group in ctx.store.list_option_groups()}
        variables = wanted(ctx, instance, groups)
        if variables != instance.server_options:
            _apply_logged(ctx, instance, variables)


def _apply_logged(ctx: Context, instance: Instance, variables: dict[str, str]) -> None:
    try:
        apply(ctx, instance, variables)
    except (Failure, pymysql.MySQLError, OSError) as error:
        # the server went away under us: whatever brings it back starts it with the group's options
        log.warning("could not apply the option group of %s: %s", instance.identifier, error)


def fail(ctx: Context, group: OptionGroup, reason: str) -> None:
    log.error("applying option group %s failed: %s", group.name, reason)


GROUP_WORK = ResourceWork(load=lambda ctx, name: ctx.store.get_option_group(name), work={"apply": apply_group},
                          fail=fail)
