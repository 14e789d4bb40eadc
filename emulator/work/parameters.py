"""The task that takes a DB parameter group's changes to the servers that run with it: each dynamic
parameter changed with the `immediate` method is set at once (SET GLOBAL) and kept in the server's
configuration, so that it survives restarts; the rest waits for each instance's reboot."""

import logging
from typing import Any

import pymysql

from emulator.context import Context
from emulator.engines import live
from emulator.failures import Failure
from emulator.model import parameters
from emulator.model.instance import Instance
from emulator.model.records import ParameterGroup, Task
from emulator.work import configuration
from emulator.work.runner import ResourceWork

log = logging.getLogger(__name__)
# A group changed while its task ran is read again; a group changed faster than this is left to the watch.
MOST_PASSES = 5


def apply(ctx: Context, group: ParameterGroup, task: Task) -> None:
    for _ in range(MOST_PASSES):
        if not any([apply_to(ctx, instance) for instance in ctx.store.list_instances(parameter_groups=[group.name])]):
            return


def apply_to(ctx: Context, instance: Instance) -> bool:
    """Set what is to be set at once on this instance's server; whether there was anything. An instance
    with a task under way is left alone: a reboot or a start takes the whole group, and the watch comes
    back for the rest."""
    if instance.observed != "running" or instance.task is not None:
        return False
    values = configuration.group_values(ctx, {instance.parameter_group})[instance.parameter_group]
    changes = configuration.immediate(ctx, instance, values)
    if not changes:
        return False
    known = ctx.instance_parameters(instance)
    applied: dict[str, str | None] = {}
    failed: dict[str, str] = {}
    try:
        with ctx.driver.admin(ctx.spec(instance)) as cursor:
            for name, value in changes.items():
                # a parameter a newer server no longer has is the server's to refuse
                data_type = known[name].data_type if name in known else "string"
                if _set(ctx, instance, cursor, name, value, data_type):
                    applied[name] = value
                elif value is not None:
                    failed[name] = value
    except (Failure, pymysql.MySQLError, OSError) as error:
        # the server went away under us: whatever brings it back starts it with the group's values
        log.warning("could not apply parameters to %s: %s", instance.identifier, error)
    ctx.store.record_applied(instance.resource_id, applied, failed)
    updated = ctx.store.get_instance(instance.resource_id)
    if updated is not None and updated.task is None:  # a task under way writes the configuration itself
        ctx.driver.configure(ctx.spec(updated))
    if applied and not failed:
        ctx.instance_event(instance.identifier, "Finished updating DB parameter group", "configuration change")
    return True


def _set(ctx: Context, instance: Instance, cursor: Any, name: str, value: str | None, data_type: str) -> bool:
    # a parameter taken out of the group goes back to what the system sets, or else the server's default
    row = ctx.engine_version(instance)
    target = value if value is not None else parameters.system(row.flavor if row else "MariaDB").get(name)
    try:
        live.set_global(cursor, name, target, data_type)
    except pymysql.MySQLError as error:
        reason = error.args[1] if len(error.args) > 1 else str(error)
        ctx.instance_event(
            instance.identifier, f"Failed to apply parameter {name} with value {value}: {reason}", "failure"
        )
        return False
    return True


def fail(ctx: Context, group: ParameterGroup, reason: str) -> None:
    log.error("applying DB parameter group %s failed: %s", group.name, reason)


GROUP_WORK = ResourceWork(load=lambda ctx, name: ctx.store.get_parameter_group(name), work={"apply": apply},
                          fail=fail)
