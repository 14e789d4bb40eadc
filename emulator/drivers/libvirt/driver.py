"""Each DB instance is a QEMU guest that libvirt boots from the template image (emulator/images): a qcow2
overlay sized to AllocatedStorage, the kernel and initramfs loaded directly, its my.cnf and first-boot SQL
through fw_cfg, its DB log files written to virtio ports that QEMU appends to files on the host, and its
server reached on the instance's endpoint (a forwarded port of the host's loopback, or its own address on a
bridge: guest_network.py).

A guest's home is `<data-dir>/guests/<DbiResourceId>/`: its disk overlay, my.cnf, first-boot SQL, serial
console log and logs/. The emulator reaches the guest's server as `rdsadmin` (as on RDS), whose password is
derived from a key kept in the data directory, so that no password is stored. Guests outlive the emulator:
one that restarts finds them running, by their names. New db.t3.micro guests start from a saved template
guest rather than booting (warm.py)."""

import contextlib
import hashlib
import hmac
import logging
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import BinaryIO

import libvirt
import pymysql

from emulator.drivers.base import (
    BinlogPoint,
    DriverError,
    HostRefused,
    InsufficientCapacity,
    LogFile,
    ServerSpec,
    answers,
    until,
)
from emulator.drivers.libvirt import hypervisor
from emulator.drivers.libvirt import image as guest_image
from emulator.drivers.libvirt.capacity import Capacity
from emulator.drivers.libvirt.domain import METADATA_NS, Guest, domain_xml, instance_metadata
from emulator.drivers.libvirt.network import MYSQL_PORT, BridgeMode, UserMode, template_port
from emulator.drivers.libvirt.size import memory_mib, vcpus
from emulator.drivers.libvirt.warm import Warm, building, feed, keep_stream
from emulator.drivers.libvirt.warm import version as warm_version
from emulator.drivers.log_dir import LogDirectory, reason
from emulator.engines import backup, tools
from emulator.engines import server as engine
from emulator.host import key_file
from emulator.images import build, cache

log = logging.getLogger(__name__)
URI = "qemu:///system"
ADMIN = "rdsadmin"
READY_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0
POLL = 0.1
# The class whose guests start from the saved template (other sizes boot: a saved state has one memory size).
TEMPLATE_CLASS = "db.t3.micro"
# How far a guest's clock may be off the host's before it is set (seconds).
CLOCK_TOLERANCE = 0.005
CLOCK_ROUNDS = 3
# How long a guest has to let go of a disk taken from it (seconds).
DETACH_TIMEOUT = 30.0
# How long a backup job may be silent before we give up on it (seconds): preparing a large restore is.
JOB_TIMEOUT = 600.0
# What a backup holds beyond the tables' data: system tablespace, redo log, the mysql schema's files.
BACKUP_OVERHEAD = 40 * 2**20
# The DB log files' virtio ports, and the host files QEMU appends what arrives to (the guest's init drains
# /run/rds/logs/<name without "rds.">.log into each).
LOG_PORTS = {"rds.error": "error.log", "rds.slowquery": "slowquery.log", "rds.general": "general.log"}
# A system update's former disk, kept in the guest's home until the guest runs on the new one.
FORMER_DISK = "former.qcow2"


class LibvirtDriver:
    def __init__(self, root: pathlib.Path, cache_dir: pathlib.Path, memory_factor: float,
                 network: UserMode | BridgeMode, restore: bool = True):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.cache_dir = cache_dir
        self.image = build.ensure(cache_dir)
        self.binary = engine.ServerBinary(*engine.parse_version(self.image.manifest.get("server", "")), None, None)
        self.key = key_file.ensure(root.parent / "guest-admin.key")
        self.memory_factor = memory_factor
        self.network = network
        # one libvirt serves every emulator on the machine: names carry the data directory's mark
        self.tag = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]
        self.socket_dir = pathlib.Path(tempfile.gettempdir()) / "rds-emulator" / f"guests-{self.tag}"
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.conn = _connect()
        self.kvm = hypervisor.kvm_works(self.image, cache_dir)
        log.info("libvirt guests run under %s", "KVM" if self.kvm else
                 "QEMU's software emulation (TCG): KVM did not boot the guest's kernel")
        self.capacity = Capacity(self._committed)
        # the saved template guest new instances start from, made in the background (drivers/warm.py)
        self.warm: Warm | None = None
        self._warming: threading.Thread | None = None
        if restore and isinstance(network, UserMode):  # a bridge guest's address is fixed at its boot
            self._warming = threading.Thread(target=self._prepare_warm, name="warm-template", daemon=True)
            self._warming.start()

    # names and paths

    def _name(self, resource_id: str) -> str:
        return f"rds-{self.tag}-{resource_id}"

    def _home(self, spec: ServerSpec) -> pathlib.Path:
        return self.root / spec.resource_id

    def _password(self, spec: ServerSpec) -> str:
        return hmac.new(self.key, spec.resource_id.encode(), hashlib.sha256).hexdigest()

    def _memory(self, instance_class: str) -> int:
        return memory_mib(instance_class, self.memory_factor)

    # the interface

    def endpoints(self, host: str, requested: int | None, taken: set[tuple[str, int]]) -> Iterable[tuple[str, int]]:
        return self.network.endpoints(host, requested, taken)

    def admit(self, resource_id: str, instance_class: str) -> AbstractContextManager[None]:
        return self.capacity.held_for(resource_id, self._memory(instance_class))

    def provision(self, spec: ServerSpec) -> None:
        home = self._home(spec)
        marker = home / "provisioned"
        if not marker.exists():
            self.stop(spec)
            home.mkdir(parents=True, exist_ok=True)
            (home / "first-boot.sql").write_text(_admin_sql(self._password(spec)))
            warm = self._warm_for(spec)
            if warm is not None:
                self._disk(spec, warm)
                try:
                    self._restore(spec, warm)
                    marker.touch()
                    self._keep_time(spec)
                    return
                except DriverError as error:
                    log.warning("guest %s could not start from the saved template (%s): booting it instead",
                                spec.identifier, error)
                    self._discard(spec)
            self._disk(spec, None)
            marker.touch()
        self.start(spec)

    def _disk(self, spec: ServerSpec, warm: Warm | None) -> None:
        """A new overlay: on the saved template's disk, at its size (the guest grows once it runs, told by a
        resize it sees), or on the image's root filesystem at the instance's size."""
        disk = self._home(spec) / "disk.qcow2"
        disk.unlink(missing_ok=True)
        if warm is not None:
            _overlay(disk, warm.disk, "qcow2")
        else:
            _overlay(disk, self.image.root_fs, "raw", f"{spec.allocated_storage}G")
        guest_image.record(self._home(spec), self.image)

    def _discard(self, spec: ServerSpec) -> None:
        domain = self._live(spec)
        if domain is not None:
            with contextlib.suppress(libvirt.libvirtError):
                domain.destroy()
        self._until_forgotten(spec)

    def backup(self, spec: ServerSpec, sink: BinaryIO, progress: Callable[[float], None]) -> BinlogPoint:
        """mariadb-backup runs inside the guest (rds-job) and streams to us over the job port; a second
        connection tells how it went."""
        with self.admin(spec) as cursor:
            cursor.execute("SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables")
            estimate = int(cursor.fetchone()[0]) + BACKUP_OVERHEAD
        token = self._job_token(spec)
        with self._job(spec, token, "backup") as conn:
            copied = 0
            while chunk := conn.recv(backup.CHUNK):
                sink.write(chunk)
                copied += len(chunk)
                progress(min(copied / estimate, 0.99))
        with self._job(spec, token, "status") as conn:
            logged = _job_answer(conn, "backup")
        return backup.binlog_point(logged)

    def seed(self, spec: ServerSpec, source: BinaryIO) -> None:
        """The guest starts with an empty server, the backup streams in over the job port and is prepared
        beside its data directory, and its server restarts on it (with this guest's administrator)."""
        home = self._home(spec)
        if (home / "seeded").exists():
            return
        self.provision(spec)
        with self._job(spec, self._job_token(spec), "restore") as conn:
            while chunk := source.read(backup.CHUNK):
                conn.sendall(chunk)
            conn.shutdown(socket.SHUT_WR)
            _job_answer(conn, "restore")
        with self.admin(spec) as cursor:
            cursor.execute("SELECT %s INTO DUMPFILE %s",
                           (_admin_sql(self._password(spec)), f"/run/rds/admin-{time.time_ns()}.sql"))
        self.restart(spec)
        (home / "seeded").touch()

    def client_options(self, spec: ServerSpec) -> dict[str, str]:
        return {"host": spec.host, "port": str(spec.port), "user": ADMIN, "password": self._password(spec)}

    def _keep_time(self, spec: ServerSpec) -> None:
        """Bring the guest's clock to the host's, to within a few milliseconds: a guest's clock starts from
        a whole second (its RTC, or the time it was given after a restore from the template), and its server
        stamps the binary log with it, which point-in-time restore reads by the second."""
        try:
            for _ in range(CLOCK_ROUNDS):  # setting it takes a few ms itself: a second round takes those off
                offset = self._clock_offset(spec)
                if abs(offset) <= CLOCK_TOLERANCE:
                    return
                with self._job(spec, self._job_token(spec), f"clock {-offset:+.6f}") as conn:
                    _job_answer(conn, "clock setting")
                log.info("guest %s's clock was %+.3f s off the host's: set", spec.identifier, offset)
        except (DriverError, OSError, pymysql.MySQLError) as error:
            log.warning("guest %s's clock could not be set: %s", spec.identifier, error)

    def _clock_offset(self, spec: ServerSpec) -> float:
        """The guest's clock minus the host's, seconds, measured over SQL (half a round trip is the error)."""
        with self.admin(spec) as cursor:
            before = time.time()
            cursor.execute("SELECT UNIX_TIMESTAMP(NOW(6))")
            guest = float(cursor.fetchone()[0])
            after = time.time()
        return guest - (before + after) / 2

    def _job_token(self, spec: ServerSpec) -> str:
        """A token for the guest's rds-job, left in the guest over SQL: only who can do that may ask."""
        token = secrets.token_hex(16)
        with self.admin(spec) as cursor:
            cursor.execute("SELECT %s INTO DUMPFILE %s", (token + "\n", f"/run/rds/job-{time.time_ns()}"))
        return token

    @contextmanager
    def _job(self, spec: ServerSpec, token: str, kind: str) -> Iterator[socket.socket]:
        address = self.network.job_endpoint(spec.host, self._home(spec))
        try:
            conn = socket.create_connection(address, timeout=JOB_TIMEOUT)
        except OSError as error:
            raise DriverError(f"the guest's job port did not answer: {error}") from None
        with conn:
            conn.sendall(f"{token} {kind}\n".encode())
            yield conn

    def configure(self, spec: ServerSpec) -> None:
        home = self._home(spec)
        if home.exists():
            (home / "my.cnf").write_text(self._cnf(spec))

    def _cnf(self, spec: ServerSpec) -> str:
        return engine.guest_cnf(spec.parameters, self.network.guest_port(spec.port), _server_id(spec))

    def admin(self, spec: ServerSpec) -> "_AdminCursor":
        return _AdminCursor(spec.host, spec.port, self._password(spec))

    def start(self, spec: ServerSpec) -> None:
        if not self.is_running(spec):
            self._boot(spec, self._image(spec))

    def _boot(self, spec: ServerSpec, image: cache.Image, former_disk: pathlib.Path | None = None) -> None:
        self.configure(spec)
        with self._room(spec) as memory:
            guest = self._guest(spec, self._home(spec), memory, image)
            domain = self._create(replace(guest, former_disk=str(former_disk) if former_disk else None))
            self._wait_ready(spec, domain)
        self._keep_time(spec)

    def _image(self, spec: ServerSpec) -> cache.Image:
        """The image the guest's disk is on: its kernel and initramfs boot it."""
        fingerprint = guest_image.fingerprint(self._home(spec), self.cache_dir)
        if fingerprint is None or fingerprint == self.image.fingerprint:
            return self.image
        image = cache.find(self.cache_dir, fingerprint)
        if image is None:
            raise HostRefused(f"the guest's template image {fingerprint} is no longer in "
                              f"{cache.images_dir(self.cache_dir)}: its disk cannot start without it")
        return image

    # system updates

    def system_update(self, spec: ServerSpec) -> str | None:
        if not (self._home(spec) / "disk.qcow2").exists():
            return None
        fingerprint = guest_image.fingerprint(self._home(spec), self.cache_dir)
        if fingerprint in (None, self.image.fingerprint):
            return None
        return f"New Operating System update is available: guest image {self.image.fingerprint} (now {fingerprint})"

    def update_system(self, spec: ServerSpec) -> None:
        """The guest stops cleanly, and a new disk on the current image boots with the former one beside it:
        the guest's init copies the former data directory, binary logs and all, before its server starts.
        The former disk is kept until the new system answers, and boots again if it does not. Each step can
        run again (a task an emulator restart resumes): an existing new disk is booted, not made anew, and
        its init copies only once."""
        home = self._home(spec)
        disk, former = home / "disk.qcow2", home / FORMER_DISK
        if former.exists() and guest_image.fingerprint(home, self.cache_dir) == self.image.fingerprint:
            self._detach_former(spec)  # moved already: only the former disk was left
            former.unlink()
            return
        self.stop(spec)
        if not former.exists():
            disk.rename(former)
        if not disk.exists():
            _overlay(disk, self.image.root_fs, "raw", f"{spec.allocated_storage}G")
        try:
            self._boot(spec, self.image, former)
            self._check_system(spec)
        except DriverError as error:
            self._discard(spec)
            former.replace(disk)
            self.start(spec)
            raise DriverError(f"the guest's system could not be updated ({error}): it runs on its former system "
                              "again") from None
        guest_image.record(home, self.image)
        self._detach_former(spec)
        former.unlink()

    def _check_system(self, spec: ServerSpec) -> None:
        """The guest runs the current image: its root is the new disk, whose init copied the data first."""
        try:
            with self.admin(spec) as cursor:
                cursor.execute("SELECT LOAD_FILE('/run/rds/image')")
                found = (cursor.fetchone()[0] or b"").decode().strip()
        except (pymysql.MySQLError, OSError) as error:
            raise DriverError(f"the updated guest's server did not answer: {error}") from None
        if found != self.image.fingerprint:
            raise DriverError(f"the guest started image {found or 'unknown'}, not {self.image.fingerprint}")

    def _detach_former(self, spec: ServerSpec) -> None:
        """The former disk leaves the running guest (its init unmounted it); one that a guest does not let go
        of stays attached, unused, until the guest next starts."""
        domain = self._live(spec)
        element = domain and _disk_element(domain, "vdb")
        if element is None:
            return
        try:
            domain.detachDeviceFlags(ET.tostring(element, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
            gone = until(lambda: _disk_element(domain, "vdb") is None, DETACH_TIMEOUT, POLL)
        except libvirt.libvirtError:
            gone = False
        if not gone:
            log.info("guest %s keeps its former disk, unused, until it next starts", spec.identifier)

    @contextmanager
    def _room(self, spec: ServerSpec) -> Iterator[int]:
        """The guest's memory, admitted until it runs (then libvirt counts it) or fails."""
        memory = self._memory(spec.instance_class)
        try:
            self.capacity.admit(spec.resource_id, memory)
        except InsufficientCapacity as error:
            raise HostRefused(f"the guest could not start: {error}") from None
        try:
            yield memory
        finally:
            self.capacity.release(spec.resource_id)

    def _guest(self, spec: ServerSpec, home: pathlib.Path, memory: int, image: cache.Image,
               incoming: str | None = None) -> Guest:
        return Guest(
            name=self._name(spec.resource_id), title=spec.identifier, resource_id=spec.resource_id,
            memory_mib=memory, vcpus=vcpus(spec.instance_class, self.kvm), kvm=self.kvm,
            kernel=str(image.kernel), initrd=str(image.initrd), disk=str(home / "disk.qcow2"),
            console_log=str(home / "console.log"), hostname=spec.identifier,
            network=self.network.network(spec.host, spec.port, home),
            files={"my.cnf": str(home / "my.cnf"), "first-boot.sql": str(home / "first-boot.sql")},
            ports={port: str(home / "logs" / name) for port, name in LOG_PORTS.items()},
            incoming=incoming,
        )

    def _create(self, guest: Guest) -> "libvirt.virDomain":
        pathlib.Path(guest.console_log).with_name("logs").mkdir(exist_ok=True)
        # transient: libvirt forgets the guest when it powers off, and each start describes it anew (a class
        # changed since takes effect); the store and the guest's home are what persist
        try:
            return self.conn.createXML(_as_root(domain_xml(guest)))
        except libvirt.libvirtError as error:
            raise HostRefused(f"the guest could not start: {error.get_error_message()}") from None

    # the saved template

    def _prepare_warm(self) -> None:
        memory = self._memory(TEMPLATE_CLASS)
        # the version: the template's machine, whatever the data directory or port
        probe = replace(self._guest(self._template_spec(0), self.image.path, memory, self.image), name="rds-template")
        warm = Warm(self.image.path / f"warm-{memory}-{warm_version(domain_xml(probe))}")
        try:
            with building(warm) as todo:
                if todo:
                    started = time.monotonic()
                    self._save_template(warm, memory)
                    log.info("saved the template guest in %.1f s: new instances start from it",
                             time.monotonic() - started)
        except (DriverError, OSError, ValueError, libvirt.libvirtError) as error:
            log.warning("no saved template guest (%s): new instances boot", error)
            return
        self.warm = warm
        log.info("new db.t3.micro guests start from the saved template guest %s", warm.path)

    def _template_spec(self, port: int) -> ServerSpec:
        return ServerSpec("template", "rds-template", "127.0.0.1", port, "", "", None, instance_class=TEMPLATE_CLASS)

    def _save_template(self, warm: Warm, memory: int) -> None:
        _overlay(warm.disk, self.image.root_fs, "raw")
        (warm.path / "my.cnf").write_text(engine.guest_cnf({}, MYSQL_PORT))
        (warm.path / "first-boot.sql").write_text(_admin_sql(warm.password))
        spec = self._template_spec(template_port("127.0.0.1"))
        name = f"rds-template-{warm.path.name}"
        with contextlib.suppress(libvirt.libvirtError):  # one an emulator stopped as it saved it
            self.conn.lookupByName(name).destroy()
        with self._room(spec):
            domain = self._create(replace(self._guest(spec, warm.path, memory, self.image), name=name))
            try:
                self._wait_ready(spec, domain, password=warm.password)
                domain.save(str(warm.path / "saved"))
            except BaseException:
                domain.destroy()
                raise
        keep_stream(warm.path / "saved", warm)

    def _warm_for(self, spec: ServerSpec) -> Warm | None:
        warm = self.warm
        if warm is None or self._memory(spec.instance_class) != self._memory(TEMPLATE_CLASS):
            return None
        return warm

    def _restore(self, spec: ServerSpec, warm: Warm) -> None:
        """Start the guest from the saved template, then make it this instance's: its administrator's
        password over SQL, its disk's size, and a restart of its server with its own configuration (its
        server id included), name and clock."""
        self.configure(spec)
        home = self._home(spec)
        sock = self.socket_dir / f"{spec.resource_id}.sock"  # unix socket paths are limited to 107 bytes
        sock.unlink(missing_ok=True)
        try:
            with self._room(spec) as memory:
                feeding = feed(warm, sock)
                domain = self._create(self._guest(spec, home, memory, self.image, incoming=str(sock)))
                feeding.join()
                _resumed(domain)
                self._wait_ready(spec, domain, password=warm.password)
        finally:
            sock.unlink(missing_ok=True)
        try:
            with _AdminCursor(spec.host, spec.port, warm.password) as cursor:
                cursor.execute(f"ALTER USER '{ADMIN}'@'%' IDENTIFIED BY PASSWORD "
                               f"'{engine.native_password_hash(self._password(spec))}'")
        except (pymysql.MySQLError, OSError) as error:
            raise DriverError(f"the restored guest's server refused its new administrator: {error}") from None
        self.resize(spec)
        self.restart(spec)

    def restart(self, spec: ServerSpec) -> None:
        """A reboot restarts the guest's server with its new configuration, not the guest: its init starts
        the server again when it finds the configuration the emulator left over SQL. A guest whose memory
        no longer matches its class is stopped and started anew."""
        domain = self._live(spec)
        if domain is None or domain.maxMemory() != self._memory(spec.instance_class) * 1024 \
                or not self._restart_in_place(spec, domain):
            self.stop(spec)
            self.start(spec)
        else:
            self._keep_time(spec)

    def _restart_in_place(self, spec: ServerSpec, domain: "libvirt.virDomain") -> bool:
        """False when the server would not take its next configuration over SQL: the guest is restarted."""
        self.configure(spec)
        asked = time.monotonic()
        try:
            with self.admin(spec) as cursor:
                settings = f"#rds-hostname={spec.identifier}\n#rds-time={int(time.time())}\n"
                cursor.execute("SELECT %s INTO DUMPFILE %s",
                               (settings + self._cnf(spec), f"/run/rds/next-{time.time_ns()}.cnf"))
                cursor.execute("SHUTDOWN")
        except (pymysql.MySQLError, OSError) as error:
            log.warning("could not restart the server of guest %s in place (%s): restarting the guest",
                        spec.identifier, error)
            return False
        self._wait_ready(spec, domain, since=asked)
        return True

    def resize(self, spec: ServerSpec) -> None:
        """Grow the guest's disk to the spec's allocated storage; its init grows the filesystem (a running
        guest's at once: it watches the disk's size)."""
        size = spec.allocated_storage * 2**30
        domain = self._live(spec)
        if domain is not None:
            try:
                domain.blockResize("vda", size, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
            except libvirt.libvirtError as error:
                raise DriverError(f"the guest's disk could not grow: {error.get_error_message()}") from None
        elif (self._home(spec) / "disk.qcow2").exists():
            _run(["qemu-img", "resize", "-q", str(self._home(spec) / "disk.qcow2"), str(size)])

    def stop(self, spec: ServerSpec) -> None:
        domain = self._live(spec)
        if domain is None:
            return
        try:  # the guest powers itself off once its server has shut down cleanly
            with self.admin(spec) as cursor:
                cursor.execute("SHUTDOWN")
        except (pymysql.MySQLError, OSError):
            pass
        if not until(lambda: not _active(domain), STOP_TIMEOUT, POLL):
            log.warning("guest %s did not power off in %.0f s: destroying it", spec.identifier, STOP_TIMEOUT)
            domain.destroy()
        self._until_forgotten(spec)

    def _until_forgotten(self, spec: ServerSpec) -> None:
        """libvirt drops a transient guest a moment after it powers off; until then its name is taken."""
        until(lambda: self._domain(spec) is None, STOP_TIMEOUT, POLL / 10)

    def is_running(self, spec: ServerSpec) -> bool:
        return self._live(spec) is not None

    def destroy(self, spec: ServerSpec) -> None:
        self._discard(spec)
        shutil.rmtree(self._home(spec), ignore_errors=True)

    def stop_all(self) -> None:
        """Guests outlive the emulator: one that starts again finds them running and takes them back. A
        template being saved is let finish, so that no half-made one is left running."""
        if self._warming is not None:
            self._warming.join()
        with contextlib.suppress(OSError):  # only starts from the template put sockets here, for a moment
            self.socket_dir.rmdir()

    def reconcile(self, specs: list[ServerSpec]) -> list[str]:
        known = {spec.resource_id: spec for spec in specs}
        strays = []
        for name, _, domain in self._running():
            resource_id = name.removeprefix(f"rds-{self.tag}-")
            if resource_id == name:
                continue
            if resource_id not in known:
                strays.append(f"guest {name} (libvirt domain) runs no DB instance this emulator knows")
            else:
                _label(domain, known[resource_id])
        for home in sorted(self.root.iterdir()):
            if home.is_dir() and home.name not in known:
                strays.append(f"guest home {home} belongs to no DB instance this emulator knows")
        return strays

    def log_files(self, spec: ServerSpec) -> dict[str, LogFile]:
        return self._logs(spec).files()

    def read_log(self, spec: ServerSpec, name: str, offset: int, size: int) -> bytes:
        return self._logs(spec).read(name, offset, size)

    def rotate_logs(self, spec: ServerSpec, hour: int) -> None:
        self._logs(spec).rotate(hour)

    def _logs(self, spec: ServerSpec) -> LogDirectory:
        return LogDirectory(self._home(spec) / "logs", in_place=True)

    # the guests

    def _committed(self) -> dict[str, int]:
        """MiB of memory of each running guest of this libvirt (other emulators' too), by name."""
        return {name.removeprefix(f"rds-{self.tag}-"): memory for name, memory, _ in self._running()}

    def _running(self) -> list[tuple[str, int, "libvirt.virDomain"]]:
        """The guests that run: name, memory (MiB), domain; one that goes away as it is listed is left out."""
        found = []
        for domain in self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            try:
                found.append((domain.name(), domain.maxMemory() // 1024, domain))
            except libvirt.libvirtError:
                continue
        return found

    def _live(self, spec: ServerSpec) -> "libvirt.virDomain | None":
        """The guest's domain while it runs."""
        domain = self._domain(spec)
        return domain if domain is not None and _active(domain) else None

    def _domain(self, spec: ServerSpec) -> "libvirt.virDomain | None":
        try:
            return self.conn.lookupByName(self._name(spec.resource_id))
        except libvirt.libvirtError:
            return None

    def _wait_ready(self, spec: ServerSpec, domain: "libvirt.virDomain", since: float | None = None,
                    password: str | None = None) -> None:
        """Until the guest's server answers; after a restart asked for at `since`, the new server only."""
        deadline = time.monotonic() + READY_TIMEOUT
        admin = self.admin if password is None else lambda s: _AdminCursor(s.host, s.port, password)
        while time.monotonic() < deadline:
            if not _active(domain):
                raise DriverError(f"the guest stopped while it started: {self._why(spec)}")
            if answers(spec, admin) and (since is None or self._uptime(spec) < time.monotonic() - since):
                return
            time.sleep(POLL)
        raise DriverError(f"the guest's server did not answer within {READY_TIMEOUT:.0f} s: {self._why(spec)}")

    def _uptime(self, spec: ServerSpec) -> float:
        try:
            with self.admin(spec) as cursor:
                cursor.execute("SHOW GLOBAL STATUS LIKE 'Uptime'")
                return float(cursor.fetchone()[1])
        except (pymysql.MySQLError, OSError):
            return float("inf")

    def _why(self, spec: ServerSpec) -> str:
        home = self._home(spec)
        # what the server says before it opens its error log goes to the console
        return (reason(home / "logs" / "error.log", spec.port) or reason(home / "console.log", spec.port)
                or f"see {home / 'logs' / 'error.log'} and {home / 'console.log'}")


class _AdminCursor:
    """A cursor on the guest's server through its endpoint, as the emulator's own administrator."""

    def __init__(self, host: str, port: int, password: str):
        self.host, self.port, self.password = host, port, password

    def __enter__(self) -> pymysql.cursors.Cursor:
        self.conn = pymysql.connect(host=self.host, port=self.port, user=ADMIN, password=self.password,
                                    connect_timeout=5, autocommit=True, ssl_disabled=True)
        return self.conn.cursor()

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _job_answer(conn: socket.socket, kind: str) -> str:
    """What rds-job said about a job: its log, then `rds-job-exit N`; DriverError unless N is 0."""
    chunks = []
    while chunk := conn.recv(backup.CHUNK):
        chunks.append(chunk)
    text = b"".join(chunks).decode(errors="replace")
    lines = text.strip().splitlines()
    if not lines or lines[-1] != "rds-job-exit 0":
        said = [line for line in lines[:-1] if line.strip()]
        raise DriverError(f"the {kind} in the guest failed: {said[-1][-300:] if said else 'no answer'}")
    return text


def _disk_element(domain: "libvirt.virDomain", target: str) -> ET.Element | None:
    for disk in ET.fromstring(domain.XMLDesc()).iter("disk"):
        found = disk.find("target")
        if found is not None and found.get("dev") == target:
            return disk
    return None


def _resumed(domain: "libvirt.virDomain") -> None:
    """A guest whose saved state arrived before libvirt told QEMU to run it stays paused: run it. (Told while
    the state still arrives, QEMU runs it once the state is in.)"""

    def running() -> bool:
        try:
            state = domain.state()[0]
            if state == libvirt.VIR_DOMAIN_PAUSED:
                domain.resume()
            return state == libvirt.VIR_DOMAIN_RUNNING
        except libvirt.libvirtError:
            return True  # gone: waiting for its server says why
    until(running, STOP_TIMEOUT, POLL)


def _admin_sql(password: str) -> str:
    # one statement: the emulator may log in the moment the user exists, and must find it whole
    return (f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN}'@'%' IDENTIFIED BY PASSWORD "
            f"'{engine.native_password_hash(password)}' WITH GRANT OPTION;\n")


def _server_id(spec: ServerSpec) -> int:
    """Each guest's own server id (1 to 2**32 - 1), from its resource id."""
    return int.from_bytes(hashlib.sha256(spec.resource_id.encode()).digest()[:4]) % (2**32 - 1) + 1


def _active(domain: "libvirt.virDomain") -> bool:
    """Whether the guest runs; a transient guest that powered off is gone altogether."""
    try:
        return bool(domain.isActive())
    except libvirt.libvirtError:
        return False


def _label(domain: "libvirt.virDomain", spec: ServerSpec) -> None:
    """The guest's title and metadata name its DB instance as it is called now (a rename changes it)."""
    live = libvirt.VIR_DOMAIN_AFFECT_LIVE
    try:
        if domain.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, live) == spec.identifier:
            return
        domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, spec.identifier, None, None, live)
        element = ET.tostring(instance_metadata(spec.identifier, spec.resource_id, False), encoding="unicode")
        domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, element, "rds", METADATA_NS, live)
    except libvirt.libvirtError as error:
        log.warning("could not relabel guest %s: %s", domain.name(), error.get_error_message())
def _connect() -> "libvirt.virConnect":
    """libvirt's system daemon, started here when it is not running (no systemd on this kind of host)."""
    # the library prints every error to stderr by default, a guest not found included: we handle them
    libvirt.registerErrorHandler(lambda context, error: None, None)
    _kvm_as_udev_leaves_it()
    try:
        return libvirt.open(URI)
    except libvirt.libvirtError:
        pass
    for daemon in ("virtlogd", "libvirtd"):
        subprocess.run([daemon, "-d"], check=False, capture_output=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            return libvirt.open(URI)
        except libvirt.libvirtError as error:
            if time.monotonic() > deadline:
                raise DriverError(f"libvirt did not answer at {URI}: {error.get_error_message()}") from None
            time.sleep(0.2)


def _kvm_as_udev_leaves_it() -> None:
    """/dev/kvm as Debian's udev rule leaves it (group kvm, 0660), on hosts without udev. Otherwise libvirt,
    checking as its QEMU user, finds KVM gone since it last probed QEMU, and probes again at every guest
    start: 48 s here. The guests themselves run under TCG either way."""
    kvm = pathlib.Path("/dev/kvm")
    try:
        if os.geteuid() == 0 and kvm.exists() and kvm.stat().st_mode & 0o060 != 0o060:
            shutil.chown(kvm, group="kvm")
            kvm.chmod(0o660)
    except (OSError, LookupError) as error:
        log.warning("could not give /dev/kvm to group kvm (%s): every guest start will be slow", error)


def _as_root(xml: str) -> str:
    """QEMU runs as root for these guests: their files live under the data and cache directories, which
    libvirt's own QEMU user may not be able to reach."""
    label = "<seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>"
    return xml.replace("</domain>", f"  {label}\n</domain>")


def _overlay(disk: pathlib.Path, backing: pathlib.Path, backing_format: str, size: str | None = None) -> None:
    """A qcow2 overlay on `backing`, at the backing's size unless a larger one is given."""
    _run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(backing), "-F", backing_format, str(disk),
          *([size] if size else [])])


def _run(command: list[str]) -> None:
    tools.run(command)
