"""Option groups: create, copy, modify, delete, describe; the options each engine's servers really have. A
change reaches the instances in the group at once (ApplyImmediately) or in their maintenance window."""

from typing import Any

from emulator.api import common
from emulator.api.paging import page
from emulator.context import Context
from emulator.model import options, validation
from emulator.model.options import OptionGroup
from emulator.protocol.errors import RdsError, invalid, shown
from emulator.store.errors import NameTaken, TaskConflict
from emulator.work import option_work


def create(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = options.valid_name(request["OptionGroupName"])
    engine = validation.engine(request["EngineName"])
    major = request["MajorEngineVersion"]
    if f"{engine}{major}" not in common.served_families(ctx):
        raise invalid(f"Cannot find major version {shown(major)} for {engine}: DescribeDBEngineVersions lists "
                      "the versions this host serves.")
    group = OptionGroup(name, engine, major, _description(request["OptionGroupDescription"]), ctx.clock.now())
    _add(ctx, group, validation.tags(request.get("Tags", [])))
    return {"OptionGroup": _wire(ctx, group)}


def copy(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    source = common.option_group(ctx, _name_of(request["SourceOptionGroupIdentifier"]))
    if source.default:
        raise invalid("A default option group cannot be copied: create one of the same engine and version.")
    name = options.valid_name(request["TargetOptionGroupIdentifier"])
    group = OptionGroup(name, source.engine, source.major, _description(request["TargetOptionGroupDescription"]),
                        ctx.clock.now(), source.options, source.name)
    _add(ctx, group, validation.tags(request.get("Tags", [])))
    return {"OptionGroup": _wire(ctx, group)}


def modify(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = _custom(ctx, request["OptionGroupName"], "modified")
    including, removing = request.get("OptionsToInclude") or [], request.get("OptionsToRemove") or []
    group = common.option_group(ctx, name)
    for configuration in including:
        _offered_here(ctx, group.engine, configuration["OptionName"])

    def change(current: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        return options.included(group.engine, options.removed(current, removing), including)

    changed = ctx.store.change_options(name, change)
    if changed is None:
        raise common.option_group_not_found(name)
    if changed.options != group.options:
        _reach_members(ctx, name, bool(request.get("ApplyImmediately")))
    return {"OptionGroup": _wire(ctx, changed)}


def delete(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = _custom(ctx, request["OptionGroupName"], "deleted")
    if not ctx.store.remove_option_group(name):
        raise RdsError("InvalidOptionGroupStateFault",
                       f"The option group '{name}' cannot be deleted because it is in use.")
    return {}


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("Filters"):
        raise invalid("DescribeOptionGroups does not support Filters; use EngineName and MajorEngineVersion.")
    engine = validation.engine(request["EngineName"]) if request.get("EngineName") else None
    major = request.get("MajorEngineVersion")
    if major and not engine:
        raise invalid("MajorEngineVersion can only be given with EngineName.")
    if request.get("OptionGroupName"):
        group = common.option_group(ctx, _name_of(request["OptionGroupName"]))
        fits = (engine is None or group.engine == engine) and (major is None or group.major == major)
        return {"OptionGroupsList": [_wire(ctx, group)] if fits else []}
    defaults = [group for group in common.default_option_groups(ctx)
                if (engine is None or group.engine == engine) and (major is None or group.major == major)]

    def fetch(after: str | None, n: int) -> list[OptionGroup]:
        stored = ctx.store.list_option_groups(after=after, limit=n, engine=engine, major=major)
        merged = sorted([g for g in defaults if after is None or g.name > after] + stored, key=lambda g: g.name)
        return merged[:n]

    found, marker = page(fetch, lambda group: group.name, request)
    return {"OptionGroupsList": [_wire(ctx, group) for group in found], "Marker": marker}


def describe_options(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    engine = validation.engine(request["EngineName"])
    majors = sorted({family.removeprefix(engine) for family, served in common.served_families(ctx).items()
                     if served == engine})
    if request.get("MajorEngineVersion"):
        majors = [major for major in majors if major == request["MajorEngineVersion"]]
    offered = [options.option_group_option(kind, engine, major) for major in majors
               for kind in options.offered(engine) if _served_log(ctx, kind)]
    return {"OptionGroupOptions": offered}


def _reach_members(ctx: Context, name: str, now: bool) -> None:
    """The change reaches the group's instances at once (the group's task; one already under way reads the
    group again before it ends, and the watch finds the rest), or in each one's maintenance window."""
    if now:
        try:
            ctx.queue("option-group", name, "apply")
        except TaskConflict:
            pass
        return
    for resource_id in ctx.store.option_group_members(name):
        option_work.defer(ctx, resource_id)


def _offered_here(ctx: Context, engine: str, name: str) -> None:
    kind = options.OFFERED.get(name)
    if kind is not None and engine in kind.engines and not _served_log(ctx, kind):
        raise invalid(f"Option {name} is not available with this emulator's {ctx.settings.driver} driver: its "
                      "log could not be read (DescribeOptionGroupOptions lists what is).")


def _served_log(ctx: Context, kind: options.OptionKind) -> bool:
    return kind is not options.AUDIT or "audit/server_audit.log" in ctx.driver.option_logs


def _add(ctx: Context, group: OptionGroup, pairs: list[tuple[str, str]]) -> None:
    try:
        ctx.store.add_option_group(group, pairs)
    except NameTaken:
        raise RdsError("OptionGroupAlreadyExistsFault", f"Option group {group.name} already exists.") from None


def _custom(ctx: Context, name: str, what: str) -> str:
    return common.custom_option_group(ctx, _name_of(name), what)


def _name_of(value: str) -> str:
    return common.option_group_name_of(value)


def _description(value: str) -> str:
    if not value.strip() or len(value) > 255:
        raise invalid("The option group description must be 1 to 255 characters.")
    return value


def _wire(ctx: Context, group: OptionGroup) -> dict[str, Any]:
    return group.to_wire(ctx.arn("og", group.name))
