"""What runs on the clock: the watch over servers (and their parameters), the auto-start of long-stopped
instances, backup and maintenance windows, managed passwords' rotation, binary log archiving, backup retention,
log rotation, event retention."""

import logging
from contextlib import nullcontext
from datetime import datetime

import pymysql

from emulator.context import Context
from emulator.drivers.base import InsufficientCapacity
from emulator.failures import Failure
from emulator.model import windows
from emulator.model.events import RETENTION, STORAGE_BACK, STORAGE_FULL
from emulator.model.instance import Instance, observed_allowing
from emulator.model.snapshot import Snapshot
from emulator.store.errors import StateConflict, StoreFull, TaskConflict
from emulator.work import (
    backups,
    configuration,
    log_rotation,
    maintenance,
    master_secrets,
    option_work,
    replicas,
    standbys,
)
from scheduler.archivers import Archivers

log = logging.getLogger(__name__)


def tick(ctx: Context) -> None:
    """The look every few seconds: one read of the instances serves the watch and both kinds of window.
    (Three reads, one a job, took a 1000-instance emulator's requests from 1200 a second to 700.)"""
    found = ctx.store.list_instances()
    watch_servers(ctx, found)
    backup_windows(ctx, found)
    maintenance_windows(ctx, found)
    secret_rotations(ctx, found)
    option_work.catch_up(ctx, found)


def watch_servers(ctx: Context, found: list[Instance] | None = None) -> None:
    """Start again each server the store says runs but does not, and each instance stopped for 7 days;
    take to running servers the parameter changes that are due at once and were not applied yet.

    The store re-checks the state as it queues: a server that a user stopped (or is stopping) since we
    looked is never started behind their back."""
    now = ctx.clock.now()
    found = ctx.store.list_instances() if found is None else found
    ctx.driver.reconcile(ctx.specs(found))  # strays were reported at start-up
    values = configuration.group_values(ctx, {instance.parameter_group for instance in found})
    # what is no longer running (stopped, deleted) is not full either
    ctx.full.intersection_update(instance.resource_id for instance in found if instance.observed == "running")
    for gone in ctx.replication.keys() - {instance.resource_id for instance in found if instance.replica_source}:
        ctx.replication.pop(gone, None)
    for instance in found:
        if instance.task is not None:
            continue
        if instance.replica_source is not None and instance.observed == "running":
            if instance.source_identifier is None:
                _queue(ctx, instance.resource_id, "promote")  # its source was deleted: promoted, as on RDS
                continue
            replicas.observe(ctx, instance)
        if instance.observed == "running" and not ctx.driver.is_running(ctx.spec(instance)):
            if instance.multi_az and standbys.standby_ready(ctx, instance):
                if _queue(ctx, instance.resource_id, "failover", {"from": instance.active_server}):
                    log.warning("the primary server of %s is not running: failing over", instance.identifier)
            elif _queue(ctx, instance.resource_id, "recover"):
                log.warning("the server of %s is not running: starting it again", instance.identifier)
        elif instance.observed == "running" and instance.multi_az and not standbys.standby_ready(ctx, instance):
            if _queue(ctx, instance.resource_id, "standby", {"lost": True}):
                log.warning("the standby of %s is lost: making it again", instance.identifier)
        elif instance.observed == "running" and (full := ctx.driver.storage_full(ctx.spec(instance))) != (
                instance.resource_id in ctx.full):
            _storage_seen(ctx, instance, full)
        elif instance.observed == "running" and configuration.immediate(
            ctx, instance, values[instance.parameter_group]
        ):
            try:
                ctx.queue("db-parameter-group", instance.parameter_group, "apply")
            except TaskConflict:
                pass
        elif instance.observed == "stopped":
            restart = instance.automatic_restart_time
            if restart is not None and restart <= now:
                _queue(ctx, instance.resource_id, "start")


def _storage_seen(ctx: Context, instance: Instance, full: bool) -> None:
    """The server's storage became full, or has room again: its status says so (storage-full, as on RDS),
    and an event, when the store has the room to write it."""
    (ctx.full.add if full else ctx.full.discard)(instance.resource_id)
    message = STORAGE_FULL if full else STORAGE_BACK
    log.log(logging.WARNING if full else logging.INFO, "%s: %s", instance.identifier, message)
    try:
        ctx.store.add_event(ctx.told(instance.identifier, message))
    except StoreFull:
        log.warning("%s: the event could not be written, the store's disk is full too", instance.identifier)


def rotate_logs(ctx: Context) -> None:
    """Once an hour of the clock, each running server's slow and general logs are set aside under the hour
    they cover. The store records the hour, so that no hour is rotated twice, even across restarts."""
    hour = ctx.clock.now().replace(minute=0, second=0, microsecond=0)
    ctx.store.start_log_hours(hour)
    for instance in ctx.store.list_instances():
        last = instance.logs_rotated_at
        if instance.observed != "running" or instance.task is not None or last is None or last >= hour:
            continue
        if ctx.store.claim_rotation(instance.resource_id, last, hour):
            log_rotation.rotate(ctx, instance, last.hour)


def backup_windows(ctx: Context, found: list[Instance] | None = None) -> None:
    """Each instance with automated backups is backed up once for each daily window that opened since it
    was created. The task's key names the window, so that it is queued once however often we look; a
    window that opened while the emulator was down (or while the instance was busy) is served as soon as
    we can, and only the latest one."""
    now = ctx.clock.now()
    for instance in ctx.store.list_instances() if found is None else found:
        if instance.retention == 0 or instance.observed != "running" or instance.task is not None:
            continue
        opened = windows.last_backup_start(instance.backup_window, now)
        if instance.created_at >= opened:
            continue  # its first backup, taken when it was created, stands for this window
        params = backups.automated(instance, now)
        try:
            ctx.queue("db-instance", instance.resource_id, "backup", params, observed=("running",),
                      key=f"backup:{instance.resource_id}:{opened:%Y-%m-%dT%H:%M}")
        except (TaskConflict, StateConflict):
            pass


def maintenance_windows(ctx: Context, found: list[Instance] | None = None) -> None:
    """Each instance's maintenance window applies what waits for it (emulator/maintenance.py), once a
    window: the task's key names the window. The waiting changes leave the instance as the task is queued,
    in one transaction, so that none is lost or applied twice."""
    now = ctx.clock.now()
    for instance in ctx.store.list_instances() if found is None else found:
        if instance.task is not None or instance.observed != "running":
            continue
        due = maintenance.due(ctx, instance, now)
        if due is None:
            continue
        opened, params, take = due
        new_class = instance.pending.get("instance_class") if take else None
        # a new class needs room for its server, as at ModifyDBInstance; the server it has holds its own
        room = ctx.driver.admit(configuration.sized(ctx, instance, new_class)) if new_class else nullcontext()
        try:
            with room:
                ctx.queue("db-instance", instance.resource_id, "modify", params, observed=("running",),
                          key=f"maintenance:{instance.resource_id}:{opened:%Y-%m-%dT%H:%M}", take_pending=take)
        except (TaskConflict, StateConflict):
            pass
        except InsufficientCapacity as error:
            log.warning("maintenance of %s waits: %s", instance.identifier, error)


def secret_rotations(ctx: Context, found: list[Instance] | None = None) -> None:
    """Each managed master password is rotated seven days after its last rotation, as RDS rotates them; an
    instance busy then is rotated when it is available again."""
    for instance in ctx.store.list_instances() if found is None else found:
        master_secrets.rotate_if_due(ctx, instance)


def archive_binlogs(ctx: Context, archivers: Archivers) -> None:
    """Close and archive each running instance's binary log, so that it is restorable to about now; and
    keep only the automated backups (and the logs after them) its retention period asks for, deleted
    instances' retained ones included. What is the same for every instance is read once, and the times of
    those that only became restorable to now are written in one transaction."""
    automated: dict[str, list[Snapshot]] = {}
    for snapshot in ctx.store.list_snapshots(types=["automated"]):
        automated.setdefault(snapshot.instance_resource_id, []).append(snapshot)
    oldest = ctx.store.oldest_binlogs()

    def archive(instance: Instance) -> datetime | None:
        until = None
        try:
            serving = instance.observed == "running" and instance.task not in ("create", "restore")
            if serving and instance.retention > 0:
                until = backups.archive(ctx, instance)
            elif serving:
                backups.discard(ctx, instance)
            backups.expire(ctx, instance, automated.get(instance.resource_id, []), oldest.get(instance.resource_id))
        except (Failure, OSError, pymysql.MySQLError) as error:
            # a server restarting or busy now is archived at the next look
            log.info("binary logs of %s not archived this time: %s", instance.identifier, error)
        return until

    ctx.store.set_restorable(archivers.each(ctx.store.list_instances(), archive))
    backups.expire_retained(ctx)


def clock_moved(ctx: Context) -> None:
    """The operator moved the clock: what became due starts now, not at the next tick."""
    found = ctx.store.list_instances()
    backup_windows(ctx, found)
    maintenance_windows(ctx, found)
    secret_rotations(ctx, found)
    ctx.kick()


def purge_events(ctx: Context) -> None:
    removed = ctx.store.purge_events(ctx.clock.now() - RETENTION)
    if removed:
        log.info("removed %d events older than 14 days", removed)


def _queue(ctx: Context, resource_id: str, action: str, params: dict | None = None) -> bool:
    try:
        ctx.queue("db-instance", resource_id, action, params, observed=observed_allowing(action))
    except (TaskConflict, StateConflict):
        return False
    return True
