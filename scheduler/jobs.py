"""What runs on the clock: the watch over servers, the auto-start of long-stopped instances, event retention."""

import logging

from emulator.context import Context
from emulator.model.events import RETENTION
from emulator.store import TaskConflict

log = logging.getLogger(__name__)


def watch_servers(ctx: Context) -> None:
    """Start again each server the store says runs but does not, and each instance stopped for 7 days."""
    now = ctx.clock.now()
    queued = False
    for instance in ctx.store.list_instances():
        if instance.task is not None:
            continue
        spec = ctx.spec(instance)
        if instance.observed == "running" and not ctx.driver.is_running(spec):
            log.warning("the server of %s is not running: starting it again", instance.identifier)
            queued |= _queue(ctx, instance.resource_id, "recover")
        elif instance.observed == "stopped":
            restart = instance.automatic_restart_time
            if restart is not None and restart <= now:
                queued |= _queue(ctx, instance.resource_id, "start")
    if queued:
        ctx.kick()


def purge_events(ctx: Context) -> None:
    removed = ctx.store.purge_events(ctx.clock.now() - RETENTION)
    if removed:
        log.info("removed %d events older than 14 days", removed)


def _queue(ctx: Context, resource_id: str, kind: str) -> bool:
    try:
        ctx.store.queue_task(resource_id, kind, {}, ctx.clock.now())
    except TaskConflict:
        return False
    return True
