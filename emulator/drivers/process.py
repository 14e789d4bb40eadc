"""The embedded default: each DB instance is its own mariadbd or mysqld process on a loopback port, run from
its engine version's tree (images/server_tree.py) under chroot, never the host's own server.

A server's home is `<data-dir>/servers/<DbiResourceId>/`: its my.cnf, data directory, error log and pid
file. Servers run in their own session, so they outlive an emulator killed with -9 and are found again
by their pid file. New data directories are copies of the tree's ready one, made when the tree was built:
two copies per tree are kept spare, under `<data-dir>/servers/spares/`, and one is renamed into a new
instance's home (then made again in the background), so that a create waits for no copy.
"""

import contextlib
import hashlib
import logging
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import BinaryIO

import pymysql

from emulator.drivers import tls_files
from emulator.drivers.base import (
    ADMIN_TIMEOUT,
    FULL_BELOW,
    LOG_FILES,
    BinlogPoint,
    CertificateIssuer,
    DriverError,
    InUse,
    LogFile,
    ServerSpec,
    answers,
    local_endpoints,
    no_room,
    until,
)
from emulator.drivers.capacity import Capacity, rss_mib
from emulator.drivers.log_dir import LogDirectory, reason
from emulator.engines import backup, clone, encryption, in_tree, tools
from emulator.engines import server as engine
from emulator.images import server_tree
from emulator.images.server_tree import ServerTree
from emulator.images.servers import Servers
from emulator.model import engine_versions
from emulator.model.engine_versions import EngineVersion

log = logging.getLogger(__name__)
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0
POLL = 0.005
# A server's memory beyond its buffer pool: MariaDB 10.11 with the 16 MiB pool every server here starts with
# holds 88 MiB once up; connections take more.
SERVER_OVERHEAD_MIB = 96
# The account the emulator administers servers as, over their sockets: root, whom MariaDB's trees let in
# by the socket's peer (unix_socket) and MySQL's by an empty password, on sockets only root may reach.
ADMIN_USER = "root"
# Where each tree's spare copies of its ready data directory wait, under the servers' folder; how many. Two:
# a client creating one instance after another asks again a few ms after the last is up, before the copy
# it took is made again (which, made meanwhile, would slow that server's start).
SPARES = "spares"
SPARE_COPIES = 2



class ProcessDriver:
    def __init__(self, root: pathlib.Path, servers: Servers, issuer: CertificateIssuer | None = None):
        if os.geteuid() != 0:
            raise DriverError("the process driver runs servers from their engine's tree under chroot, which needs "
                              "root: run the emulator as root, or serve with --driver none")
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.servers = servers
        self.issuer = issuer
        # unix socket paths are limited to 107 bytes: keep them short, one folder per data dir, which only
        # root may enter (a MySQL server's root has no password on its socket)
        tag = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
        self.socket_dir = pathlib.Path(tempfile.gettempdir()) / "rds-emulator" / tag
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o700)
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        # the buffer pool (MiB) of each server that runs: what admissions count it by
        self._sizes: dict[str, int] = {}
        self.capacity = Capacity(lambda: dict(self._sizes), self._holding, SERVER_OVERHEAD_MIB, "server")
        for leftover in self.root.glob("_template"):  # what releases before engine trees copied from
            shutil.rmtree(leftover, ignore_errors=True)
        self.spares = self.root / SPARES
        self._filling: dict[str, threading.Thread] = {}
        self._filling_lock = threading.Lock()
        # one hot backup of a server at a time: its snapshots' and its read replicas' (MySQL clones one at a
        # time, and two copies of one InnoDB log would race for the same work folder)
        self._backing_up: dict[str, threading.Lock] = {}
        self._backing_up_lock = threading.Lock()
        self._stopping = threading.Event()
        self._drop_stale_spares()

    def versions(self) -> dict[EngineVersion, str]:
        return {row: self.servers.version(row) for row in engine_versions.VERSIONS}

    # paths

    def _home(self, spec: ServerSpec) -> pathlib.Path:
        return self.root / spec.resource_id

    def _socket(self, spec: ServerSpec) -> str:
        return str(self.socket_dir / f"{spec.resource_id}.sock")

    def _tree(self, spec: ServerSpec) -> ServerTree:
        if spec.version is None:
            raise DriverError(f"no engine version serves {spec.identifier}")
        return self.servers.tree(spec.version)

    def _shared(self) -> list[pathlib.Path]:
        """The host's folders a server or tool in a tree works in, bound at their own paths."""
        return [self.root, self.socket_dir]

    def _cnf(self, spec: ServerSpec, parameters: dict[str, str]) -> str:
        home, flavor = self._home(spec), self._flavor(spec)
        (home / "tmp").mkdir(mode=0o700, exist_ok=True)
        logs = {"slow_query_log_file": str(home / LOG_FILES["slowquery/mysql-slowquery.log"]),
                "general_log_file": str(home / LOG_FILES["general/mysql-general.log"])}
        if flavor == "MariaDB":
            logs["loose-server_audit_file_path"] = str(home / LOG_FILES["audit/server_audit.log"])
        return engine.my_cnf(
            datadir=str(home / "data"), tmpdir=str(home / "tmp"), socket=self._socket(spec),
            pid_file=str(home / "mysqld.pid"), log_error=str(home / LOG_FILES["error/mysql-error.log"]),
            host=spec.host, port=spec.port, user=ADMIN_USER, server_id=spec.server_id, flavor=flavor, logs=logs,
            parameters=parameters, options=spec.options, key_file=self._key_file(spec),
            tls=tls_files.placed(self.issuer, spec, home / "tls"),  # beside the data, where its namespace sees it
        )

    # the interface

    def endpoints(self, host: str, requested: int | None, in_use: InUse,
                  ports: Iterable[int]) -> Iterable[tuple[str, int]]:
        return local_endpoints(host, requested, in_use, ports)

    def provision(self, spec: ServerSpec) -> None:
        home = self._home(spec)
        marker = home / "provisioned"
        tree = None if marker.exists() else self._tree(spec)
        if tree is not None:
            self.stop(spec)
            shutil.rmtree(home / "data", ignore_errors=True)
            home.mkdir(parents=True, exist_ok=True)
            if not self._take_spare(tree, home / "data"):
                _copy_ready(tree, home / "data")
            marker.touch()
        self.start(spec)
        if tree is not None:  # the spare it took (or the one it found missing) is made again
            self._refill(tree)

    # spare data directories

    def _take_spare(self, tree: ServerTree, target: pathlib.Path) -> bool:
        """One of the tree's spare copies, renamed to `target`: each once only, whoever asks at the same time."""
        for spare in _spare_paths(self.spares, tree):
            try:
                spare.rename(target)
                return True
            except FileNotFoundError:
                continue
        return False

    def _refill(self, tree: ServerTree) -> None:
        with self._filling_lock:
            if tree.path.name in self._filling:
                return
            thread = threading.Thread(target=self._fill, args=(tree,), name=f"spare {tree.path.name}", daemon=True)
            self._filling[tree.path.name] = thread
        thread.start()

    def _fill(self, tree: ServerTree) -> None:
        """Until the tree has all its spares: creates may take some while others are made."""
        staging = self.spares / f".{tree.path.name}.filling"
        try:
            while not self._stopping.is_set() and (
                    missing := next((spare for spare in _spare_paths(self.spares, tree) if not spare.exists()),
                                    None)) is not None and _room_for_spare(self.spares, tree):
                shutil.rmtree(staging, ignore_errors=True)
                self.spares.mkdir(exist_ok=True)
                _copy_ready(tree, staging, spare=True)
                staging.rename(missing)
        except (OSError, tools.ToolFailed) as error:  # a create copies for itself meanwhile
            log.warning("no spare data directory for %s: %s", tree.path.name, error)
            shutil.rmtree(staging, ignore_errors=True)
        finally:
            with self._filling_lock:
                self._filling.pop(tree.path.name, None)

    def _drop_stale_spares(self) -> None:
        """Copies a former run was making, and spares of trees no longer in the cache (an older build)."""
        cached = {spare.name for tree in server_tree.listing(self.servers.cache_dir)
                  for spare in _spare_paths(self.spares, tree)}
        for leftover in self.spares.glob("*") if self.spares.exists() else []:
            if leftover.name not in cached:
                shutil.rmtree(leftover, ignore_errors=True)

    def admin(self, spec: ServerSpec) -> "_AdminCursor":
        return _AdminCursor(self._socket(spec), ADMIN_USER)

    def backup(self, spec: ServerSpec, sink: BinaryIO, progress: Callable[[float], None]) -> BinlogPoint:
        with self._backing_up_lock:
            lock = self._backing_up.setdefault(spec.resource_id, threading.Lock())
        with lock:
            return self._backup(spec, sink, progress)

    def _backup(self, spec: ServerSpec, sink: BinaryIO, progress: Callable[[float], None]) -> BinlogPoint:
        home = self._home(spec)
        work = home / "backup-work"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        total = max(_size(home / "data"), 1)

        def report(copied: int) -> None:
            progress(min(copied / total, 0.99))

        try:
            if self._flavor(spec) == "MySQL":
                with self.admin(spec) as cursor:
                    first = clone.clone_into(cursor, work / "clone")
                if spec.data_key:
                    encryption.keep_keyring(home, work / "clone", spec.data_key)
                clone.pack(work / "clone", sink, report)
                return first, 4 if first else None
            argv = backup.hot_backup(str(home / "my.cnf"), str(work),
                                     [f"--socket={self._socket(spec)}", f"--user={ADMIN_USER}"])
            logged = backup.stream(self._tool(spec, argv), sink, str(home / "backup.log"), report, total)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return backup.binlog_point(logged)

    def ready_backup(self, spec: ServerSpec) -> pathlib.Path | None:
        return self._tree(spec).ready_backup

    def seed(self, spec: ServerSpec, source: BinaryIO) -> None:
        home = self._home(spec)
        if (home / "provisioned").exists():
            return
        staging = home / "restoring"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if self._flavor(spec) == "MySQL":
            clone.unpack(source, staging)
            if spec.data_key:
                encryption.take_keyring(staging, home, spec.data_key)
        else:
            size = os.fstat(source.fileno()).st_size
            backup.run(self._tool(spec, backup.unpack(str(staging))), size, source)
            if key_file := self._key_file(spec):
                encryption.point_backup_at(staging, key_file)
            backup.run(self._tool(spec, backup.prepare(str(staging))), size)
        shutil.rmtree(home / "data", ignore_errors=True)
        staging.rename(home / "data")
        (home / "provisioned").touch()

    def _key_file(self, spec: ServerSpec) -> str | None:
        """An encrypted instance's key file (MariaDB) or keyring (MySQL), beside its data directory."""
        return encryption.prepared(self._flavor(spec), self._home(spec), spec.data_key) if spec.data_key else None

    def _tool(self, spec: ServerSpec, argv: list[str]) -> list[str]:
        """One of the engine's tools, from the instance's tree, reaching its server's socket and home."""
        return in_tree.command(self._tree(spec).root, self._shared(), argv)

    def reach(self) -> list[pathlib.Path]:
        return [self.socket_dir]

    def _flavor(self, spec: ServerSpec) -> str:
        return spec.version.flavor if spec.version is not None else "MariaDB"

    def client_options(self, spec: ServerSpec) -> dict[str, str]:
        return {"socket": self._socket(spec), "user": ADMIN_USER}

    standbys = True
    option_logs = frozenset({"audit/server_audit.log"})
    encrypts = encryption.FLAVORS

    def take_endpoint(self, spec: ServerSpec) -> None:
        """Killed and started again on the endpoint, without a clean shutdown (a MySQL server's takes most of
        a second): it applied all it had, takes no writes, and its storage is crash-safe."""
        self.kill(spec)
        self.provision(spec)

    def reach_source(self, spec: ServerSpec, source: ServerSpec) -> tuple[str, int]:
        return source.host, source.port  # every server listens on this machine's loopback

    def system_update(self, spec: ServerSpec) -> str | None:
        return None  # the host's own system: a newer server installed on it is a db-upgrade

    def update_system(self, spec: ServerSpec) -> None:
        pass

    def configure(self, spec: ServerSpec) -> None:
        home = self._home(spec)
        if home.exists():
            staging = home / "my.cnf.new"
            # a standby listens on its socket alone, which only root reaches
            parameters = {**spec.parameters, "skip_networking": "1"} if spec.standby else spec.parameters
            staging.write_text(self._cnf(spec, parameters))
            staging.replace(home / "my.cnf")

    def log_files(self, spec: ServerSpec) -> dict[str, LogFile]:
        return LogDirectory(self._home(spec)).files()

    def read_log(self, spec: ServerSpec, name: str, offset: int, size: int) -> bytes:
        return LogDirectory(self._home(spec)).read(name, offset, size)

    def rotate_logs(self, spec: ServerSpec, hour: int) -> None:
        LogDirectory(self._home(spec)).rotate(hour)

    def start(self, spec: ServerSpec) -> None:
        self._sizes[spec.resource_id] = engine.buffer_pool_mib(spec.parameters)  # counted once it runs
        if self.is_running(spec):
            return
        tree = self._tree(spec)
        self.configure(spec)
        home = self._home(spec)
        assert spec.version is not None
        argv = ["/" + spec.version.daemon, f"--defaults-file={home / 'my.cnf'}"]
        # What the server says before it opens its error log (a bad option, say) goes there too.
        with open(home / LOG_FILES["error/mysql-error.log"], "ab") as early:
            process = subprocess.Popen(
                in_tree.command(tree.root, self._shared(), argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=early,
                start_new_session=True,
            )
        self._children[spec.resource_id] = process
        self._wait_ready(spec, process)

    def stop(self, spec: ServerSpec) -> None:
        self._sizes.pop(spec.resource_id, None)
        pid = self._pid(spec)
        if pid is None:
            return
        def gone() -> bool:
            return not self._alive(spec, pid)

        if self._signal(spec, pid, signal.SIGTERM) and not until(gone, STOP_TIMEOUT, POLL):
            log.warning("server %s did not stop in %.0f s: killing it", spec.identifier, STOP_TIMEOUT)
            self._signal(spec, pid, signal.SIGKILL)
            until(gone, 10, POLL)
        child = self._children.pop(spec.resource_id, None)
        if child is not None:
            child.poll()

    def kill(self, spec: ServerSpec) -> None:
        self._sizes.pop(spec.resource_id, None)
        pid = self._pid(spec)
        if pid is not None and self._signal(spec, pid, signal.SIGKILL):
            until(lambda: not self._alive(spec, pid), STOP_TIMEOUT, POLL)
        child = self._children.pop(spec.resource_id, None)
        if child is not None:
            child.poll()

    def _signal(self, spec: ServerSpec, pid: int, signum: int) -> bool:
        """Signal the pid only if it is this instance's server. The pid is pinned by a pidfd first, so the
        check and the signal are about one process even if the pid is recycled in between."""
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return False
        try:
            if not self._alive(spec, pid):
                log.info("pid %d in %s's pid file is not its server any more: not signalled", pid, spec.identifier)
                return False
            signal.pidfd_send_signal(pidfd, signum)
            return True
        except ProcessLookupError:
            return False
        finally:
            os.close(pidfd)

    def is_running(self, spec: ServerSpec) -> bool:
        pid = self._pid(spec)
        return pid is not None and self._alive(spec, pid)

    def storage_full(self, spec: ServerSpec) -> bool:
        return no_room(self._home(spec))

    def destroy(self, spec: ServerSpec) -> None:
        self.stop(spec)
        shutil.rmtree(self._home(spec), ignore_errors=True)
        pathlib.Path(self._socket(spec)).unlink(missing_ok=True)

    def admit(self, spec: ServerSpec) -> AbstractContextManager[None]:
        """A process takes what its configuration asks for, whatever the class: its buffer pool, counted."""
        return self.capacity.held_for(spec.resource_id, engine.buffer_pool_mib(spec.parameters))

    def _holding(self) -> int:
        return rss_mib(pid for home in list(self._sizes) if (pid := self._pid(_bare_spec(home))) is not None)

    def restart(self, spec: ServerSpec) -> None:
        self.stop(spec)
        self.provision(spec)

    def resize(self, spec: ServerSpec) -> None:
        pass  # the data directory takes what room the host's disk has

    def reconcile(self, specs: list[ServerSpec]) -> list[str]:
        known = {spec.resource_id for spec in specs}
        for spec in specs:  # servers a former run left running count as well
            if spec.resource_id not in self._sizes and self.is_running(spec):
                self._sizes[spec.resource_id] = engine.buffer_pool_mib(spec.parameters)
        return [f"server home {home} belongs to no DB instance this emulator knows"
                for home in sorted(self.root.glob("db-*")) if home.name not in known]

    def stop_all(self) -> None:
        self._stopping.set()
        with self._filling_lock:
            filling = list(self._filling.values())
        for thread in filling:
            thread.join(STOP_TIMEOUT)
        for home in self.root.glob("db-*"):
            if (home / "my.cnf").exists():
                self.stop(_bare_spec(home.name))
        with contextlib.suppress(OSError):  # servers remove their sockets as they stop: nothing is left here
            self.socket_dir.rmdir()

    # the process

    def _pid(self, spec: ServerSpec) -> int | None:
        try:
            return int((self._home(spec) / "mysqld.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _alive(self, spec: ServerSpec, pid: int) -> bool:
        child = self._children.get(spec.resource_id)
        if child is not None and child.pid == pid:
            return child.poll() is None
        try:
            state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, IndexError):
            return False
        # a recycled pid belongs to some other program: ours names its my.cnf
        return state != "Z" and str(self._home(spec) / "my.cnf").encode() in cmdline

    def _wait_ready(self, spec: ServerSpec, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DriverError(f"the server could not start: {self._why(spec)}")
            if answers(spec, self.admin):
                return
            time.sleep(POLL)
        raise DriverError(f"the server did not answer within {READY_TIMEOUT:.0f} s: {self._why(spec)}")

    def _why(self, spec: ServerSpec) -> str:
        log_file = self._home(spec) / "error.log"
        return reason(log_file, spec.port) or f"it stopped during start-up; its error log is {log_file}"


class _AdminCursor:
    """A cursor on the server's unix socket as the operating-system user, who alone may log in there."""

    def __init__(self, sock: str, user: str):
        self.sock, self.user = sock, user

    def __enter__(self) -> pymysql.cursors.Cursor:
        # TLS means nothing on a unix socket, and setting up its context costs pymysql ~45 ms a connection
        self.conn = pymysql.connect(unix_socket=self.sock, user=self.user, connect_timeout=5, autocommit=True,
                                    ssl_disabled=True, read_timeout=ADMIN_TIMEOUT, write_timeout=ADMIN_TIMEOUT)
        return self.conn.cursor()

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _spare_paths(spares: pathlib.Path, tree: ServerTree) -> list[pathlib.Path]:
    return [spares / f"{tree.path.name}.{n}" for n in range(SPARE_COPIES)]


def _copy_ready(tree: ServerTree, target: pathlib.Path, spare: bool = False) -> None:
    """A copy of the tree's ready data directory, by `cp` (out of the emulator's interpreter, which serves
    requests meanwhile), without MySQL's auto.cnf: a MySQL server names itself (server_uuid, its GTIDs'
    source) there at its first start, each instance its own. A `spare` copy is made at the lowest priority:
    a server starting meanwhile goes first."""
    argv = ["cp", "-a", "--", str(tree.ready_data), str(target)]
    tools.run(["nice", "-n", "19", *argv] if spare else argv, timeout=STOP_TIMEOUT)
    (target / "auto.cnf").unlink(missing_ok=True)


def _room_for_spare(spares: pathlib.Path, tree: ServerTree) -> bool:
    """Whether a spare copy leaves the servers at least as much room again: a copy that only saves a create
    its copying never takes the last of a disk that servers write to."""
    try:
        found = os.statvfs(spares if spares.exists() else spares.parent)
    except OSError:
        return False
    room = found.f_bavail * found.f_frsize
    if room >= 2 * _size(tree.ready_data) + FULL_BELOW:
        return True
    log.info("no spare data directory for %s: %d MiB free is too little", tree.path.name, room >> 20)
    return False


def _size(path: pathlib.Path) -> int:
    """Bytes in the files under `path`: what a backup of it will copy, about."""
    total = 0
    for entry in path.rglob("*"):
        try:
            total += entry.stat().st_size if entry.is_file() else 0
        except FileNotFoundError:  # the running server removed it meanwhile
            pass
    return total


def _bare_spec(resource_id: str) -> ServerSpec:
    return ServerSpec(resource_id, resource_id, "127.0.0.1", 0, "", "", None)
