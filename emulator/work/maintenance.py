"""The maintenance window: what an instance waits to have done in it, and when that is due.

Two kinds of work wait for the window: modifications sent with ApplyImmediately=false (the instance's
`pending` changes), and the maintenance actions the emulator can really perform: `db-upgrade` when the
current minor of an instance's major is newer than the version it runs (an older minor's row, moved onto the
current one's server; or its own row's server rebuilt newer, which its next start runs; mariadb-upgrade then
brings its system tables along), and `system-update` when the driver has a newer system for the instance (a
guest made from an older template image than the current one).
"""

from datetime import datetime, timedelta
from typing import Any

from emulator.context import Context
from emulator.engines import backup as commands
from emulator.engines import tools
from emulator.host.work_dirs import work_dir
from emulator.model import catalogue, engine_versions, windows
from emulator.model.instance import Instance
from emulator.work import backups

UPGRADE = "db-upgrade"
SYSTEM_UPDATE = "system-update"
OPT_IN_TYPES = ("immediate", "next-maintenance", "undo-opt-in")
# Where each action's opt-in is kept on the instance.
OPT_IN_COLUMNS = {UPGRADE: "upgrade_opt_in", SYSTEM_UPDATE: "system_update_opt_in"}
# mariadb-upgrade checks and rewrites the system tables: minutes on a small server, never hours.
UPGRADE_TIMEOUT = 1800.0


def upgrade_to(ctx: Context, instance: Instance) -> str | None:
    """The version a db-upgrade would take the instance to, if there is one: its major's current minor."""
    row = ctx.engine_version(instance)
    newest = engine_versions.current_minor(row) if row is not None else None
    offered = ctx.driver.versions().get(newest) if newest is not None else None
    return offered if offered is not None and catalogue.newer(offered, instance.engine_version) else None


def offered(ctx: Context, instance: Instance) -> dict[str, tuple[str, dict[str, Any]]]:
    """The actions waiting for the instance: their description, and the modify task's params that apply them."""
    found = {}
    target = upgrade_to(ctx, instance)
    if target is not None:
        found[UPGRADE] = (f"Minor version upgrade to {target}", {"engine_version": target})
    update = ctx.driver.system_update(ctx.spec(instance))
    if update is not None:
        found[SYSTEM_UPDATE] = (update, {"system_update": True})
    return found


def actions(ctx: Context, instance: Instance) -> list[dict[str, Any]]:
    """The instance's pending maintenance actions, as DescribePendingMaintenanceActions shows them."""
    return [{
        "Action": action,
        "OptInStatus": opt_in(instance, action) or "pending",
        "CurrentApplyDate": next_window(instance, ctx.clock.now()) if _scheduled(instance, action) else None,
        "AutoAppliedAfterDate": None,
        "ForcedApplyDate": None,
        "Description": description,
    } for action, (description, _) in offered(ctx, instance).items()]


def opt_in(instance: Instance, action: str) -> str | None:
    return getattr(instance, OPT_IN_COLUMNS[action])


def _scheduled(instance: Instance, action: str) -> bool:
    """Whether the next window applies the action: opted in to, or a minor upgrade the instance takes by itself."""
    return opt_in(instance, action) == "next-maintenance" or (
        action == UPGRADE and instance.auto_minor_version_upgrade)


def upgrade_tables(ctx: Context, instance: Instance) -> None:
    """mariadb-upgrade on the restarted server: its system tables as the newer server wants them (a MySQL
    server has upgraded its own as it started)."""
    row = ctx.engine_version(instance)
    tool = commands.TOOLS[row.flavor]["upgrade"] if row is not None else None
    if tool is None or ctx.driver.client_options(ctx.spec(instance)) is None:
        return
    with work_dir(ctx.settings.data_dir, f"upgrade-{instance.resource_id}") as work, \
            backups.client_file(ctx, instance, work) as options:
        tools.run(ctx.in_tree(instance, [tool, f"--defaults-extra-file={options}", "--silent"]),
                  timeout=UPGRADE_TIMEOUT)


def next_window(instance: Instance, now: datetime) -> datetime:
    return windows.last_maintenance_start(instance.maintenance_window, now) + timedelta(weeks=1)


def due(ctx: Context, instance: Instance, now: datetime) -> tuple[datetime, dict[str, Any], bool] | None:
    """What the instance's maintenance window has to do now: (when the window opened, the modify task's
    own params, whether the waiting changes go with it); None when nothing is due. Waiting changes are due
    in the first window that opened after they were asked for, even one that opened while the emulator was
    down; an action only while a window is open (or at once, when asked for with `immediate`)."""
    opened = windows.last_maintenance_start(instance.maintenance_window, now)
    take = bool(instance.pending) and instance.pending_since is not None and instance.pending_since < opened
    params: dict[str, Any] = {}
    if now < opened + window_length(instance):
        for action, (_, applying) in offered(ctx, instance).items():
            if _scheduled(instance, action):
                params.update(applying)
    return (opened, params, take) if take or params else None


def window_length(instance: Instance) -> timedelta:
    start, end = windows.parse_maintenance(instance.maintenance_window)
    return timedelta(minutes=(end - start) % windows.WEEK_MINUTES)
