"""Multi-AZ: a standby server beside the primary, made from a hot backup of it and fed by semi-synchronous
replication (each commit returns once the standby has it on disk), reached by no client; the failover that
fences the primary and gives its endpoint to the standby; and the standby made again after it.

Each instance has two servers (context.server_name): `active_server` says which is the primary. A standby
runs with no network and read-only (context.STANDBY_PARAMETERS); taking over, it restarts on the instance's
endpoint. Every step is safe to run again: a standby whose making was interrupted is made again.
"""

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pymysql

from emulator.context import Context
from emulator.drivers.base import ServerSpec, until
from emulator.engines import accounts, live, replication
from emulator.failures import Failure
from emulator.model.instance import Instance
from emulator.work import backups, replicas

log = logging.getLogger(__name__)
# How long a forced failover waits for the primary's lock and for its standby to receive all it logged.
DRAIN_SECONDS = 5
# How long a standby that takes over may take to receive from a read replica what the dead primary sent it alone.
CATCH_UP_SECONDS = 30


def build(ctx: Context, instance: Instance) -> None:
    """A new standby for the running primary, which takes writes all along: its commits wait for no standby
    until this one has connected, and for it from then on."""
    spec, standby = ctx.spec(instance), ctx.standby_spec(instance)
    flavor = ctx.flavor(instance)
    served = ctx.driver.client_options(spec) is not None
    if served:
        _primary_waits(ctx, spec, flavor, False)
    ctx.driver.destroy(standby)
    gtid = replicas.seed_from(ctx, instance, standby)
    ctx.driver.provision(standby)
    if not served:
        return  # no server (the none driver): the standby is its record
    if instance.replica_source is None:  # a replica's account came from its own source
        replicas.account_on(ctx, spec)
    with _waiting(ctx, spec, flavor):  # before the standby first connects: it registers as it does
        replicas.connect(ctx, standby, spec, flavor, gtid, semi_sync=True)
    with ctx.driver.admin(standby) as cursor:
        accounts.master_locked(cursor, flavor, instance.master_username, True)
    _archived(ctx, instance)


@contextlib.contextmanager
def _waiting(ctx: Context, spec: ServerSpec, flavor: str) -> Iterator[None]:
    """The primary's commits wait for its standby's acknowledgement from the block on: the block connects the
    standby, which registers as a replica that acknowledges as its receiving thread connects, and only to a
    source that waits by then. Failure (and the primary waits for nothing) when it has not registered soon."""
    _primary_waits(ctx, spec, flavor, True)
    try:
        yield
        if not until(lambda: _clients(ctx, spec, flavor) > 0, replicas.CONNECT_TIMEOUT, 0.02):
            raise Failure("the standby did not acknowledge the primary's commits in time")
    except BaseException:
        _primary_waits(ctx, spec, flavor, False)
        raise


def _primary_waits(ctx: Context, spec: ServerSpec, flavor: str, on: bool) -> None:
    with ctx.driver.admin(spec) as cursor:
        replication.semi_sync_source(cursor, flavor, on)


def _archived(ctx: Context, instance: Instance) -> None:
    """The primary's binary log archived up to now: the standby's own log (the next chain, should it take
    over) starts at the backup it was made from, so the primary's archive reaches past that."""
    if instance.retention == 0:
        return
    try:
        backups.archive(ctx, instance)
    except (Failure, OSError, pymysql.MySQLError) as error:
        log.warning("the binary logs of %s could not be archived after its standby was made: %s",
                    instance.identifier, error)


def remove(ctx: Context, instance: Instance) -> None:
    """The standby goes; the primary's commits wait for nothing any more."""
    spec = ctx.spec(instance)
    if ctx.driver.client_options(spec) is not None and ctx.driver.is_running(spec):
        _primary_waits(ctx, spec, ctx.flavor(instance), False)
    ctx.driver.destroy(ctx.standby_spec(instance))


def unhooked(ctx: Context, instance: Instance) -> None:
    """Before the primary's clean shutdown (a reboot, a stop): its commits wait for the standby no more, and
    the standby lets go of it (a MySQL source with a replica connected takes ten seconds more to shut down).
    What the primary committed stays on its own disk; the standby catches up once it connects again."""
    spec = ctx.spec(instance)
    if not instance.multi_az or ctx.driver.client_options(spec) is None:
        return
    flavor = ctx.flavor(instance)
    try:
        _primary_waits(ctx, spec, flavor, False)
        with ctx.driver.admin(ctx.standby_spec(instance)) as cursor:
            replication.pause(cursor, flavor)
    except (Failure, OSError, pymysql.MySQLError) as error:  # a server that does not answer stops all the same
        log.info("the servers of %s did not answer before the primary's shutdown: %s", instance.identifier, error)


def fence(ctx: Context, instance: Instance, drain: bool) -> bool:
    """The primary's server killed, so that it never takes another write. `drain` (a failover asked for, of a
    primary that answers): first it takes no more commits (a global read lock, held until it dies) and the
    standby receives all it logged, so that no read replica (which the primary feeds as soon as it logs) has a
    transaction the standby lacks. The standby's receiving thread stops before the kill: stopped after, it
    would first sit out its wait to connect again (a second). Whether it was drained."""
    spec, standby, flavor = ctx.spec(instance), ctx.standby_spec(instance), ctx.flavor(instance)
    if ctx.driver.client_options(spec) is None:
        return drain
    drained = False
    with contextlib.ExitStack() as held:
        if drain:
            try:
                _drained(ctx, held.enter_context(ctx.driver.admin(spec)), standby, flavor)
                drained = True
            except (Failure, OSError, pymysql.MySQLError) as error:
                log.warning("the primary of %s could not be drained before its fence: %s", instance.identifier, error)
        with ctx.driver.admin(standby) as cursor:
            replication.pause(cursor, flavor)
        ctx.driver.kill(spec)
    return drained


def _drained(ctx: Context, cursor: Any, standby: ServerSpec, flavor: str) -> None:
    cursor.execute(f"SET SESSION lock_wait_timeout = {DRAIN_SECONDS}")
    cursor.execute("FLUSH TABLES WITH READ LOCK")
    logged = live.transactions(cursor, flavor)

    def caught_up() -> bool:
        with ctx.driver.admin(standby) as on_standby:
            return replication.covers(on_standby, flavor, replication.holds(on_standby, flavor), logged)

    if not until(caught_up, DRAIN_SECONDS, 0.005):
        raise Failure(f"the standby did not receive all the primary logged within {DRAIN_SECONDS} s")


def take_over(ctx: Context, instance: Instance, drained: bool) -> None:
    """The standby applies all it received and replicates no more; the primary, already fenced, is the one
    to be made again. A primary that was not `drained` (it died) may have fed a read replica a transaction
    its standby never received: the standby takes what it lacks from the replicas first."""
    standby = ctx.standby_spec(instance)
    if ctx.driver.client_options(standby) is None:
        return
    flavor = ctx.flavor(instance)
    with ctx.driver.admin(standby) as cursor:
        if replication.status(cursor, flavor) is not None:
            if not replication.wait_applied(cursor, flavor):
                raise Failure("the standby did not apply what it had received from the primary in time")
            replication.let_go(cursor, flavor)
    if not drained:
        for identifier in instance.read_replicas:
            replica = ctx.store.find_instance(identifier)
            if replica is not None and replica.observed == "running":
                _caught_up(ctx, standby, ctx.spec(replica), flavor)


def _caught_up(ctx: Context, standby: ServerSpec, replica: ServerSpec, flavor: str) -> None:
    """The standby replicates from a read replica (its binary log holds what it applied, as a source's does)
    until it has all the replica applied, so that the replica can follow it once it takes over."""
    try:
        with ctx.driver.admin(replica) as cursor:
            found = replication.status(cursor, flavor)
            if found is None or found.status == "error":  # it applies nothing more: its error says why
                return
            replication.wait_applied(cursor, flavor)  # nothing more comes from the dead primary
            theirs = live.transactions(cursor, flavor)
            replication.resume(cursor, flavor)  # it connects to the new primary once that runs

        def holds_theirs() -> bool:
            with ctx.driver.admin(standby) as cursor:
                return replication.covers(cursor, flavor, live.transactions(cursor, flavor), theirs)

        if holds_theirs():
            return
        log.warning("the standby of %s takes what read replica %s received and it did not", standby.identifier,
                    replica.identifier)
        replicas.connect(ctx, standby, replica, flavor, None)
        try:
            if not until(holds_theirs, CATCH_UP_SECONDS, 0.01):
                raise Failure(f"the standby did not catch up with read replica {replica.identifier} in time")
        finally:
            with ctx.driver.admin(standby) as cursor:
                replication.let_go(cursor, flavor)
    except (Failure, OSError, pymysql.MySQLError) as error:  # that replica's replication will show the error
        log.error("the standby of %s could not catch up with read replica %s: %s", standby.identifier,
                  replica.identifier, error)


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
            replication.semi_sync_replica(cursor, flavor)  # before its threads start (acknowledged starts them)
        acknowledged(ctx, instance)
    except (Failure, OSError, pymysql.MySQLError) as error:
        log.warning("the standby of %s could not run again: %s", instance.identifier, error)
        return False
    return True


def rejoined(ctx: Context, instance: Instance) -> None:
    """After the primary's restart (a reboot, a recovery, any start of its server): if it is a Multi-AZ
    instance's and its standby is ready, the primary waits for that standby again."""
    if instance.multi_az and standby_ready(ctx, instance):
        acknowledged(ctx, instance)


def acknowledged(ctx: Context, instance: Instance) -> None:
    """The primary's commits wait for its standby's acknowledgement again (a restart of either forgets): a
    standby paused for the primary's shutdown connects again, and one that connected to the restarted
    primary before it waited connects again too, to register."""
    spec, standby, flavor = ctx.spec(instance), ctx.standby_spec(instance), ctx.flavor(instance)
    if ctx.driver.client_options(spec) is None:
        return  # no server (the none driver)
    with _waiting(ctx, spec, flavor), ctx.driver.admin(standby) as cursor:
        found = replication.status(cursor, flavor)
        if found is not None and found.status == "stopped":
            replication.resume(cursor, flavor)
        elif found == replication.Replication("replicating", "", True) and not _clients(ctx, spec, flavor):
            replication.reconnect(cursor, flavor)


def _clients(ctx: Context, spec: ServerSpec, flavor: str) -> int:
    with ctx.driver.admin(spec) as cursor:
        return replication.semi_sync_clients(cursor, flavor)


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
