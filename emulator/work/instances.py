"""What each kind of task does to a DB instance's server and to the store: create, restore, back up,
reboot, recover, stop, start, modify, delete; and what a task that cannot finish leaves behind.

Every function is safe to run twice: a task interrupted by a crash is run again from the start.
"""

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from emulator.context import Context
from emulator.drivers.base import HostRefused, ServerSpec
from emulator.engines import accounts, live
from emulator.failures import Failure
from emulator.host.firewall import FirewallError
from emulator.model import catalogue, engine_versions, options
from emulator.model.events import (
    FAILOVER_DONE,
    FAILOVER_STARTED,
    RENAMED,
    RESTORED_FROM_SNAPSHOT,
    RESTORED_TO_POINT,
    STANDBY_REPLACED,
    TO_MULTI_AZ,
    TO_MULTI_AZ_DONE,
    TO_SINGLE_AZ_DONE,
)
from emulator.model.instance import Instance
from emulator.model.records import Task
from emulator.store.errors import NameTaken, OptionGroupGone
from emulator.work import (
    backups,
    configuration,
    maintenance,
    option_work,
    replicas,
    security_groups,
    standbys,
    upgrades,
)
from emulator.work.runner import ResourceWork, Retry, Then
from emulator.work.upgrades import PATCHED, PATCHING

log = logging.getLogger(__name__)
# A server that dies while it is being recovered is tried again this many times, waiting longer each time.
RECOVERY_ATTEMPTS = 5
RECOVERY_BACKOFF = timedelta(seconds=1)


def create(ctx: Context, instance: Instance, task: Task) -> Then | None:
    if _bring_up(ctx, instance):
        if instance.multi_az:
            standbys.build(ctx, instance)
        ctx.store.update_instance(
            instance.resource_id, [ctx.told(instance.identifier, "DB instance created")], observed="running",
            **_secret_settled(instance),
        )
        return first_backup(ctx, instance, new=True)
    return None


def restore(ctx: Context, instance: Instance, task: Task) -> Then | None:
    """A new instance from a snapshot, and for a point-in-time restore the source's logs up to its time.
    A restore taken up again (the emulator died under it) starts over from the snapshot: what a replay had
    applied cannot be told from what it had not, and applying it twice fails or doubles rows."""
    params = task.params
    if task.attempts > 1:
        ctx.driver.destroy(ctx.spec(instance))

    older: list[bool] = []

    def seeded_then_started(spec: ServerSpec) -> None:
        older.append(backups.seed(ctx, spec, params["snapshot"]))
        ctx.driver.provision(spec)

    if not _bring_up(ctx, instance, seeded_then_started):
        return None
    if any(older):  # an upgraded snapshot's backup: the newer server's system tables, as an upgrade makes them
        maintenance.upgrade_tables(ctx, instance)
    if params.get("until"):
        until = datetime.fromisoformat(params["until"])
        backups.replay(ctx, instance, params["source_resource_id"], params["snapshot"], until,
                           everything=params.get("latest", False))
        message = RESTORED_TO_POINT.format(source=params["source"], target=instance.identifier)
    else:
        message = RESTORED_FROM_SNAPSHOT.format(name=params["snapshot"])
    if instance.multi_az:
        standbys.build(ctx, instance)
    ctx.store.update_instance(
        instance.resource_id, [ctx.told(instance.identifier, message, "restoration")], observed="running",
        **_secret_settled(instance),
    )
    return first_backup(ctx, instance)


def replicate(ctx: Context, instance: Instance, task: Task) -> Then | None:
    """A read replica: its storage from a hot backup of its source taken now, then its server following the
    source's. One taken up again starts over: its storage may hold half a backup."""
    source = replicas.source_of(ctx, instance)
    if task.attempts > 1:
        ctx.driver.destroy(ctx.spec(instance))
    gtid: list[str | None] = []

    def seeded_then_started(spec: ServerSpec) -> None:
        gtid.append(replicas.seed_from(ctx, source, spec))
        ctx.driver.provision(spec)

    try:
        if not _bring_up(ctx, instance, seeded_then_started):
            return None
    except Failure:
        replicas.source_of(ctx, instance)  # a source that became busy meanwhile (a reboot): Retry
        raise
    ctx.replication[instance.resource_id] = replicas.follow(ctx, instance, source, gtid[-1] if gtid else None)
    ctx.store.update_instance(
        instance.resource_id, [ctx.told(instance.identifier, "DB instance created")], observed="running"
    )
    return first_backup(ctx, instance)


def promote(ctx: Context, instance: Instance, task: Task) -> Then | None:
    """The replica stops following its source once it has applied all it received, then restarts (as on RDS)
    writable: a standalone instance, its automated backups as asked."""
    if instance.replica_source is not None:
        replicas.promote(ctx, instance, task)
    promoted = ctx.store.get_instance(instance.resource_id)
    if promoted is None:
        return None
    reboot(ctx, promoted, task)
    return first_backup(ctx, promoted)


def first_backup(ctx: Context, instance: Instance, new: bool = False) -> Then | None:
    """As on RDS, an instance with automated backups gets its first one as soon as it is up: point-in-time
    restore starts there. A `new` one's may be its driver's ready backup (backups.as_made)."""
    if instance.retention == 0:
        return None
    params = backups.automated(instance, ctx.clock.now())
    if new:
        params["as_made"] = backups.as_made(ctx, instance)
    return Then("backup", params)


def backup(ctx: Context, instance: Instance, task: Task) -> None:
    backups.snapshot(ctx, instance, task.params)


def failover(ctx: Context, instance: Instance, task: Task) -> Then | None:
    """The primary is fenced (killed: it never takes another write), the standby applies all it received and
    restarts on the instance's endpoint, the zones swap; then a standby is made again from the new primary.
    Taken up again after the swap, it goes on from there."""
    if instance.active_server == task.params["from"]:
        reason = "requested" if task.params.get("forced") else "the primary's server stopped"
        ctx.instance_event(instance.identifier, FAILOVER_STARTED)
        log.warning("%s fails over to its standby (%s)", instance.identifier, reason)
        drained = standbys.fence(ctx, instance, drain=bool(task.params.get("forced")))
        standbys.take_over(ctx, instance, drained)
        ctx.store.update_instance(instance.resource_id, active_server=1 - instance.active_server,
                                  availability_zone=instance.secondary_az, secondary_az=instance.availability_zone,
                                  binlog_chain=instance.binlog_chain + 1)
        swapped = ctx.store.get_instance(instance.resource_id)
        if swapped is None:
            return None
        instance = swapped
    if _bring_up(ctx, instance, ctx.driver.take_endpoint):
        with ctx.driver.admin(ctx.spec(instance)) as cursor:
            accounts.master_locked(cursor, ctx.flavor(instance), instance.master_username, False)
        ctx.store.update_instance(instance.resource_id, [ctx.told(instance.identifier, FAILOVER_DONE)],
                                  observed="running")
    return Then("standby", {})


def standby(ctx: Context, instance: Instance, task: Task) -> None:
    """A Multi-AZ instance's standby made again: after a failover, or once the one it had was lost."""
    if not instance.multi_az or instance.observed != "running":
        return
    standbys.build(ctx, instance)
    if task.params.get("lost"):
        ctx.instance_event(instance.identifier, STANDBY_REPLACED)


def reboot(ctx: Context, instance: Instance, task: Task) -> None:
    ctx.instance_event(instance.identifier, "DB instance shutdown")
    standbys.unhooked(ctx, instance)
    if _bring_up(ctx, instance, ctx.driver.restart):
        ctx.store.update_instance(
            instance.resource_id, [ctx.told(instance.identifier, "DB instance restarted")], observed="running"
        )


def recover(ctx: Context, instance: Instance, task: Task) -> None:
    """A server that stopped without being asked to is started again; one that will not start is tried
    again with backoff, and only then is the instance `failed`."""
    spec = ctx.spec(instance)
    if instance.observed != "running" or ctx.driver.is_running(spec):
        return
    try:
        ctx.driver.start(spec)
    except Failure as error:
        if task.attempts >= RECOVERY_ATTEMPTS:
            raise
        raise Retry(RECOVERY_BACKOFF * 2 ** (task.attempts - 1), str(error)) from error
    with ctx.driver.admin(spec) as cursor:  # a replica's server starts without replicating
        replicas.as_recorded(ctx, instance, cursor)
    standbys.rejoined(ctx, instance)
    ctx.instance_event(instance.identifier, "DB instance restarted")


def stop(ctx: Context, instance: Instance, task: Task) -> None:
    if task.params.get("snapshot") and not backups.snapshot(ctx, instance, task.params):
        return
    standbys.unhooked(ctx, instance)
    ctx.driver.stop(ctx.spec(instance))
    if instance.multi_az:
        ctx.driver.stop(ctx.standby_spec(instance))
    ctx.store.update_instance(
        instance.resource_id, [ctx.told(instance.identifier, "DB instance stopped")], observed="stopped",
        stopped_at=ctx.clock.now(),
    )


def start(ctx: Context, instance: Instance, task: Task) -> Then | None:
    if _bring_up(ctx, instance):
        ctx.store.update_instance(
            instance.resource_id, [ctx.told(instance.identifier, "DB instance started")], observed="running",
            stopped_at=None,
        )
        if instance.multi_az and not standbys.resume(ctx, instance):
            return Then("standby", {})
    return None


def modify(ctx: Context, instance: Instance, task: Task) -> None:
    changes = task.params
    if changes.get("identifier", instance.identifier) != instance.identifier:
        instance = _rename(ctx, instance, changes["identifier"])
    if "allocated_storage" in changes or "iops" in changes:
        ctx.instance_event(instance.identifier, "Applying modification to allocated storage")
        sized = {"allocated_storage": changes.get("allocated_storage", instance.allocated_storage),
                 "iops": changes.get("iops", instance.iops),
                 "storage_throughput": changes.get("storage_throughput", instance.storage_throughput)}
        ctx.driver.resize(ctx.spec(replace(instance, **sized)))
        ctx.store.update_instance(instance.resource_id, **sized)
        instance = replace(instance, **sized)
        ctx.instance_event(instance.identifier, "Finished applying modification to allocated storage")
    if "instance_class" in changes:
        # as on RDS, a new class means a restart: a guest gets its new memory and CPUs
        ctx.instance_event(instance.identifier, "Applying modification to database instance class")
        ctx.store.update_instance(instance.resource_id, instance_class=changes["instance_class"])
        instance = replace(instance, instance_class=changes["instance_class"])
        if instance.observed == "running":
            reboot(ctx, instance, task)
        ctx.instance_event(instance.identifier, "Finished applying modification to DB instance class")
    if changes.get("engine_version", instance.engine_version) != instance.engine_version:
        if instance.multi_az:  # the former version's standby would replicate from the new one: made again after
            standbys.remove(ctx, instance)
        _upgrade(ctx, instance, changes["engine_version"], task, changes.get("parameter_group"))
    elif changes.get("system_update"):
        _update_system(ctx, instance)
    if "ca_certificate" in changes:
        instance = _new_certificate(ctx, instance, changes["ca_certificate"], changes.get("rotation_restart", True),
                                    task)
    if "option_group" in changes:
        instance = _join_option_group(ctx, instance, changes["option_group"])
    if "option_group" in changes or changes.get("options"):
        instance = option_work.apply(ctx, instance)
    if changes.get("password"):
        with ctx.driver.admin(ctx.spec(instance)) as cursor:
            accounts.set_master_password(cursor, instance.master_username, instance.password_hash)
        ctx.store.update_instance(instance.resource_id, [ctx.told(instance.identifier, "Reset master credentials")],
                                  **_secret_settled(instance))
    if "multi_az" in changes:
        _convert(ctx, instance, changes["multi_az"])
    elif instance.multi_az and "engine_version" in changes:
        standbys.build(ctx, instance)  # the new version's server over data of the new version


def _new_certificate(ctx: Context, instance: Instance, authority: str, restart: bool, task: Task) -> Instance:
    """The server's certificate signed by another authority: taken by a restart, or, without one
    (CertificateRotationRestart=false), by the running server reloading its TLS context."""
    ctx.store.update_instance(instance.resource_id, ca_certificate=authority)
    instance = replace(instance, ca_certificate=authority)
    if instance.observed != "running":
        return instance  # its next start writes its configuration
    if restart:
        reboot(ctx, instance, task)
    else:
        spec = ctx.spec(instance)
        ctx.driver.configure(spec)
        with ctx.driver.admin(spec) as cursor:
            live.reload_tls(cursor, ctx.flavor(instance))
    ctx.instance_event(instance.identifier, f"CA certificate {authority} applied", "configuration change")
    return instance


def _join_option_group(ctx: Context, instance: Instance, name: str) -> Instance:
    """The instance in the group it was moved to, unless the group was deleted since (it stays in its own)."""
    group = None if name.startswith(options.DEFAULT_PREFIX) else name
    try:
        ctx.store.join_option_group(instance.resource_id, group)
    except OptionGroupGone:
        ctx.instance_event(instance.identifier, f"The option group {name} was deleted before the DB instance "
                           "could join it: it stays in its own.", "configuration change")
        return instance
    return replace(instance, option_group=group)


def _secret_settled(instance: Instance) -> dict[str, Any]:
    """A managed password's secret, active once the server has its current version's password."""
    if instance.master_secret is None or instance.master_secret.get("status") == "active":
        return {}
    return {"master_secret": {**instance.master_secret, "status": "active"}}


def _convert(ctx: Context, instance: Instance, multi_az: bool) -> None:
    """To Multi-AZ: a standby made from a hot backup while the primary takes writes; back: the standby goes."""
    if multi_az == instance.multi_az:
        return
    if multi_az:
        ctx.instance_event(instance.identifier, TO_MULTI_AZ)
        standbys.build(ctx, instance)
        ctx.store.update_instance(instance.resource_id, [ctx.told(instance.identifier, TO_MULTI_AZ_DONE)],
                                  multi_az=True,
                                  secondary_az=catalogue.secondary_zone(ctx.settings.region,
                                                                        instance.availability_zone))
    else:
        standbys.remove(ctx, instance)
        ctx.store.update_instance(instance.resource_id, [ctx.told(instance.identifier, TO_SINGLE_AZ_DONE)],
                                  multi_az=False, secondary_az=None)


def _rename(ctx: Context, instance: Instance, new: str) -> Instance:
    """A rename that waited for the maintenance window; another instance may have taken the name since."""
    try:
        ctx.store.update_instance(instance.resource_id, identifier=new)
    except NameTaken:
        ctx.instance_event(instance.identifier, f"DB instance could not be renamed to {new}: another DB instance "
                                                "has that name now", "failure")
        return instance
    ctx.instance_event(new, RENAMED.format(old=instance.identifier, new=new), "configuration change")
    return replace(instance, identifier=new)


def _upgrade(ctx: Context, instance: Instance, version: str, task: Task, group: str | None = None) -> None:
    target, current = engine_versions.serving(instance.engine, version), ctx.engine_version(instance)
    if target != current:
        def bring(upgraded: Instance) -> bool:
            return _bring_up(ctx, upgraded, ctx.driver.restart)

        if target is not None and current is not None and target.major == current.major:
            upgrades.minor(ctx, instance, version, bring)
        else:
            upgrades.major(ctx, instance, version, group or instance.parameter_group, bring)
        return
    ctx.instance_event(instance.identifier, PATCHING, "maintenance")
    if instance.observed == "running" and not _restarted_on_newer(ctx, instance, task):
        ctx.store.update_instance(instance.resource_id, upgrade_opt_in=None)
        return
    ctx.store.update_instance(
        instance.resource_id, [ctx.told(instance.identifier, PATCHED, "maintenance")], engine_version=version,
        upgrade_opt_in=None,
    )


def _restarted_on_newer(ctx: Context, instance: Instance, task: Task) -> bool:
    """The server restarts on the newer server its driver runs now (a guest's is in the current template
    image: the guest's system update brings it); mariadb-upgrade brings its system tables along."""
    if ctx.driver.system_update(ctx.spec(instance)) is None:
        reboot(ctx, instance, task)
    elif not _system_updated(ctx, instance):
        return False
    maintenance.upgrade_tables(ctx, instance)
    return True


def _update_system(ctx: Context, instance: Instance) -> None:
    ctx.instance_event(instance.identifier, PATCHING, "maintenance")
    if _system_updated(ctx, instance):
        maintenance.upgrade_tables(ctx, instance)
        ctx.instance_event(instance.identifier, PATCHED, "maintenance")


def _system_updated(ctx: Context, instance: Instance) -> bool:
    """The instance moves onto its driver's current system, data and binary logs with it. False when it could
    not: it runs on its former system, an event says why, and the update stays pending, to be asked for again."""
    try:
        ctx.driver.update_system(ctx.spec(instance))
    except Failure as error:
        if not ctx.driver.is_running(ctx.spec(instance)):
            raise
        ctx.instance_event(instance.identifier, f"Off-line patches could not be applied to DB instance: {error}",
                           "maintenance")
        return False
    finally:
        ctx.store.update_instance(instance.resource_id, system_update_opt_in=None)
    return True


def delete(ctx: Context, instance: Instance, task: Task) -> None:
    """A final snapshot that fails keeps the instance: its data would be lost otherwise."""
    if task.params.get("snapshot") and not backups.snapshot(ctx, instance, task.params):
        return
    ctx.driver.destroy(ctx.spec(instance))
    if instance.multi_az:
        ctx.driver.destroy(ctx.standby_spec(instance))
    if task.params.get("delete_automated_backups", True):
        backups.forget(ctx, instance.resource_id)
    else:
        ctx.store.retain_automated(instance.resource_id, instance.retention, instance.restorable_until)
    ctx.store.remove_instance(instance.resource_id)
    _unguard(ctx)
    ctx.instance_event(instance.identifier, "DB instance deleted")


def _unguard(ctx: Context) -> None:
    """The instance's rules go with it; its server is gone, so a failure here only leaves rules behind."""
    try:
        security_groups.enforce(ctx)
    except FirewallError as error:
        log.error("could not take a deleted instance's DB security group rules away: %s", error)


def fail(ctx: Context, instance: Instance, reason: str) -> None:
    """The task could not finish: the instance is `failed`, and an event says why (never SQL or a secret:
    `reason` is a driver's message for users, or a pointer to the emulator's log). A restore that could not
    finish leaves a server with part of what was asked: it is stopped, and the instance can only be deleted."""
    observed = "failed"
    if instance.task == "restore":
        observed = "incompatible-restore" if (instance.task_params or {}).get("until") else "restore-error"
        with contextlib.suppress(Failure):
            ctx.driver.stop(ctx.spec(instance))
    ctx.store.update_instance(instance.resource_id, observed=observed)
    backups.abandon(ctx, instance.resource_id)
    ctx.instance_event(instance.identifier, f"DB instance failed: {reason}", "failure")
    log.error("instance %s failed: %s", instance.identifier, reason)


def _bring_up(ctx: Context, instance: Instance, bring: Callable[[ServerSpec], None] | None = None) -> bool:
    """Storage made, server started with its parameter group's values; and for a server never set up (or
    one that failed), its master user. False when the server cannot start with the group's values: the
    instance is then `incompatible-parameters`, until its group is fixed and it is rebooted."""
    values = configuration.group_values(ctx, {instance.parameter_group})[instance.parameter_group]
    taken = {"server_parameters": configuration.wanted(instance, values),
             "server_parameter_group": instance.parameter_group, "parameter_failures": {},
             "server_options": option_work.wanted(ctx, instance)}
    ctx.store.update_instance(instance.resource_id, **taken)
    configured = replace(instance, **taken)
    spec = ctx.spec(configured)
    if configured.db_security_groups:
        security_groups.enforce(ctx)  # before the server listens: without its rules it would be open
    try:
        (bring or ctx.driver.provision)(spec)
    except Failure as error:
        if not configured.server_parameters or isinstance(error, HostRefused):
            raise
        ctx.store.update_instance(instance.resource_id, observed="incompatible")
        ctx.instance_event(
            instance.identifier,
            f"DB instance could not start with the parameters of DB parameter group {instance.parameter_group}: "
            f"{error}. Reset the parameters or choose another group, then reboot.", "failure",
        )
        return False
    with ctx.driver.admin(spec) as cursor:
        # a replica's master user came with its source's data, and it writes nothing of its own
        if instance.observed in ("none", "failed", "incompatible") and instance.replica_source is None:
            accounts.create_master(cursor, instance.master_username, instance.password_hash, instance.db_name)
        replicas.as_recorded(ctx, instance, cursor)
        option_work.configure(cursor, taken["server_options"])
        reported = live.version(cursor)
    standbys.rejoined(ctx, configured)
    if reported is not None and reported != instance.engine_version:  # EngineVersion is what the server says
        ctx.store.update_instance(instance.resource_id, engine_version=reported)
    return True


WORK: dict[str, Callable[[Context, Instance, Task], Then | None]] = {
    "create": create,
    "reboot": reboot,
    "recover": recover,
    "stop": stop,
    "start": start,
    "modify": modify,
    "reset-credentials": modify,
    "delete": delete,
    "backup": backup,
    "restore": restore,
    "replicate": replicate,
    "promote": promote,
    "failover": failover,
    "standby": standby,
}
INSTANCE_WORK = ResourceWork(load=lambda ctx, resource_id: ctx.store.get_instance(resource_id), work=WORK, fail=fail)
