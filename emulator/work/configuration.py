"""What each instance's server should run with, and how far it is from it: its parameter group's values
worked out for the instance, the changes to apply at once, and ParameterApplyStatus, decided here alone."""

from dataclasses import replace

from emulator.context import Context
from emulator.drivers.base import ServerSpec
from emulator.model import catalogue, parameters
from emulator.model.instance import Instance
from emulator.model.records import GroupValue

# What makes a read replica's server read-only, for every user but replication: MySQL's super_read_only
# stops its privileged users too; MariaDB's read_only stops all who lack READ_ONLY ADMIN (work/replicas.py).
READ_ONLY = {"mysql": {"super_read_only": "1"}, "mariadb": {"read_only": "1"}}


def wanted(instance: Instance, values: dict[str, GroupValue]) -> dict[str, str]:
    """The group's values, formulas worked out for this instance's class and storage."""
    memory = catalogue.class_memory(instance.instance_class)
    found = {
        name: parameters.evaluate(item.value, memory, instance.allocated_storage) for name, item in values.items()
    }
    # RDS's groups say read_only={TrueIfReplica}; a group that sets it says otherwise
    return {**READ_ONLY[instance.engine], **found} if instance.replica_source is not None else found


def immediate(ctx: Context, instance: Instance, values: dict[str, GroupValue]) -> dict[str, str | None]:
    """What to apply to the running server now: each dynamic parameter whose change was asked for at once,
    and each dynamic one taken out of the group (None: back to the server's default). Values the server
    refused before are not tried again until the group changes them. A server that still runs another group's
    values takes none of this group's until it reboots, as RDS does it."""
    if instance.server_parameter_group != instance.parameter_group:
        return {}
    target = wanted(instance, values)
    running = instance.server_parameters
    changes: dict[str, str | None] = {}
    for name, value in target.items():
        item = values.get(name)  # none for what the instance itself implies (a replica's read_only)
        if item is not None and item.method == "immediate" and running.get(name) != value:
            changes[name] = value
    for name in running.keys() - target.keys():
        if _dynamic(ctx, instance, name):
            changes[name] = None
    return {name: value for name, value in changes.items()
            if value is None or instance.parameter_failures.get(name) != value}


def apply_status(ctx: Context, instance: Instance, values: dict[str, GroupValue]) -> str:
    if instance.observed == "incompatible":  # its server would not start with them: they are not in sync
        return "failed-to-apply"
    if instance.server_parameter_group is None:  # never started: it will start with the group's values
        return "in-sync"
    if not values and not instance.server_parameters and instance.server_parameter_group == instance.parameter_group:
        return "in-sync"  # the commonest case, on every Describe: a default group, as it started
    target = wanted(instance, values)
    dynamic_resets = {name for name in instance.server_parameters.keys() - target.keys()
                      if _dynamic(ctx, instance, name)}
    at_once = {name for name, item in values.items() if item.method == "immediate"} | dynamic_resets
    return parameters.apply_status(
        instance.server_parameter_group != instance.parameter_group,
        target, instance.server_parameters, at_once, instance.parameter_failures,
    )


def group_values(ctx: Context, group_names: set[str]) -> dict[str, dict[str, GroupValue]]:
    """Users' values of these groups; default groups have none, and need no query."""
    custom = {name for name in group_names if not name.startswith("default.")}
    found = ctx.store.group_values(custom) if custom else {}
    return {name: found.get(name, {}) for name in group_names}


def _dynamic(ctx: Context, instance: Instance, name: str) -> bool:
    known = ctx.instance_parameters(instance).get(name)
    return known is not None and known.dynamic


def sized(ctx: Context, instance: Instance, instance_class: str, standby: bool = False) -> ServerSpec:
    """The spec of the instance's server (or its standby's) at this class, with its group's values worked out
    for it: what room for the server is asked by."""
    resized = replace(instance, instance_class=instance_class)
    values = group_values(ctx, {instance.parameter_group})[instance.parameter_group]
    spec = ctx.standby_spec(resized) if standby else ctx.spec(resized)
    return replace(spec, parameters=wanted(resized, values))
