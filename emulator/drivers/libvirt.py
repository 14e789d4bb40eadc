"""Each DB instance is a QEMU guest that libvirt boots from the template image (emulator/images): a qcow2
overlay sized to AllocatedStorage, the kernel and initramfs loaded directly, its my.cnf and first-boot SQL
through fw_cfg, its DB log files written to virtio ports that QEMU appends to files on the host, and its
server reached on the instance's endpoint (a forwarded port of the host's loopback, or its own address on a
bridge: guest_network.py).

A guest's home is `<data-dir>/guests/<DbiResourceId>/`: its disk overlay, my.cnf, first-boot SQL, serial
console log and logs/. The emulator reaches the guest's server as `rdsadmin` (as on RDS), whose password is
derived from a key kept in the data directory, so that no password is stored. Guests outlive the emulator:
one that restarts finds them running, by their names."""

import hashlib
import hmac
import logging
import os
import pathlib
import secrets
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from contextlib import AbstractContextManager

import libvirt
import pymysql

from emulator.engines import server as engine
from emulator.images import build

from . import DriverError, HostRefused, InsufficientCapacity, LogFile, ServerSpec, answers, hypervisor, until
from .capacity import Capacity
from .domain import METADATA_NS, Guest, domain_xml, instance_metadata
from .guest_network import BridgeMode, UserMode
from .guest_size import memory_mib, vcpus
from .log_dir import LogDirectory, reason

log = logging.getLogger(__name__)
URI = "qemu:///system"
ADMIN = "rdsadmin"
READY_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0
POLL = 0.1
# The DB log files' virtio ports, by the names the guest's init links them under (/run/rds/logs/<name>.log).
LOG_PORTS = {"rds.error": "error.log", "rds.slowquery": "slowquery.log", "rds.general": "general.log"}


class LibvirtDriver:
    def __init__(self, root: pathlib.Path, cache_dir: pathlib.Path, memory_factor: float,
                 network: UserMode | BridgeMode):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.image = build.ensure(cache_dir)
        self.key = _admin_key(root.parent / "guest-admin.key")
        self.memory_factor = memory_factor
        self.network = network
        # one libvirt serves every emulator on the machine: names carry the data directory's mark
        self.tag = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]
        self.conn = _connect()
        self.kvm = hypervisor.kvm_works(self.image, cache_dir)
        log.info("libvirt guests run under %s", "KVM" if self.kvm else
                 "QEMU's software emulation (TCG): KVM did not boot the guest's kernel")
        self.capacity = Capacity(self._committed)

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
            disk = home / "disk.qcow2"
            disk.unlink(missing_ok=True)
            _run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(self.image.root_fs), "-F", "raw", str(disk),
                  f"{spec.allocated_storage}G"])
            # one statement: the emulator may log in the moment the user exists, and must find it whole
            (home / "first-boot.sql").write_text(
                f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN}'@'%' IDENTIFIED BY PASSWORD "
                f"'{engine.native_password_hash(self._password(spec))}' WITH GRANT OPTION;\n"
            )
            marker.touch()
        self.start(spec)

    def configure(self, spec: ServerSpec) -> None:
        home = self._home(spec)
        if home.exists():
            (home / "my.cnf").write_text(self._cnf(spec))

    def _cnf(self, spec: ServerSpec) -> str:
        return engine.guest_cnf(spec.parameters, self.network.guest_port(spec.port))

    def admin(self, spec: ServerSpec) -> "_AdminCursor":
        return _AdminCursor(spec.host, spec.port, self._password(spec))

    def start(self, spec: ServerSpec) -> None:
        if self.is_running(spec):
            return
        self.configure(spec)
        memory = self._memory(spec.instance_class)
        try:
            self.capacity.admit(spec.resource_id, memory)
        except InsufficientCapacity as error:
            raise HostRefused(f"the guest could not start: {error}") from None
        try:
            domain = self._create(spec, memory)
            self._wait_ready(spec, domain)
        finally:
            self.capacity.release(spec.resource_id)  # running, libvirt counts it; failed, it takes nothing

    def _create(self, spec: ServerSpec, memory: int) -> "libvirt.virDomain":
        home = self._home(spec)
        (home / "logs").mkdir(exist_ok=True)
        guest = Guest(
            name=self._name(spec.resource_id), title=spec.identifier, resource_id=spec.resource_id,
            memory_mib=memory, vcpus=vcpus(spec.instance_class, self.kvm), kvm=self.kvm,
            kernel=str(self.image.kernel), initrd=str(self.image.initrd), disk=str(home / "disk.qcow2"),
            console_log=str(home / "console.log"), hostname=spec.identifier,
            network=self.network.network(spec.host, spec.port, home),
            files={"my.cnf": str(home / "my.cnf"), "first-boot.sql": str(home / "first-boot.sql")},
            ports={port: str(home / "logs" / name) for port, name in LOG_PORTS.items()},
        )
        # transient: libvirt forgets the guest when it powers off, and each start describes it anew (a class
        # changed since takes effect); the store and the guest's home are what persist
        try:
            return self.conn.createXML(_as_root(domain_xml(guest)))
        except libvirt.libvirtError as error:
            raise HostRefused(f"the guest could not start: {error.get_error_message()}") from None

    def restart(self, spec: ServerSpec) -> None:
        """A reboot restarts the guest's server with its new configuration, not the guest: its init starts
        the server again when it finds the configuration the emulator left over SQL. A guest whose memory
        no longer matches its class is stopped and started anew."""
        domain = self._domain(spec)
        if domain is None or not _active(domain) or domain.maxMemory() != self._memory(spec.instance_class) * 1024:
            self.stop(spec)
            self.start(spec)
            return
        self.configure(spec)
        asked = time.monotonic()
        try:
            with self.admin(spec) as cursor:
                cursor.execute("SELECT %s INTO DUMPFILE %s", (self._cnf(spec), f"/run/rds/next-{time.time_ns()}.cnf"))
                cursor.execute("SHUTDOWN")
        except (pymysql.MySQLError, OSError) as error:
            log.warning("could not restart the server of guest %s in place (%s): restarting the guest",
                        spec.identifier, error)
            self.stop(spec)
            self.start(spec)
            return
        self._wait_ready(spec, domain, since=asked)

    def resize(self, spec: ServerSpec) -> None:
        """Grow the guest's disk to the spec's allocated storage; its init grows the filesystem (a running
        guest's at once: it watches the disk's size)."""
        size = spec.allocated_storage * 2**30
        domain = self._domain(spec)
        if domain is not None and _active(domain):
            try:
                domain.blockResize("vda", size, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
            except libvirt.libvirtError as error:
                raise DriverError(f"the guest's disk could not grow: {error.get_error_message()}") from None
        elif (self._home(spec) / "disk.qcow2").exists():
            _run(["qemu-img", "resize", "-q", str(self._home(spec) / "disk.qcow2"), str(size)])

    def stop(self, spec: ServerSpec) -> None:
        domain = self._domain(spec)
        if domain is None or not _active(domain):
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
        domain = self._domain(spec)
        return domain is not None and _active(domain)

    def destroy(self, spec: ServerSpec) -> None:
        domain = self._domain(spec)
        if domain is not None and _active(domain):
            domain.destroy()
        self._until_forgotten(spec)
        shutil.rmtree(self._home(spec), ignore_errors=True)

    def stop_all(self) -> None:
        """Guests outlive the emulator: one that starts again finds them running and takes them back."""

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
        return LogDirectory(self._home(spec) / "logs", in_place=True).files()

    def read_log(self, spec: ServerSpec, name: str, offset: int, size: int) -> bytes:
        return LogDirectory(self._home(spec) / "logs", in_place=True).read(name, offset, size)

    def rotate_logs(self, spec: ServerSpec, hour: int) -> None:
        LogDirectory(self._home(spec) / "logs", in_place=True).rotate(hour)

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

    def _domain(self, spec: ServerSpec) -> "libvirt.virDomain | None":
        try:
            return self.conn.lookupByName(self._name(spec.resource_id))
        except libvirt.libvirtError:
            return None

    def _wait_ready(self, spec: ServerSpec, domain: "libvirt.virDomain", since: float | None = None) -> None:
        """Until the guest's server answers; after a restart asked for at `since`, the new server only."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not _active(domain):
                raise DriverError(f"the guest stopped while it started: {self._why(spec)}")
            if answers(spec, self.admin) and (since is None or self._uptime(spec) < time.monotonic() - since):
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


def _admin_key(path: pathlib.Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DriverError(f"{command[0]} failed: {result.stderr.strip()[-300:]}")
