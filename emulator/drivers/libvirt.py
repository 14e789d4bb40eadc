"""Each DB instance is a QEMU guest that libvirt boots from the template image (emulator/images): a qcow2
overlay sized to AllocatedStorage, the kernel and initramfs loaded directly, its my.cnf and first-boot SQL
through fw_cfg, and its port 3306 forwarded from the instance's port on the host's loopback.

A guest's home is `<data-dir>/guests/<DbiResourceId>/`: its disk overlay, my.cnf, first-boot SQL and
serial console log. The emulator reaches the guest's server over the forwarded port as `rdsadmin` (as on
RDS), whose password is derived from a key kept in the data directory, so that no password is stored."""

import hashlib
import hmac
import logging
import os
import pathlib
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterable

import libvirt
import pymysql

from emulator.engines import server as engine
from emulator.images import build
from emulator.model import catalogue

from . import DriverError, LogFile, ServerSpec, answers, local_ports, until
from .domain import Guest, UserNetwork, domain_xml

log = logging.getLogger(__name__)
URI = "qemu:///system"
ADMIN = "rdsadmin"
READY_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0
POLL = 0.1
# Guests get this share of their class's memory (a db.t3.micro's 1 GiB: 384 MiB), so that large classes fit
# a small host, and one vCPU: under QEMU's software emulation one is faster than two.
MEMORY_FACTOR = 0.375
SMALLEST_MIB = 256


class LibvirtDriver:
    def __init__(self, root: pathlib.Path, cache_dir: pathlib.Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.image = build.ensure(cache_dir)
        self.key = _admin_key(root.parent / "guest-admin.key")
        # one libvirt serves every emulator on the machine: names carry the data directory's mark
        self.tag = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]
        self.conn = _connect()
        log.info("libvirt guests run under QEMU's software emulation (TCG): KVM is not probed for yet")

    # names and paths

    def _name(self, spec: ServerSpec) -> str:
        return f"rds-{self.tag}-{spec.resource_id}"

    def _home(self, spec: ServerSpec) -> pathlib.Path:
        return self.root / spec.resource_id

    def _password(self, spec: ServerSpec) -> str:
        return hmac.new(self.key, spec.resource_id.encode(), hashlib.sha256).hexdigest()

    # the interface

    def ports(self, host: str, requested: int | None, taken: set[int]) -> Iterable[int]:
        return local_ports(host, requested, taken)  # QEMU listens on the host's loopback for each guest

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
            (home / "my.cnf").write_text(engine.guest_cnf(spec.parameters))

    def admin(self, spec: ServerSpec) -> "_AdminCursor":
        return _AdminCursor(spec.host, spec.port, self._password(spec))

    def start(self, spec: ServerSpec) -> None:
        if self.is_running(spec):
            return
        self.configure(spec)
        home = self._home(spec)
        guest = Guest(
            name=self._name(spec), memory_mib=memory_mib(spec.instance_class), vcpus=1, kvm=False,
            kernel=str(self.image.kernel), initrd=str(self.image.initrd), disk=str(home / "disk.qcow2"),
            console_log=str(home / "console.log"), hostname=spec.identifier,
            network=UserNetwork(spec.host, spec.port),
            files={"my.cnf": str(home / "my.cnf"), "first-boot.sql": str(home / "first-boot.sql")},
        )
        # transient: libvirt forgets the guest when it powers off, and each start describes it anew (a class
        # changed since takes effect); the store and the guest's home are what persist
        try:
            domain = self.conn.createXML(_as_root(domain_xml(guest)))
        except libvirt.libvirtError as error:
            raise DriverError(f"the guest could not start: {error.get_error_message()}") from None
        self._wait_ready(spec, domain)

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

    def is_running(self, spec: ServerSpec) -> bool:
        domain = self._domain(spec)
        return domain is not None and _active(domain)

    def destroy(self, spec: ServerSpec) -> None:
        domain = self._domain(spec)
        if domain is not None and _active(domain):
            domain.destroy()
        shutil.rmtree(self._home(spec), ignore_errors=True)

    def stop_all(self) -> None:
        for domain in self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            if domain.name().startswith(f"rds-{self.tag}-"):
                resource_id = domain.name().removeprefix(f"rds-{self.tag}-")
                self.stop(_spec_of(resource_id, domain))

    def log_files(self, spec: ServerSpec) -> dict[str, LogFile]:
        # The guest's server writes its error log to the serial console, which QEMU keeps on the host.
        try:
            stat = (self._home(spec) / "console.log").stat()
        except OSError:
            return {}
        return {"error/mysql-error.log": LogFile(stat.st_size, stat.st_mtime)}

    def read_log(self, spec: ServerSpec, name: str, offset: int, size: int) -> bytes:
        if name != "error/mysql-error.log":
            raise FileNotFoundError(name)
        with open(self._home(spec) / "console.log", "rb") as handle:
            handle.seek(offset)
            return handle.read(size)

    def rotate_logs(self, spec: ServerSpec, hour: int) -> None:
        pass  # the slow and general logs live inside the guest: not served yet

    # the guest

    def _domain(self, spec: ServerSpec) -> "libvirt.virDomain | None":
        try:
            return self.conn.lookupByName(self._name(spec))
        except libvirt.libvirtError:
            return None

    def _wait_ready(self, spec: ServerSpec, domain: "libvirt.virDomain") -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not _active(domain):
                raise DriverError(f"the guest stopped while it started: {self._why(spec)}")
            if answers(spec, self.admin):
                return
            time.sleep(POLL)
        raise DriverError(f"the guest's server did not answer within {READY_TIMEOUT:.0f} s: {self._why(spec)}")

    def _why(self, spec: ServerSpec) -> str:
        return f"its console log is {self._home(spec) / 'console.log'}"


def memory_mib(instance_class: str) -> int:
    return max(SMALLEST_MIB, int(catalogue.class_memory(instance_class) / 2**20 * MEMORY_FACTOR))


class _AdminCursor:
    """A cursor on the guest's server through its forwarded port, as the emulator's own administrator."""

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


def _connect() -> "libvirt.virConnect":
    """libvirt's system daemon, started here when it is not running (no systemd on this kind of host)."""
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


def _spec_of(resource_id: str, domain: "libvirt.virDomain") -> ServerSpec:
    """Enough of a spec to stop a running guest: its forwarded endpoint, read from its definition."""
    xml = domain.XMLDesc()
    forward = xml.split("hostfwd=tcp:", 1)[1].split("-:3306", 1)[0]
    host, port = forward.rsplit(":", 1)
    return ServerSpec(resource_id, resource_id, host, int(port), "", "", None)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DriverError(f"{command[0]} failed: {result.stderr.strip()[-300:]}")
