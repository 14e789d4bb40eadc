"""Backups and what is made of them: a snapshot of a running instance (manual or automated), the archive
of its binary logs, a new instance's data from a snapshot and (for point-in-time restore) the logs after
it, and retention. The store says what exists; the backup storage holds the bytes.

Every step is safe to run twice: a task interrupted by a crash is run again from the start.
"""

import itertools
import logging
import os
import pathlib
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import pymysql

from emulator.context import Context
from emulator.drivers.base import BinlogPoint, ServerSpec
from emulator.engines import backup as commands
from emulator.engines import live, replication, tools
from emulator.failures import Failure
from emulator.host.work_dirs import work_dir
from emulator.model import engine_versions, ids
from emulator.model.instance import Instance
from emulator.model.snapshot import AUTOMATED_NAME, Snapshot
from emulator.store.errors import NameTaken, SnapshotInUse
from emulator.work import archived_files

log = logging.getLogger(__name__)
# How often a snapshot's PercentProgress is written while its backup runs (seconds of wall time).
PROGRESS_EVERY = 1.0
# The largest packet a server takes (1 GiB): what a replay needs for a large transaction's row events.
LARGEST_PACKET = 1 << 30
# one archiving of an instance at a time (archive)
_archiving: dict[str, threading.Lock] = {}
_archiving_lock = threading.Lock()
# A Multi-AZ standby keeps its binary logs from this long before its primary's archive ends; a source of
# read replicas or of a standby keeps its own this long.
STANDBY_LOGS_OVERLAP = timedelta(minutes=10)
FOLLOWERS_LOGS_KEPT = timedelta(minutes=10)


def new_snapshot(instance: Instance, identifier: str, kind: str, now: datetime) -> Snapshot:
    return Snapshot(
        identifier=identifier, instance_resource_id=instance.resource_id, instance_identifier=instance.identifier,
        snapshot_type=kind, status="creating", progress=0, created_at=now,
        instance_created_at=instance.created_at, engine=instance.engine, engine_version=instance.engine_version,
        instance_class=instance.instance_class, allocated_storage=instance.allocated_storage,
        storage_type=instance.storage_type, iops=instance.iops, storage_throughput=instance.storage_throughput,
        port=instance.port, availability_zone=instance.availability_zone,
        master_username=instance.master_username, password_hash=instance.password_hash,
        db_name=instance.db_name, storage_key=f"snapshots/{ids.token()}.mbstream",
        option_group=instance.option_group, storage_encrypted=instance.storage_encrypted,
        kms_key_id=instance.kms_key_id, data_key_id=instance.data_key_id,
    )


def archived_name(chain: int, file: str) -> str:
    """What one of an instance's binary logs is archived as. A failover's new primary writes its own logs
    (binlog.000001 again): each chain's names sort after the one's before it."""
    return file if chain == 0 else f"c{chain:04d}.{file}"


def chain_of(name: str) -> int:
    return int(name[1:5]) if name.startswith("c") else 0


def automated_name(instance: Instance, now: datetime) -> str:
    return AUTOMATED_NAME.format(identifier=instance.identifier, time=now)


def automated(instance: Instance, now: datetime) -> dict[str, Any]:
    """The params of a backup task that takes an automated backup now."""
    return {"snapshot": automated_name(instance, now), "automated": True}


def snapshot(ctx: Context, instance: Instance, params: dict[str, Any]) -> bool:
    """A hot backup of the instance into the snapshot `params` names; whether the snapshot is available.
    An automated one's record is made here (a manual one's was made with the request). A backup that
    fails fails the snapshot, not the instance."""
    name = params["snapshot"]
    automated = bool(params.get("automated"))
    started = [ctx.told(instance.identifier, "Backing up DB instance"),
               ctx.snapshot_event(name, "Creating automated snapshot" if automated else "Creating manual snapshot")]
    if automated and ctx.store.get_snapshot(name) is None:
        try:
            ctx.store.add_snapshot(new_snapshot(instance, name, "automated", ctx.clock.now()), [], started)
            started = []  # written with the record
        except NameTaken:  # made by this task's earlier, interrupted run
            pass
    found = ctx.store.get_snapshot(name)
    if found is None or found.status != "creating":
        return found is not None and found.status == "available"
    if started:  # a manual snapshot's record was made with the request
        ctx.store.add_events(started)
    try:
        point: BinlogPoint | None = _ready(ctx, instance, params.get("as_made"), found.storage_key)
        gtid = None
        if point is None:
            with ctx.backups.writer(found.storage_key) as sink:
                point, gtid = _backed_up(ctx, instance, sink, _progress(ctx, name))
    except (Failure, OSError, pymysql.MySQLError) as error:
        failed = ctx.snapshot_event(name, "Snapshot failed")
        if isinstance(error, Failure):  # written for users: which tool, and why (a hung one, say)
            failed = replace(failed, message=f"Snapshot failed: {error}")
        ctx.store.update_snapshot(name, [failed], status="failed")
        log.error("the backup of %s into snapshot %s failed: %s", instance.identifier, name, error)
        return False
    made = [ctx.told(instance.identifier, "Finished DB Instance backup"),
            ctx.snapshot_event(name, "Automated snapshot created" if automated else "Manual snapshot created")]
    ctx.store.update_snapshot(
        name, made, status="available", progress=100, size=ctx.backups.size(found.storage_key),
        binlog_file=archived_name(instance.binlog_chain, point[0]) if point[0] else None,
        binlog_position=point[1], binlog_gtid=gtid if gtid is not None else _gtid_at(ctx, instance, point),
        data_time=ctx.clock.now(),
    )
    return True


def _backed_up(ctx: Context, instance: Instance, sink: BinaryIO,
               progress: Callable[[float], None]) -> tuple[BinlogPoint, str | None]:
    """A hot backup of the instance's server into `sink`: where its data ends in the server's binary log,
    and the GTIDs it holds when the point does not say (MariaDB). A Multi-AZ instance's is taken from its
    standby, as on RDS, sparing the primary: the standby's applier waits meanwhile, so that the backup holds
    what it applied of the primary's log. Its point is a file of that log with no position: a restore
    replays the file from its start, skipping by GTID what the backup holds."""
    standby = ctx.standby_spec(instance)
    if not instance.multi_az or ctx.driver.client_options(standby) is None or not ctx.driver.is_running(standby):
        return ctx.driver.backup(ctx.spec(instance), sink, progress), None
    flavor = ctx.flavor(instance)
    try:
        with ctx.driver.admin(standby) as cursor:
            found = replication.status(cursor, flavor)
            paused = replication.applier_paused_at(cursor, flavor) if found and found.status != "error" else None
    except (Failure, OSError, pymysql.MySQLError) as error:
        log.warning("the standby of %s could not be backed up (%s): backing up its primary", instance.identifier,
                    error)
        paused = None
    if paused is None:
        return ctx.driver.backup(ctx.spec(instance), sink, progress), None
    try:
        log.info("backing up %s from its standby", instance.identifier)
        ctx.driver.backup(standby, sink, progress)
    finally:
        with ctx.driver.admin(standby) as cursor:
            replication.apply(cursor, flavor)
    file, gtid = paused
    return (file, None), gtid


def _gtid_at(ctx: Context, instance: Instance, point: tuple[str | None, int | None]) -> str | None:
    """The GTIDs a MariaDB backup ending at this point holds, read while the server still has that log (a
    MySQL backup carries its own); None when it cannot be told."""
    if point[0] is None or ctx.flavor(instance) == "MySQL":
        return None
    try:
        with ctx.driver.admin(ctx.spec(instance)) as cursor:
            return replication.gtid_at(cursor, "MariaDB", *point) or None
    except (Failure, OSError, pymysql.MySQLError):
        return None


def as_made(ctx: Context, instance: Instance) -> str | None:
    """What a new instance's binary log holds once its master user and database are made (its GTIDs), when
    its driver has a ready backup of the data directory it was made from (None otherwise)."""
    spec = ctx.spec(instance)
    if ctx.driver.ready_backup(spec) is None:
        return None
    try:
        with ctx.driver.admin(spec) as cursor:
            return live.transactions(cursor, ctx.flavor(instance))
    except (Failure, OSError, pymysql.MySQLError):
        return None  # the first backup is a real one


def _ready(ctx: Context, instance: Instance, made: str | None, key: str) -> tuple[str, int] | None:
    """A new instance's first backup, while its server holds nothing but what it was made with (no
    transaction since its master user and database were made): the ready backup of the data directory it
    was made from, and the point its binary log is at. A restore of it makes the master user and database as
    every restore does, from the snapshot's, and a point-in-time restore replays from that point: the same
    server, for the price of a link rather than a hot backup. None when it holds more: a real backup is
    taken."""
    spec = ctx.spec(instance)
    ready = ctx.driver.ready_backup(spec) if made is not None else None
    if ready is None:
        return None
    flavor = ctx.flavor(instance)
    with ctx.driver.admin(spec) as cursor:
        point = live.binlog_status(cursor, flavor)
        if point is None or live.transactions(cursor, flavor) != made:
            return None
    ctx.backups.put(key, ready)
    log.info("the first backup of %s is the ready backup of the data directory it was made from",
             instance.identifier)
    return point


def _progress(ctx: Context, name: str) -> Callable[[float], None]:
    last = [0.0, -1]

    def report(share: float) -> None:
        percent = int(share * 100)
        if percent != last[1] and time.monotonic() - last[0] >= PROGRESS_EVERY:
            ctx.store.update_snapshot(name, progress=percent)
            last[:] = [time.monotonic(), percent]

    return report


def abandon(ctx: Context, resource_id: str) -> None:
    """The instance's task failed for good: a snapshot it was taking will not be finished."""
    for found in ctx.store.list_snapshots(instance_resource_ids=[resource_id], statuses=["creating"]):
        ctx.store.update_snapshot(found.identifier, [ctx.snapshot_event(found.identifier, "Snapshot failed")],
                                  status="failed")


def snapshot_event(ctx: Context, name: str, message: str) -> None:
    ctx.store.add_event(ctx.snapshot_event(name, message))


def seed(ctx: Context, spec: ServerSpec, snapshot_name: str) -> bool:
    """A new instance's storage from a snapshot, unpacked by the tools of the version that made its backup;
    whether that is older than the instance's (an upgraded snapshot: its server has to upgrade it)."""
    found = ctx.store.get_snapshot(snapshot_name)
    if found is None or found.status != "available":
        raise Failure(f"the snapshot {snapshot_name} was deleted before the restore could read it")
    made_with = engine_versions.serving(found.engine, found.made_with)
    with ctx.backups.reader(found.storage_key) as source:
        ctx.driver.seed(replace(spec, version=made_with or spec.version), source)
    return made_with is not None and made_with != spec.version


def replay(ctx: Context, instance: Instance, source_resource_id: str, snapshot_name: str, until: datetime,
           everything: bool = False) -> None:
    """Replay onto the restored server what the source instance committed after the snapshot, up to `until`
    (the emulator's time; the logs carry the host's). `everything`: all that was archived, which is the
    instance at its latest restorable time (a log's events carry whole seconds, so a stop time would also
    drop what was committed in `until`'s own second)."""
    found = ctx.store.get_snapshot(snapshot_name)
    if found is None:
        raise Failure(f"the snapshot {snapshot_name} was deleted before the restore could read it")
    if found.binlog_file is None:
        return  # a server without a binary log (the none driver): its backup is all there is
    archived = [item for item in ctx.store.binlogs_of(source_resource_id) if item["name"] >= found.binlog_file]
    if not archived:
        return  # the server wrote nothing after the snapshot up to its restorable time
    flavor = ctx.flavor(instance)
    # the snapshot's own log; or, when a failover took its primary before that was archived, the logs of the
    # next primary (they hold what it replicated, from before the snapshot on): they are replayed by GTID
    if archived[0]["name"] != found.binlog_file and (
            chain_of(archived[0]["name"]) == chain_of(found.binlog_file)
            or (flavor == "MariaDB" and found.binlog_gtid is None)):
        raise Failure("the binary logs to restore to that time are no longer archived")
    # the files up to the first one closed at or after `until`; with none, all of them: the instance was
    # restorable to `until` because its server wrote nothing after the last one
    covering = next((item for item in archived if item["closed_at"] >= until), archived[-1])
    host_time = until - timedelta(seconds=covering["clock_offset"])
    stop = None if everything else f"{host_time:%Y-%m-%d %H:%M:%S}"
    replayed = archived[: archived.index(covering) + 1]
    with ctx.driver.admin(ctx.spec(instance)) as cursor, _packets_of_any_size(cursor), \
            work_dir(ctx.settings.data_dir, f"replay-{instance.resource_id}") as work, \
            client_file(ctx, instance, work) as options:
        for _, chain in itertools.groupby(replayed, key=lambda item: chain_of(item["name"])):
            logs = list(chain)
            if logs[0]["name"] == found.binlog_file and found.binlog_position is not None:
                start = str(found.binlog_position)
            elif flavor == "MySQL":  # its transactions carry their GTIDs: those the server has are skipped
                start = "4"
            else:  # the logs of a later primary hold what it replicated too (and a standby's backup has no
                # position in its primary's): after what the backup holds and what was replayed
                start = replication.later_gtids(replication.replayed(cursor), found.binlog_gtid or "")
            files = [str(archived_files.take(ctx, instance, item, work)) for item in logs]
            _pipe(ctx.in_tree(instance, commands.replay_binlogs(flavor, files, start, stop)),
                  ctx.in_tree(instance, commands.sql_client(flavor, options)), sum(item["size"] for item in logs))
            for path in files:
                pathlib.Path(path).unlink()


@contextmanager
def _packets_of_any_size(cursor: Any) -> Iterator[None]:
    """A replayed row event is one statement as large as the transaction's rows: the server takes the
    largest packet it can while the replay runs, then its own setting again."""
    cursor.execute("SELECT @@GLOBAL.max_allowed_packet")
    (before,) = cursor.fetchone()
    cursor.execute(f"SET GLOBAL max_allowed_packet = {LARGEST_PACKET}")
    try:
        yield
    finally:
        cursor.execute(f"SET GLOBAL max_allowed_packet = {int(before)}")


def archive(ctx: Context, instance: Instance) -> datetime | None:
    """One instance's archiving at a time: a pass of the scheduler's and the one after a standby is made may
    meet, and one recording an earlier close after the other's later one made its restorable time lie."""
    with _archiving_lock:
        lock = _archiving.setdefault(instance.resource_id, threading.Lock())
    with lock:
        return _archive(ctx, instance)


def _archive(ctx: Context, instance: Instance) -> datetime | None:
    """Close the server's current binary log and archive every closed one not archived yet; then the
    instance is restorable up to the moment the log was closed. A server that wrote nothing since the last
    close keeps its file: it is restorable up to now all the same, and that time is returned for the caller
    to record with other instances' (None: recorded here, with the archived logs)."""
    fresh = ctx.store.get_instance(instance.resource_id)  # a failover may have changed its primary since
    if fresh is None:
        return None
    instance = fresh
    now = ctx.clock.now()
    flavor = ctx.flavor(instance)
    with ctx.driver.admin(ctx.spec(instance)) as cursor:
        current = live.binlog_status(cursor, flavor)
        if current is None:
            if ctx.driver.client_options(ctx.spec(instance)) is None:
                return now  # no server (the none driver): nothing is written that a backup lacks
            # a server started by an older release, without one until its next restart
            log.info("%s runs without a binary log until its next restart", instance.identifier)
            return None
        file, position = current
        # a mark left by another server (before a failover) may read the same: binlog.000009 at 389
        mark = instance.binlog_mark or {}
        if (mark.get("file"), mark.get("position"), mark.get("chain", 0)) == (file, position, instance.binlog_chain):
            return now
        cursor.execute("FLUSH BINARY LOGS")
        now = ctx.clock.now()  # all that was committed before now is in the files just closed
        file, position = live.binlog_status(cursor, flavor) or current
        cursor.execute("SHOW BINARY LOGS")
        closed = {row[0]: int(row[1]) for row in cursor.fetchall() if row[0] != file}  # name: size
    done = {item["name"] for item in ctx.store.binlogs_of(instance.resource_id)}
    chain = instance.binlog_chain
    wanted = [name for name in closed if archived_name(chain, name) not in done]
    offset = ctx.clock.offset.total_seconds()
    with work_dir(ctx.settings.data_dir, f"binlogs-{instance.resource_id}") as work:
        if wanted:
            with client_file(ctx, instance, work) as options:
                _run(ctx.in_tree(instance, commands.fetch_binlogs(flavor, options, wanted, str(work))),
                     sum(closed[name] for name in wanted))
        for name in wanted:
            key = f"binlogs/{instance.resource_id}/{archived_name(chain, name)}"
            archived_files.keep(ctx, instance, work / name, key, closed[name])
            if not _same_primary(ctx, instance):
                return None  # what was fetched may be another server's: the next pass archives the new one's
            ctx.store.add_binlog(instance.resource_id, archived_name(chain, name), key, ctx.backups.size(key), now,
                                 offset)
    if not _same_primary(ctx, instance):  # a failover meanwhile: these servers are not what they were
        return None
    with ctx.driver.admin(ctx.spec(instance)) as cursor:
        if instance.multi_az or instance.read_replicas:
            # a replica or standby made from a backup reads the log from where that backup ended, a moment
            # later: its source keeps its logs a while (a server never purges one that a replica reads)
            kept_from = now - FOLLOWERS_LOGS_KEPT - ctx.clock.offset
            cursor.execute("PURGE BINARY LOGS BEFORE %s", (kept_from.replace(tzinfo=None),))
        else:
            cursor.execute("PURGE BINARY LOGS TO %s", (file,))
    if instance.multi_az:
        _purge_standby(ctx, instance, now)
    ctx.store.update_instance(instance.resource_id, restorable_until=now,
                              binlog_mark={"file": file, "position": int(position), "chain": instance.binlog_chain})
    return None


def _same_primary(ctx: Context, instance: Instance) -> bool:
    current = ctx.store.get_instance(instance.resource_id)
    return current is not None and current.binlog_chain == instance.binlog_chain


def _purge_standby(ctx: Context, instance: Instance, archived_until: datetime) -> None:
    """A standby's own binary log (what it applied: its logs once it takes over) is kept from a while before
    its primary's archive ends, so that the two chains overlap; what is older goes."""
    standby = ctx.standby_spec(instance)
    before = archived_until - STANDBY_LOGS_OVERLAP - ctx.clock.offset
    try:
        with ctx.driver.admin(standby) as cursor:
            cursor.execute("FLUSH BINARY LOGS")
            cursor.execute("PURGE BINARY LOGS BEFORE %s", (before.replace(tzinfo=None),))
    except (Failure, OSError, pymysql.MySQLError) as error:
        log.info("the standby of %s kept its binary logs this time: %s", instance.identifier, error)


def discard(ctx: Context, instance: Instance) -> None:
    """A server without automated backups keeps no binary log but the one it writes."""
    with ctx.driver.admin(ctx.spec(instance)) as cursor:
        cursor.execute("PURGE BINARY LOGS BEFORE NOW()")


def forget(ctx: Context, resource_id: str) -> None:
    """Delete an instance's automated snapshots and archived logs (backups disabled, instance deleted)."""
    for found in ctx.store.list_snapshots(instance_resource_ids=[resource_id], types=["automated"]):
        _remove(ctx, found, ctx.clock.now())
    drop_binlogs(ctx, resource_id, None)


def expire(ctx: Context, instance: Instance, automated: list[Snapshot], oldest_binlog: str | None) -> None:
    """Retention: the instance stays restorable to any time in the last BackupRetentionPeriod days, so the
    newest automated snapshot from before then is kept (it is where such a restore starts) and older ones
    go, with the archived logs that no remaining snapshot is replayed from. `automated`: its automated
    snapshots; `oldest_binlog`: the oldest of its archived logs (both read for all instances at once)."""
    if instance.retention == 0:
        if automated or oldest_binlog:
            forget(ctx, instance.resource_id)
        return
    now = ctx.clock.now()
    cutoff = now - timedelta(days=instance.retention)
    found = [snapshot for snapshot in automated if snapshot.status == "available"]
    older = sorted((snapshot for snapshot in found if snapshot.created_at < cutoff), key=lambda s: s.created_at)
    for snapshot in older[:-1]:
        _remove(ctx, snapshot, now)
    kept = [snapshot.binlog_file for snapshot in found if snapshot not in older[:-1] and snapshot.binlog_file]
    if kept and oldest_binlog is not None and oldest_binlog < min(kept):
        drop_binlogs(ctx, instance.resource_id, min(kept))


def retained_until(ctx: Context, resource_id: str, snapshots: list[Snapshot]) -> datetime:
    """How far a deleted instance's retained backups restore: as far as the instance did when it was deleted
    (what it committed after its last archiving went with it); for backups retained before that was
    recorded, to the close of the last archived binary log, or the newest snapshot's data."""
    recorded = [snapshot.retained_until for snapshot in snapshots if snapshot.retained_until]
    if recorded:
        return max(recorded)
    times = [snapshot.data_time for snapshot in snapshots if snapshot.data_time]
    return max([*times, *(item["closed_at"] for item in ctx.store.binlogs_of(resource_id))])


def expire_retained(ctx: Context) -> None:
    """A deleted instance's retained automated backups expire as they would have with it: each snapshot its
    retention period after it was taken, the archived logs with the oldest one left; and so, in the end, the
    whole set."""
    now = ctx.clock.now()
    live = {instance.resource_id for instance in ctx.store.list_instances()}
    left: dict[str, list[Snapshot]] = {}
    for snapshot in ctx.store.list_snapshots(types=["automated"], statuses=["available"]):
        if snapshot.instance_resource_id in live or snapshot.retention is None:
            continue
        kept = left.setdefault(snapshot.instance_resource_id, [])
        if snapshot.created_at + timedelta(days=snapshot.retention) > now:
            kept.append(snapshot)
        else:
            _remove(ctx, snapshot, now)
    for resource_id, kept in left.items():
        if not kept:
            drop_binlogs(ctx, resource_id, None)
        elif starts := [snapshot.binlog_file for snapshot in kept if snapshot.binlog_file]:
            drop_binlogs(ctx, resource_id, min(starts))


def drop_binlogs(ctx: Context, resource_id: str, before: str | None) -> None:
    """Archived logs older than `before` (all, when None); their files go in a task of their own."""
    gone = [item["name"] for item in ctx.store.binlogs_of(resource_id) if before is None or item["name"] < before]
    if gone:
        ctx.store.remove_binlogs(resource_id, gone, ctx.clock.now())


@contextmanager
def client_file(ctx: Context, instance: Instance, work: pathlib.Path) -> Iterator[str]:
    """An option file, the owner's only, that takes the engine's command-line tools to the server."""
    path = work / "client.cnf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(commands.client_file(ctx.driver.client_options(ctx.spec(instance)) or {}))
    try:
        yield str(path)
    finally:
        path.unlink(missing_ok=True)


def _run(argv: list[str], size: int) -> None:
    tools.run(argv, env=tools.utc(), timeout=tools.for_bytes(size))


def _pipe(producer: list[str], consumer: list[str], size: int) -> None:
    """producer | consumer, through `size` bytes of binary logs; either failing fails both."""
    with tempfile.TemporaryFile() as producer_log:
        tools.pipe(producer, consumer, producer_log, env=tools.utc(), error_line=_error_line,
                   timeout=tools.for_bytes(size))


def _error_line(output: bytes) -> str:
    """The tool's own error line, never the statement it was running (it may hold a row's data); the whole
    output goes to the emulator's log."""
    text = output.decode(errors="replace")
    log.error("a replay tool failed: %s", text[-2000:])
    found = [line for line in text.splitlines()
             if line.startswith(("ERROR", "mariadb-binlog:", "mariadb:", "mysqlbinlog:", "mysql:"))]
    return found[-1][:300] if found else "see the emulator's log"


def _remove(ctx: Context, snapshot: Snapshot, now: datetime) -> None:
    """An expired automated snapshot goes, unless a restore or a copy reads it: then it goes at a later look."""
    try:
        ctx.store.remove_snapshot(snapshot.identifier, now)
    except SnapshotInUse:
        log.info("snapshot %s is kept while a restore or a copy reads it", snapshot.identifier)
