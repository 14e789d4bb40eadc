"""What each kind of task does to a server and to the store: create, reboot, stop, start, modify, delete.

Every function is safe to run twice: a task interrupted by a crash is run again from the start.
"""

import logging
from collections.abc import Callable

from emulator.context import Context
from emulator.model.instance import Instance
from emulator.store import Task

log = logging.getLogger(__name__)


def create(ctx: Context, instance: Instance, task: Task) -> None:
    ctx.driver.provision(ctx.spec(instance))
    ctx.store.update_instance(instance.resource_id, observed="running")
    ctx.instance_event(instance.identifier, "DB instance created")


def reboot(ctx: Context, instance: Instance, task: Task) -> None:
    spec = ctx.spec(instance)
    ctx.driver.stop(spec)
    ctx.instance_event(instance.identifier, "DB instance shutdown")
    ctx.driver.start(spec)
    ctx.store.update_instance(instance.resource_id, observed="running", parameter_apply_status="in-sync")
    ctx.instance_event(instance.identifier, "DB instance restarted")


def recover(ctx: Context, instance: Instance, task: Task) -> None:
    """A server that stopped without being asked to is started again."""
    spec = ctx.spec(instance)
    if ctx.driver.is_running(spec):
        return
    ctx.driver.start(spec)
    ctx.store.update_instance(instance.resource_id, observed="running")
    ctx.instance_event(instance.identifier, "DB instance restarted")


def stop(ctx: Context, instance: Instance, task: Task) -> None:
    ctx.driver.stop(ctx.spec(instance))
    ctx.store.update_instance(instance.resource_id, observed="stopped", stopped_at=ctx.clock.now())
    ctx.instance_event(instance.identifier, "DB instance stopped")


def start(ctx: Context, instance: Instance, task: Task) -> None:
    ctx.driver.start(ctx.spec(instance))
    ctx.store.update_instance(
        instance.resource_id, observed="running", stopped_at=None, parameter_apply_status="in-sync"
    )
    ctx.instance_event(instance.identifier, "DB instance started")


def modify(ctx: Context, instance: Instance, task: Task) -> None:
    changes = task.params
    if "instance_class" in changes:
        ctx.instance_event(instance.identifier, "Applying modification to database instance class")
        ctx.store.update_instance(instance.resource_id, instance_class=changes["instance_class"])
        ctx.instance_event(instance.identifier, "Finished applying modification to DB instance class")
    if "allocated_storage" in changes:
        ctx.instance_event(instance.identifier, "Applying modification to allocated storage")
        ctx.store.update_instance(instance.resource_id, allocated_storage=changes["allocated_storage"])
        ctx.instance_event(instance.identifier, "Finished applying modification to allocated storage")
    if changes.get("password"):
        ctx.driver.set_master_password(ctx.spec(instance))
        ctx.instance_event(instance.identifier, "Reset master credentials")


def delete(ctx: Context, instance: Instance, task: Task) -> None:
    ctx.driver.destroy(ctx.spec(instance))
    ctx.store.remove_instance(instance.resource_id)
    ctx.instance_event(instance.identifier, "DB instance deleted")


def fail(ctx: Context, instance: Instance, reason: str) -> None:
    """The task could not finish: the instance is `failed`, and an event says so (never a secret: no SQL)."""
    ctx.store.update_instance(instance.resource_id, observed="failed")
    ctx.instance_event(instance.identifier, "DB instance failed")
    log.error("instance %s failed: %s", instance.identifier, reason)


WORK: dict[str, Callable[[Context, Instance, Task], None]] = {
    "create": create,
    "reboot": reboot,
    "recover": recover,
    "stop": stop,
    "start": start,
    "modify": modify,
    "reset-credentials": modify,
    "delete": delete,
}
