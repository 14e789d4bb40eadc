"""An engine version upgrade onto another version's server, as RDS makes one: for a major version (MariaDB
10.11 to 11.8, say) a pre-upgrade snapshot of the running instance first; then its server stopped and
started again from the new version's tree over the same data, the new version's own upgrade of its system
tables, and for a major the instance on the new family's parameter group. A minor upgrade (10.11.18 to
10.11.19) takes no snapshot, as on RDS.

One that fails leaves the instance on its old version and available, with an event saying why: its old
server is started again over the data as it is; if that server cannot read it any more (the new one had
begun to change it), the pre-upgrade snapshot is restored, and the event says so.
"""

import logging
from collections.abc import Callable
from dataclasses import replace

import pymysql

from emulator.context import Context
from emulator.failures import Failure
from emulator.model.instance import Instance
from emulator.store.errors import NameTaken
from emulator.work import backups, maintenance

log = logging.getLogger(__name__)
PATCHING = "Applying off-line patches to DB instance"
PATCHED = "Finished applying off-line patches to DB instance"
# Brings an instance's server up as the instance says (its engine version, its group); False when the
# server would not start with the group's values.
BringUp = Callable[[Instance], bool]


def major(ctx: Context, instance: Instance, version: str, group: str, bring: BringUp) -> None:
    old, now = instance.engine_version, ctx.clock.now()
    name = f"preupgrade-{instance.identifier}-{_dashed(old)}-to-{_dashed(version)}-{now:%Y-%m-%d-%H-%M}"
    ctx.instance_event(instance.identifier, f"Upgrade in progress: Creating pre-upgrade snapshot [{name}]",
                       "maintenance")
    if not _snapshot(ctx, instance, name):
        ctx.store.update_instance(instance.resource_id, [ctx.told(
            instance.identifier, f"Database instance is in a state that cannot be upgraded: the pre-upgrade "
            f"snapshot {name} failed", "failure")], upgrade_opt_in=None)
        return
    _move(ctx, instance, version, group, bring, name)


def minor(ctx: Context, instance: Instance, version: str, bring: BringUp) -> None:
    """Onto another minor's server (its own tree, or its own guest image): the old one reads the data again
    if the new one fails."""
    _move(ctx, instance, version, instance.parameter_group, bring, None)


def _move(ctx: Context, instance: Instance, version: str, group: str, bring: BringUp, snapshot: str | None) -> None:
    old = instance.engine_version
    ctx.instance_event(instance.identifier, PATCHING, "maintenance")
    upgraded = replace(instance, engine_version=version, parameter_group=group)
    try:
        if not bring(upgraded):
            raise Failure(f"the {version} server would not start with the values of DB parameter group {group}")
        maintenance.upgrade_tables(ctx, upgraded)
    except (Failure, OSError, pymysql.MySQLError) as error:
        log.error("the upgrade of %s to %s failed: %s", instance.identifier, version, error)
        _roll_back(ctx, instance, version, snapshot, str(error) if isinstance(error, Failure) else "see the log",
                   bring)
        return
    ctx.store.update_instance(instance.resource_id, [
        ctx.told(instance.identifier, PATCHED, "maintenance"),
        ctx.told(instance.identifier, f"Database instance upgraded from engine version {old} to {version}",
                 "maintenance"),
    ], engine_version=version, parameter_group=group, upgrade_opt_in=None, observed="running")


def _snapshot(ctx: Context, instance: Instance, name: str) -> bool:
    """A manual snapshot of the running instance, kept after the upgrade as RDS keeps its own."""
    try:
        ctx.store.add_snapshot(backups.new_snapshot(instance, name, "manual", ctx.clock.now()), [], [])
    except NameTaken:  # made by this task's earlier, interrupted run
        pass
    return backups.snapshot(ctx, instance, {"snapshot": name})


def _roll_back(ctx: Context, instance: Instance, version: str, snapshot: str | None, reason: str,
               bring: BringUp) -> None:
    spec = ctx.spec(instance)
    try:
        back = bring(instance)
    except Failure:
        back = False
    told = (f"The engine version upgrade to {version} failed: {reason}. The instance runs {instance.engine_version} "
            "again")
    # the new server had changed what the old one reads: a major's pre-upgrade snapshot is restored
    if not back and snapshot is not None:
        ctx.driver.destroy(spec)
        backups.seed(ctx, spec, snapshot)
        back = bring(instance)
        told += f", restored from the pre-upgrade snapshot {snapshot} (what was written after it is lost)"
    ctx.store.update_instance(instance.resource_id, [ctx.told(instance.identifier, told + ".", "failure")],
                              upgrade_opt_in=None, observed="running" if back else "failed")


def _dashed(version: str) -> str:
    return version.replace(".", "-")
