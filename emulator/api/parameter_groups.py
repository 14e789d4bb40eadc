"""DB parameter groups: create, copy, describe, modify, reset, delete; their parameters and the engines'
defaults. A change to a group reaches every instance that uses it (emulator/configuration.py decides what,
emulator/parameter_work.py does it)."""

import re
from typing import Any

from emulator.api import common
from emulator.api.paging import page, page_sequence
from emulator.context import Context
from emulator.model import catalogue, engine_versions, parameters, validation
from emulator.model.records import GroupValue, ParameterGroup
from emulator.protocol.errors import RdsError, combination, invalid, shown
from emulator.store.errors import NameTaken, TaskConflict

_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$")
SOURCES = ("user", "system", "engine-default")


def create(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = _valid_name(request["DBParameterGroupName"])
    family = _family(ctx, request["DBParameterGroupFamily"])
    group = ParameterGroup(name, family, _description(request["Description"]), ctx.clock.now())
    _add(ctx, group, validation.tags(request.get("Tags", [])))
    return {"DBParameterGroup": _wire(ctx, group)}


def copy(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    source = common.parameter_group(ctx, _name_of(request["SourceDBParameterGroupIdentifier"]))
    name = _valid_name(request["TargetDBParameterGroupIdentifier"])
    group = ParameterGroup(name, source.family, _description(request["TargetDBParameterGroupDescription"]),
                           ctx.clock.now())
    default = common.is_default_parameter_group(source.name)
    values = {} if default else ctx.store.group_values([source.name])[source.name]
    _add(ctx, group, validation.tags(request.get("Tags", [])), values)
    return {"DBParameterGroup": _wire(ctx, group)}


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    families = _filters(ctx, request.get("Filters", []))
    if request.get("DBParameterGroupName"):
        group = common.parameter_group(ctx, request["DBParameterGroupName"])
        return {"DBParameterGroups": [_wire(ctx, group)] if families is None or group.family in families else []}
    defaults = sorted(
        (common.default_parameter_group(ctx, family) for family in catalogue.families(ctx.driver.versions())),
        key=lambda group: group.name,
    )

    def fetch(after: str | None, n: int) -> list[ParameterGroup]:
        # the implicit default groups, then the stored ones, all in name order ("default." sorts among them)
        chosen = [group for group in defaults if families is None or group.family in families]
        stored = ctx.store.list_parameter_groups(after=after, limit=n, families=families)
        merged = sorted([g for g in chosen if after is None or g.name > after] + stored, key=lambda g: g.name)
        return merged[:n]

    found, marker = page(fetch, lambda group: group.name, request)
    return {"DBParameterGroups": [_wire(ctx, group) for group in found], "Marker": marker}


def delete(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = common.custom_parameter_group(ctx, request["DBParameterGroupName"], "deleted")
    if not ctx.store.remove_parameter_group(name):
        raise RdsError(
            "InvalidDBParameterGroupState",
            f"One or more database instances are still members of this parameter group {name}, so the group "
            "cannot be deleted",
        )
    return {}


def modify(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = common.custom_parameter_group(ctx, request["DBParameterGroupName"], "modified")
    changes = request.get("Parameters") or []
    if not 1 <= len(changes) <= parameters.MOST_PER_CALL:
        raise invalid(f"Specify between 1 and {parameters.MOST_PER_CALL} parameters to modify; "
                      f"the request has {len(changes)}.")
    known = ctx.parameters(common.parameter_group(ctx, name).family)
    values = {}
    for change in changes:
        parameter, value, method = parameters.checked(known, change)
        values[parameter] = GroupValue(value, method)
    if not ctx.store.set_group_values(name, values):
        raise common.parameter_group_not_found(name)
    for parameter, item in values.items():
        _event(ctx, name, f"Updated parameter {parameter} to {item.value} with apply method {item.method}")
    _apply(ctx, name)
    return {"DBParameterGroupName": name}


def reset(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = common.custom_parameter_group(ctx, request["DBParameterGroupName"], "reset")
    changes = request.get("Parameters") or []
    if request.get("ResetAllParameters"):
        if changes:
            raise combination("Specify either ResetAllParameters or Parameters, not both.")
        ctx.store.reset_group_values(name, None)
        _event(ctx, name, "Reset all parameters")
    else:
        if not 1 <= len(changes) <= parameters.MOST_PER_CALL:
            raise invalid(f"Specify ResetAllParameters, or between 1 and {parameters.MOST_PER_CALL} parameters.")
        known = ctx.parameters(common.parameter_group(ctx, name).family)
        names = []
        for change in changes:
            parameter = change.get("ParameterName") or ""
            if parameter not in known:
                raise invalid(f"Could not find parameter with name: {shown(parameter)}")
            if change.get("ApplyMethod") == "immediate" and not known[parameter].dynamic:
                raise combination("cannot use immediate apply method for static parameter")
            names.append(parameter)
        ctx.store.reset_group_values(name, names)
        for parameter in names:
            _event(ctx, name, f"Reset parameter {parameter}")
    _apply(ctx, name)
    return {"DBParameterGroupName": name}


def describe_parameters(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    group = common.parameter_group(ctx, request["DBParameterGroupName"])
    if request.get("Filters"):
        raise invalid("DescribeDBParameters does not support Filters; use Source.")
    source = request.get("Source")
    if source is not None and source not in SOURCES:
        raise invalid(f"Invalid source {shown(source)}: user, system or engine-default.")
    values = {} if common.is_default_parameter_group(group.name) else ctx.store.group_values([group.name])[group.name]
    listed = [item for item in _listing(ctx, group.family, values) if source is None or item["Source"] == source]
    found, marker = page_sequence(listed, request)
    return {"Parameters": found, "Marker": marker}


def describe_engine_defaults(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    family = _family(ctx, request["DBParameterGroupFamily"])
    if request.get("Filters"):
        raise invalid("DescribeEngineDefaultParameters does not support Filters.")
    found, marker = page_sequence(_listing(ctx, family, {}), request)
    return {"EngineDefaults": {"DBParameterGroupFamily": family, "Marker": marker, "Parameters": found}}


# what instances use


# helpers


def _listing(ctx: Context, family: str, values: dict[str, GroupValue]) -> list[dict[str, Any]]:
    """Every parameter of the family, in name order, with the group's value where it has one."""
    row = engine_versions.of_family(family)
    if row is None:
        return []
    system = parameters.system(row.flavor)
    version = ctx.driver.versions().get(row, row.nominal)
    listed = []
    for name, parameter in sorted(ctx.parameters(family).items()):
        if name in values:
            value, source, method = values[name].value, "user", values[name].method
        elif name in system:
            value, source, method = system[name], "system", None
        else:
            value, source, method = None, "engine-default", None
        listed.append(parameters.wire(parameter, value, source, method, version))
    return listed


def _apply(ctx: Context, name: str) -> None:
    """Changes to apply at once go to the instances that run now; the rest wait for their reboot. A task
    already under way for the group reads the group again before it ends, and the watch finds the rest."""
    try:
        ctx.queue("db-parameter-group", name, "apply")
    except TaskConflict:
        pass


def _add(ctx: Context, group: ParameterGroup, tags: list[tuple[str, str]],
         values: dict[str, GroupValue] | None = None) -> None:
    if common.is_default_parameter_group(group.name):
        raise invalid(f"The parameter group name {group.name} is reserved: names may not start with default.")
    try:
        ctx.store.add_parameter_group(group, tags, values)
    except NameTaken:
        raise RdsError("DBParameterGroupAlreadyExists",
                       f"Parameter group {group.name} already exists") from None


def _name_of(value: str) -> str:
    """A group's name, or the ARN of a group."""
    if value.startswith("arn:"):
        parts = value.split(":")
        if len(parts) != 7 or parts[5] != "pg":
            raise invalid(f"The ARN {shown(value)} does not name a DB parameter group.")
        return parts[6]
    return value


def _family(ctx: Context, family: str) -> str:
    served = catalogue.families(ctx.driver.versions())
    if family.lower() not in served:
        raise invalid(
            f"Invalid DB parameter group family: {shown(family)}. This machine serves "
            + ", ".join(sorted(served)) + "."
        )
    return family.lower()


def _filters(ctx: Context, filters: list[dict[str, Any]]) -> list[str] | None:
    families: list[str] | None = None
    for item in filters:
        if item["Name"] != "db-parameter-group-family":
            raise invalid(f"Unrecognized filter name: {shown(item['Name'])}")
        families = (families or []) + [value.lower() for value in item["Values"]]
    return families


def _valid_name(name: str) -> str:
    lowered = name.lower()
    if not _NAME.match(lowered):
        raise invalid(
            f"The parameter DBParameterGroupName is not a valid identifier: {shown(name)}. Identifiers must begin "
            "with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a "
            "hyphen or contain two consecutive hyphens."
        )
    return lowered


def _description(text: str) -> str:
    if not text.strip() or len(text) > 255:
        raise invalid("The parameter Description must be 1 to 255 characters.")
    return text


def _wire(ctx: Context, group: ParameterGroup) -> dict[str, Any]:
    return {
        "DBParameterGroupName": group.name,
        "DBParameterGroupFamily": group.family,
        "Description": group.description,
        "DBParameterGroupArn": ctx.arn("pg", group.name),
    }


def _event(ctx: Context, name: str, message: str) -> None:
    ctx.event("db-parameter-group", name, ctx.arn("pg", name), message, "configuration change")
