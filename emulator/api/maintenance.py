"""Pending maintenance actions: DescribePendingMaintenanceActions and ApplyPendingMaintenanceAction."""

from dataclasses import replace
from typing import Any

from emulator.api import common
from emulator.api.paging import page_sequence
from emulator.context import Context
from emulator.model import arn
from emulator.model.instance import Instance, observed_allowing
from emulator.protocol.errors import RdsError, invalid, shown
from emulator.store.errors import StateConflict, TaskConflict
from emulator.work import maintenance

FILTERS = ("db-instance-id",)


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    found = ctx.store.list_instances()
    if request.get("ResourceIdentifier"):
        found = [_by_arn(ctx, request["ResourceIdentifier"])]
    for item in request.get("Filters", []):
        if item["Name"] not in FILTERS:
            raise invalid(f"Unrecognized filter name: {shown(item['Name'])}")
        names = {common.instance_name_of(value) for value in item["Values"]}
        found = [instance for instance in found if instance.identifier in names]
    listed = [(instance, actions) for instance in found if (actions := maintenance.actions(ctx, instance))]
    shown_page, marker = page_sequence(listed, request)
    return {"PendingMaintenanceActions": [_wire(ctx, instance, actions) for instance, actions in shown_page],
            "Marker": marker}


def apply(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance = _by_arn(ctx, request["ResourceIdentifier"])
    action, opt_in = request["ApplyAction"], request["OptInType"]
    if opt_in not in maintenance.OPT_IN_TYPES:
        raise invalid(f"Invalid OptInType {shown(opt_in)}: choose one of {', '.join(maintenance.OPT_IN_TYPES)}.")
    offered = maintenance.offered(ctx, instance)
    if action not in offered:
        raise RdsError("InvalidParameterValue",
                       f"There is no pending maintenance action {shown(action)} for DB instance {instance.identifier}.")
    chosen = {maintenance.OPT_IN_COLUMNS[action]: None if opt_in == "undo-opt-in" else opt_in}
    if opt_in == "immediate":
        try:
            ctx.queue("db-instance", instance.resource_id, "modify", offered[action][1],
                      observed=observed_allowing("modify"), **chosen)
        except (TaskConflict, StateConflict):
            raise RdsError("InvalidDBInstanceState", f"Instance {instance.identifier} is not in available state.") \
                from None
    else:
        ctx.store.update_instance(instance.resource_id, **chosen)
    # what the request asked for: the task may already have applied it, and taken the action off the list
    asked = replace(instance, **chosen)
    return {"ResourcePendingMaintenanceActions": _wire(ctx, asked, maintenance.actions(ctx, asked))}


def _by_arn(ctx: Context, value: str) -> Instance:
    kind, name = arn.parse(value)
    if kind != "db":
        raise RdsError("ResourceNotFoundFault", f"The resource {shown(value)} has no pending maintenance actions.")
    return common.existing_instance(ctx, name)


def _wire(ctx: Context, instance: Instance, actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ResourceIdentifier": ctx.instance_arn(instance.identifier), "PendingMaintenanceActionDetails": actions}
