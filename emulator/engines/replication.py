"""The SQL of replication between two servers of one flavor, over any administrator cursor a driver gives: a
source's account for its replicas, where a backup's data ends as the source's GTIDs, a replica following its
source, what its threads say, and a replica let go. MySQL 8.4 and later took MariaDB's words away (SLAVE,
MASTER): each flavor gets its own."""

from dataclasses import dataclass
from typing import Any

from emulator.failures import Failure

# A replica whose source is away (a reboot, a guest's restart) tries again every second, for a day: MySQL's
# default gives up after ten tries, and MariaDB's after a day.
RETRIES = 86400
# How long a promotion waits for a replica to apply what it had received (seconds).
APPLY_TIMEOUT = 300


@dataclass(frozen=True)
class Replication:
    """What a replica's server says of its replication: RDS's status word (replicating, error, stopped), and
    the server's own reason when it is in error."""

    status: str
    message: str = ""
    # whether its receiving thread is connected to the source
    connected: bool = False


# The source's account its replicas connect as (RDS's name): REPLICATION SLAVE only.
ACCOUNT = "rdsrepladmin"


def grant(cursor: Any, password: str) -> None:
    """The replicas' account on the source, with this password (the same each time)."""
    cursor.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (ACCOUNT, password))
    cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (ACCOUNT, password))
    cursor.execute("GRANT REPLICATION SLAVE ON *.* TO %s@'%%'", (ACCOUNT,))


def gtid_at(cursor: Any, flavor: str, file: str | None, position: int | None) -> str | None:
    """The GTIDs a backup that ends at this point of the source's binary log holds (MariaDB; a MySQL backup,
    a clone, carries its own GTIDs into the replica)."""
    if flavor == "MySQL" or file is None:
        return None
    cursor.execute("SELECT BINLOG_GTID_POS(%s, %s)", (file, position))
    row = cursor.fetchone()
    return str(row[0]) if row and row[0] is not None else ""


def replayed(cursor: Any) -> str:
    """The last GTID of each domain a MariaDB server logged that it did not commit itself (it replayed or
    replicated it). A restored server's own first transactions (its master user) number on from the
    GTIDs its backup holds, ahead of the source's that follow them: not the source's."""
    cursor.execute("SELECT @@GLOBAL.gtid_binlog_pos, @@GLOBAL.server_id")
    position, own = cursor.fetchone()
    return ",".join(gtid for gtid in str(position).split(",") if gtid and gtid.split("-")[1] != str(own))


def later_gtids(*positions: str) -> str:
    """MariaDB GTID positions (domain-server-sequence, comma-separated) merged: the later one of each domain."""
    latest: dict[int, tuple[int, str]] = {}
    for position in positions:
        for gtid in filter(None, (part.strip() for part in position.split(","))):
            domain, _, sequence = gtid.split("-")
            if int(domain) not in latest or int(sequence) > latest[int(domain)][0]:
                latest[int(domain)] = (int(sequence), gtid)
    return ",".join(gtid for _, (_, gtid) in sorted(latest.items()))


def follow(cursor: Any, flavor: str, host: str, port: int, password: str, gtid: str | None) -> None:
    """Replicate from the source, by GTID, starting after what the backup it was made from holds."""
    let_go(cursor, flavor)  # what a copy of a replica's data brought along (a replica of a replica)
    if flavor == "MySQL":
        cursor.execute(
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST=%s, SOURCE_PORT=%s, SOURCE_USER=%s, SOURCE_PASSWORD=%s, "
            "SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_CONNECT_RETRY=1, SOURCE_RETRY_COUNT=%s",
            (host, port, ACCOUNT, password, RETRIES))
        cursor.execute("START REPLICA")
        return
    if gtid is not None:
        cursor.execute("SET GLOBAL gtid_slave_pos = %s", (gtid,))
    cursor.execute(
        "CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER=%s, MASTER_PASSWORD=%s, "
        "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", (host, port, ACCOUNT, password))
    cursor.execute("START SLAVE")


def _threads(flavor: str) -> str:
    """What a server calls its replication threads in statements (MySQL 8.4 took MariaDB's word away)."""
    return "REPLICA" if flavor == "MySQL" else "SLAVE"


def _shown(cursor: Any, flavor: str) -> dict[str, Any] | None:
    """The replica's status row by MySQL's column names (MariaDB's say Slave and Master for Replica and
    Source); None when the server replicates from nothing."""
    cursor.execute(f"SHOW {_threads(flavor)} STATUS")
    row = cursor.fetchone()
    if row is None:
        return None
    names = [str(column[0]) for column in cursor.description]
    if flavor != "MySQL":
        names = [name.replace("Slave", "Replica").replace("Master", "Source") for name in names]
    return dict(zip(names, row, strict=True))


def status(cursor: Any, flavor: str) -> Replication | None:
    """The replica's threads, as RDS reports them; None when the server replicates from nothing."""
    found = _shown(cursor, flavor)
    if found is None:
        return None
    # an error stays listed after its thread ran again: only a thread it stopped is in error (a receiving
    # thread that is connecting again, to a source that restarts, is not)
    applying, receiving = found.get("Replica_SQL_Running"), found.get("Replica_IO_Running")
    errors = [str(found[name]) for name, running in (("Last_SQL_Error", applying), ("Last_IO_Error", receiving))
              if found.get(name) and running == "No"]
    connected = receiving == "Yes"
    if errors:
        if flavor == "MySQL" and errors[0] == found.get("Last_SQL_Error"):
            errors[0] = _worker_error(cursor) or errors[0]
        return Replication("error", errors[0], connected)
    if applying != "Yes" or receiving == "No":
        return Replication("stopped", "", connected)
    return Replication("replicating", "", connected)


def _worker_error(cursor: Any) -> str | None:
    """MySQL's applier runs in workers, and its coordinator only says that one failed: the worker's own reason
    (a duplicate key, say)."""
    cursor.execute("SELECT LAST_ERROR_MESSAGE FROM performance_schema.replication_applier_status_by_worker "
                   "WHERE LAST_ERROR_NUMBER <> 0 ORDER BY LAST_ERROR_TIMESTAMP DESC LIMIT 1")
    row = cursor.fetchone()
    return str(row[0]) if row and row[0] else None


def received(cursor: Any, flavor: str) -> str:
    """The GTIDs the replica has received from its source (applied or not)."""
    if flavor == "MySQL":
        cursor.execute("SELECT RECEIVED_TRANSACTION_SET FROM performance_schema.replication_connection_status")
        row = cursor.fetchone()
        return str(row[0]) if row and row[0] else ""
    found = _shown(cursor, flavor)
    return str(found.get("Gtid_IO_Pos") or "") if found is not None else ""


def holds(cursor: Any, flavor: str) -> str:
    """The GTIDs the replica has, applied or only received (a MySQL replica's received set starts at its
    clone: what the clone brought is in what it executed)."""
    if flavor == "MySQL":
        cursor.execute("SELECT @@GLOBAL.gtid_executed")
        return ",".join(part for part in (str(cursor.fetchone()[0]), received(cursor, flavor)) if part)
    return received(cursor, flavor)


def covers(cursor: Any, flavor: str, having: str, wanted: str) -> bool:
    """Whether the GTIDs `having` include all of `wanted` (MariaDB's positions: each domain's sequence)."""
    if flavor == "MySQL":
        cursor.execute("SELECT GTID_SUBSET(%s, %s)", (wanted, having))
        return bool(cursor.fetchone()[0])
    return later_gtids(having, wanted) == later_gtids(having)


def wait_applied(cursor: Any, flavor: str, timeout: float = APPLY_TIMEOUT) -> bool:
    """Whether the replica applied everything it had received from its source, within the timeout. Its
    receiving thread is stopped first, so that nothing more arrives meanwhile."""
    pause(cursor, flavor)
    apply(cursor, flavor)  # one paused for a backup (applier_paused_at) applies again
    wanted = received(cursor, flavor)
    if flavor == "MySQL":
        cursor.execute("SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %s)", (wanted, timeout))
    else:
        cursor.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (wanted, timeout))
    return cursor.fetchone()[0] == 0


def resume(cursor: Any, flavor: str) -> None:
    """A replica's server, started again, replicates again (servers start without: skip-replica-start)."""
    cursor.execute(f"START {_threads(flavor)}")


def read_only_master(cursor: Any, flavor: str, user: str, read_only: bool) -> None:
    """A replica's master user reads only, as on RDS; a promoted one's writes again. MariaDB's ALL PRIVILEGES
    holds READ_ONLY ADMIN, which writes past read_only (MySQL's super_read_only stops every user): the
    privilege goes on the replica alone, unlogged, and comes back with its promotion."""
    if flavor == "MySQL":
        return
    cursor.execute("SET SESSION sql_log_bin = 0")
    try:
        if read_only:
            cursor.execute("REVOKE READ_ONLY ADMIN ON *.* FROM %s@'%%'", (user,))
        else:
            cursor.execute("GRANT READ_ONLY ADMIN ON *.* TO %s@'%%'", (user,))
    finally:
        cursor.execute("SET SESSION sql_log_bin = 1")


def let_go(cursor: Any, flavor: str) -> None:
    """The replica follows nothing any more, and forgets its source (the account's password with it)."""
    cursor.execute(f"STOP {_threads(flavor)}")
    cursor.execute(f"RESET {_threads(flavor)} ALL")


# A Multi-AZ primary waits this long for its standby to acknowledge a commit before it gives up waiting and
# commits without it (ms): as good as never. The emulator itself stops the waiting when the standby is lost.
SEMI_SYNC_TIMEOUT_MS = 86_400_000
# The variables of each side of semi-synchronous replication (MySQL's plugins are loaded at every start)
_SEMI_SYNC = {
    "MySQL": {"source": "rpl_semi_sync_source", "replica": "rpl_semi_sync_replica"},
    "MariaDB": {"source": "rpl_semi_sync_master", "replica": "rpl_semi_sync_slave"},
}


def semi_sync_source(cursor: Any, flavor: str, on: bool) -> None:
    """The primary of a Multi-AZ instance: each commit returns only once its standby has its events on disk
    (AFTER_SYNC: no client sees a transaction the standby might lack); off while it has no standby."""
    prefix = _SEMI_SYNC[flavor]["source"]
    if on:
        cursor.execute(f"SET GLOBAL {prefix}_wait_point = 'AFTER_SYNC'")
        cursor.execute(f"SET GLOBAL {prefix}_timeout = {SEMI_SYNC_TIMEOUT_MS}")
    cursor.execute(f"SET GLOBAL {prefix}_enabled = {'ON' if on else 'OFF'}")


def semi_sync_replica(cursor: Any, flavor: str) -> None:
    """The standby acknowledges what it received; set before its receiving thread connects."""
    cursor.execute(f"SET GLOBAL {_SEMI_SYNC[flavor]['replica']}_enabled = ON")


def semi_sync_clients(cursor: Any, flavor: str) -> int:
    """How many replicas acknowledge to this source: each registers as it connects, and only if the source
    waited for acknowledgements by then."""
    cursor.execute("SHOW GLOBAL STATUS LIKE %s", (f"{_SEMI_SYNC[flavor]['source']}_clients",))
    row = cursor.fetchone()
    return int(row[1]) if row else 0


def pause(cursor: Any, flavor: str) -> None:
    """The replica's receiving thread lets go of its source (what it received is kept and applied)."""
    cursor.execute(f"STOP {_threads(flavor)} IO_THREAD")


def applier_paused_at(cursor: Any, flavor: str) -> tuple[str, str | None]:
    """The replica stops applying (it goes on receiving), so that a backup of it holds what it applied: the
    file of its source's binary log where that ends, or an earlier one (before the replica applies a first
    transaction, the one its GTID position was found in), and the GTIDs it applied (MariaDB; a MySQL
    backup carries its own)."""
    cursor.execute(f"STOP {_threads(flavor)} SQL_THREAD")
    found = _shown(cursor, flavor)
    if found is None:
        raise Failure("the server replicates from nothing")
    if flavor == "MySQL":
        return str(found["Relay_Source_Log_File"]), None
    cursor.execute("SELECT @@GLOBAL.gtid_slave_pos")
    return str(found["Relay_Source_Log_File"]), str(cursor.fetchone()[0])


def apply(cursor: Any, flavor: str) -> None:
    """The replica applies what it receives again (a no-op, with a warning, when it does)."""
    cursor.execute(f"START {_threads(flavor)} SQL_THREAD")


def reconnect(cursor: Any, flavor: str) -> None:
    """The replica's receiving thread connects to its source again (what it received is kept)."""
    cursor.execute(f"STOP {_threads(flavor)} IO_THREAD")
    cursor.execute(f"START {_threads(flavor)} IO_THREAD")
