"""Read replicas: a new instance made from a hot backup of its source and replicating from it by GTID; what
its server says of that replication; and its promotion to a standalone instance, once it has applied all
it received. Every step is safe to run again: a replica whose making was interrupted is made again.
"""

import base64
import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any

import pymysql

from emulator.context import Context
from emulator.drivers.base import ServerSpec, until
from emulator.engines import replication
from emulator.engines.replication import Replication
from emulator.failures import Failure
from emulator.host import key_file
from emulator.host.work_dirs import work_dir
from emulator.model.instance import Instance
from emulator.model.records import Task
from emulator.work.runner import Retry

log = logging.getLogger(__name__)
# How long a new replica may take to connect to its source (seconds).
CONNECT_TIMEOUT = 30
# A source busy with a task of its own (a reboot, say) is waited for this long before trying again.
SOURCE_BUSY = timedelta(seconds=2)
STOPPED = "Replication has stopped"
RESUMED = "Replication for the Read Replica resumed"
PROMOTED = "Promoted Read Replica to a standalone DB instance"
# the key the replication accounts' passwords are derived from
KEY_FILE = "replication.key"


def source_of(ctx: Context, replica: Instance) -> Instance:
    """The replica's source, running and free for a backup; Retry while it is busy, Failure once it is gone."""
    source = ctx.store.get_instance(replica.replica_source or "")
    if source is None:
        raise Failure("its source DB instance was deleted before the read replica was made")
    if source.task is not None or source.observed != "running":
        raise Retry(SOURCE_BUSY, f"the source {source.identifier} is {source.status}")
    return source


def seed_from(ctx: Context, source: Instance, spec: ServerSpec) -> str | None:
    """A replica's (or a standby's) storage from a hot backup of its source, taken now; the GTIDs that backup
    holds (None for MySQL, whose clone carries them)."""
    flavor = ctx.flavor(source)
    with work_dir(ctx.settings.data_dir, f"replica-{spec.resource_id}") as work:
        with open(work / "backup", "w+b") as sink:
            point = ctx.driver.backup(ctx.spec(source), sink, lambda share: None)
            sink.seek(0)
            ctx.driver.seed(spec, sink)
    with ctx.driver.admin(ctx.spec(source)) as cursor:
        return replication.gtid_at(cursor, flavor, *point)


def follow(ctx: Context, replica: Instance, source: Instance, gtid: str | None) -> Replication:
    """The replica's server replicates from its source's, and its master user may read only (MariaDB gives
    every privilege READ_ONLY ADMIN, which writes past read_only: taken away here, on the replica alone)."""
    flavor = ctx.flavor(replica)
    spec = ctx.spec(replica)
    if ctx.driver.client_options(spec) is None:
        return Replication("replicating")  # no server (the none driver): the replica is its record
    with ctx.driver.admin(spec) as cursor:
        replication.read_only_master(cursor, flavor, replica.master_username, True)
    source_spec = ctx.spec(source)
    if source.replica_source is None:  # a replica's account came from its own source, with this password
        account_on(ctx, source_spec)
    return connect(ctx, spec, source_spec, flavor, gtid)


def connect(ctx: Context, spec: ServerSpec, source_spec: ServerSpec, flavor: str, gtid: str | None,
            semi_sync: bool = False) -> Replication:
    """A server replicates from another, as the source's replication account (account_on made it).
    `semi_sync`: it acknowledges what it receives (a standby). What its threads say once they run, or Failure
    when they never do."""
    reached = ctx.driver.reach_source(spec, source_spec)
    password = _password(ctx)
    with ctx.driver.admin(spec) as cursor:
        if semi_sync:
            replication.semi_sync_replica(cursor, flavor)
        replication.follow(cursor, flavor, *reached, password, gtid)
    seen: list[Replication | None] = [None]

    def running() -> bool:
        with ctx.driver.admin(spec) as cursor:
            seen[0] = replication.status(cursor, flavor)
        return seen[0] is not None and (seen[0].connected or seen[0].status == "error")

    if not until(running, CONNECT_TIMEOUT, 0.1) or seen[0] is None or seen[0].status == "error":
        reason = seen[0].message if seen[0] is not None and seen[0].message else "it never connected"
        raise Failure(f"the server could not replicate from {source_spec.identifier}: {reason}")
    return seen[0]


def account_on(ctx: Context, source_spec: ServerSpec) -> None:
    """The replication account on a source, with its password."""
    with ctx.driver.admin(source_spec) as cursor:
        replication.grant(cursor, _password(ctx))


def as_recorded(ctx: Context, instance: Instance, cursor: Any) -> None:
    """A server just started replicates again when the store says it is a replica (servers start without), and
    forgets any source its data brought along otherwise: a restore of a replica's snapshot follows nothing."""
    if instance.task == "create":  # a new server, from its tree's ready data: it never replicated
        return
    flavor = ctx.flavor(instance)
    if replication.status(cursor, flavor) is None:
        return
    if instance.replica_source is None:
        replication.let_go(cursor, flavor)
    elif instance.observed != "none":  # a new one's is set up once its server runs (follow)
        replication.resume(cursor, flavor)


def observe(ctx: Context, replica: Instance) -> None:
    """What the replica's server says of its replication, kept for DescribeDBInstances; an event when it
    breaks (with the server's reason) or resumes."""
    try:
        with ctx.driver.admin(ctx.spec(replica)) as cursor:
            found = replication.status(cursor, ctx.flavor(replica)) or Replication("stopped")
    except (Failure, OSError, pymysql.MySQLError) as error:  # a server that does not answer: the watch's business
        log.debug("the replication of %s could not be read: %s", replica.identifier, error)
        return
    before = ctx.replication.get(replica.resource_id)
    ctx.replication[replica.resource_id] = found
    if before is None or before.status == found.status:
        return
    if found.status == "error":
        ctx.instance_event(replica.identifier, f"{STOPPED}: {found.message}", "read replica")
    elif found.status == "replicating":
        ctx.instance_event(replica.identifier, RESUMED, "read replica")


def promote(ctx: Context, replica: Instance, task: Task) -> None:
    """The replica applies all it received, stops following its source, and becomes writable: its own
    instance, with the backups asked for."""
    flavor = ctx.flavor(replica)
    with ctx.driver.admin(ctx.spec(replica)) as cursor:
        found = replication.status(cursor, flavor)
        # one whose replication broke applies no more: it is promoted as it is, as RDS promotes it
        if found is not None and found.status == "replicating" and not replication.wait_applied(cursor, flavor):
            raise Failure("the read replica did not apply what it had received from its source in time")
        replication.let_go(cursor, flavor)
        replication.read_only_master(cursor, flavor, replica.master_username, False)
    ctx.replication.pop(replica.resource_id, None)
    values = {name: value for name, value in (("retention", task.params.get("retention")),
                                               ("backup_window", task.params.get("backup_window")))
              if value is not None}
    ctx.store.update_instance(replica.resource_id, [ctx.told(replica.identifier, PROMOTED, "read replica")],
                              replica_source=None, **values)


def _password(ctx: Context) -> str:
    """The replication account's password, derived from a key the emulator keeps (owner-only, beside the
    store), so that no file of ours holds it: a replica's server keeps it, as every MySQL replica does. One
    for every source: a replica's account is its source's (replicated), and stays valid when it is promoted."""
    key = key_file.ensure(ctx.settings.data_dir / KEY_FILE)
    digest = hmac.new(key, replication.ACCOUNT.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()  # 32 characters, the most MySQL takes
