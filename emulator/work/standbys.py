"""Multi-AZ: a standby server beside the primary, made from a hot backup of it and fed by semi-synchronous
replication (each commit returns once the standby has it on disk), reached by no client; the failover that
fences the primary and gives its endpoint to the standby; and the standby made again after it.

Each instance has two servers (context.server_name): `active_server` says which is the primary. A standby
runs with no network and read-only (context.STANDBY_PARAMETERS); taking over, it restarts on the instance's
endpoint. Every step is safe to run again: a standby whose making was interrupted is made again.
"""

import logging
from typing import Any

import pymysql

from emulator.context import Context
from emulator.engines import replication
from emulator.failures import Failure
from emulator.model.instance import Instance
from emulator.work import replicas

log = logging.getLogger(__name__)


def build(ctx: Context, instance: Instance) -> None:
    """A new standby for the running primary, which takes writes all along: its commits wait for no standby
    until this one has connected, and for it from then on."""
    spec, standby = ctx.spec(instance), ctx.standby_spec(instance)
    flavor = ctx.flavor(instance)
    served = ctx.driver.client_options(spec) is not None
    if served:
        with ctx.driver.admin(spec) as cursor:
            replication.semi_sync_source(cursor, flavor, False)
    ctx.driver.destroy(standby)
    gtid = replicas.seed_from(ctx, instance, standby)
    ctx.driver.provision(standby)
    if not served:
        return  # no server (the none driver): the standby is its record
    replicas.connect(ctx, standby, spec, flavor, gtid, grant=instance.replica_source is None, semi_sync=True)
    with ctx.driver.admin(spec) as cursor:
        replication.semi_sync_source(cursor, flavor, True)


def remove(ctx: Context, instance: Instance) -> None:
    """The standby goes; the primary's commits wait for nothing any more."""
    spec = ctx.spec(instance)
    if ctx.driver.client_options(spec) is not None and ctx.driver.is_running(spec):
        with ctx.driver.admin(spec) as cursor:
            replication.semi_sync_source(cursor, ctx.flavor(instance), False)
    ctx.driver.destroy(ctx.standby_spec(instance))


def take_over(ctx: Context, instance: Instance) -> None:
    """The standby applies all it received and replicates no more; the primary, already fenced, is the one
    to be made again."""
    standby = ctx.standby_spec(instance)
    if ctx.driver.client_options(standby) is None:
        return
    flavor = ctx.flavor(instance)
    with ctx.driver.admin(standby) as cursor:
        if replication.status(cursor, flavor) is not None:
            if not replication.wait_applied(cursor, flavor):
                raise Failure("the standby did not apply what it had received from the primary in time")
            replication.let_go(cursor, flavor)


def resume(ctx: Context, instance: Instance) -> bool:
    """A standby whose server stopped with its instance (a stop, a reboot of the host) runs and replicates
    again, and the primary's commits wait for it again; False when it cannot (it is to be made again)."""
    standby = ctx.standby_spec(instance)
    if ctx.driver.client_options(standby) is None:
        return True
    flavor = ctx.flavor(instance)
    try:
        ctx.driver.start(standby)
        with ctx.driver.admin(standby) as cursor:
            found = replication.status(cursor, flavor)
            if found is None or found.status == "error":
                return False
            replication.semi_sync_replica(cursor, flavor)
            replication.resume(cursor, flavor)
        as_primary(ctx, instance)
    except (Failure, OSError, pymysql.MySQLError) as error:
        log.warning("the standby of %s could not run again: %s", instance.identifier, error)
        return False
    return True


def as_primary(ctx: Context, instance: Instance, cursor: Any | None = None) -> None:
    """A Multi-AZ primary just started waits for its standby's acknowledgements again (a restart forgets)."""
    if cursor is None:
        with ctx.driver.admin(ctx.spec(instance)) as cursor:
            replication.semi_sync_source(cursor, ctx.flavor(instance), True)
    else:
        replication.semi_sync_source(cursor, ctx.flavor(instance), True)


def standby_ready(ctx: Context, instance: Instance) -> bool:
    """Whether the standby can take over: its server runs and its replication has not broken."""
    standby = ctx.standby_spec(instance)
    if not ctx.driver.is_running(standby):
        return False
    if ctx.driver.client_options(standby) is None:
        return True
    try:
        with ctx.driver.admin(standby) as cursor:
            found = replication.status(cursor, ctx.flavor(instance))
    except (Failure, OSError, pymysql.MySQLError):
        return False
    return found is not None and found.status != "error"
