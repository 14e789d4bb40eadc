"""What every part of the libvirt driver shares: its settings, the connection to libvirt, and what it reads
off (and sets on) a domain."""

import contextlib
import hashlib
import hmac
import logging
import os
import pathlib
import shutil
import socket
import time
import xml.etree.ElementTree as ET

import libvirt
import pymysql

from emulator.drivers.base import ADMIN_TIMEOUT, DriverError, ServerSpec, until
from emulator.drivers.libvirt.domain import METADATA_NS, instance_metadata
from emulator.engines import backup, tools
from emulator.engines import server as engine

log = logging.getLogger(__name__)
URI = "qemu:///system"
VIRTLOGD_SOCKET = "/run/libvirt/virtlogd-sock"
ADMIN = "rdsadmin"
READY_TIMEOUT = 180.0
# A cold build of the guest image takes 1-2 minutes here (debootstrap from the mirror); a slow mirror, more.
BUILD_TIMEOUT = 1800.0
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




class AdminCursor:
    """A cursor on the guest's server through its endpoint, as the emulator's own administrator."""

    def __init__(self, host: str, port: int, password: str):
        self.host, self.port, self.password = host, port, password

    def __enter__(self) -> pymysql.cursors.Cursor:
        self.conn = pymysql.connect(host=self.host, port=self.port, user=ADMIN, password=self.password,
                                    connect_timeout=5, autocommit=True, ssl_disabled=True,
                                    read_timeout=ADMIN_TIMEOUT, write_timeout=ADMIN_TIMEOUT)
        return self.conn.cursor()

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def job_answer(conn: socket.socket, kind: str) -> str:
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


def disk_element(domain: "libvirt.virDomain", target: str) -> ET.Element | None:
    for disk in ET.fromstring(domain.XMLDesc()).iter("disk"):
        found = disk.find("target")
        if found is not None and found.get("dev") == target:
            return disk
    return None


def resumed(domain: "libvirt.virDomain") -> None:
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


def admin_password(key: bytes, resource_id: str) -> str:
    """A guest's administrator password, derived from the key the emulator keeps (guest-admin.key): stored
    nowhere, and known to whoever holds that key (its operator)."""
    return hmac.new(key, resource_id.encode(), hashlib.sha256).hexdigest()


def admin_sql(password: str, flavor: str = "MariaDB") -> str:
    """The emulator's administrator, as the server's init file makes it before it takes any connection."""
    if flavor == "MySQL":  # MySQL's GRANT makes no user: three statements, run before the server listens
        hashed = engine.caching_sha2_hash(password).encode().hex()
        return (f"CREATE USER IF NOT EXISTS '{ADMIN}'@'%' IDENTIFIED WITH caching_sha2_password AS 0x{hashed};\n"
                f"ALTER USER '{ADMIN}'@'%' IDENTIFIED WITH caching_sha2_password AS 0x{hashed};\n"
                f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN}'@'%' WITH GRANT OPTION;\n")
    # one statement: the emulator may log in the moment the user exists, and must find it whole
    return (f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN}'@'%' IDENTIFIED BY PASSWORD "
            f"'{engine.native_password_hash(password)}' WITH GRANT OPTION;\n")


def active(domain: "libvirt.virDomain") -> bool:
    """Whether the guest runs; a transient guest that powered off is gone altogether."""
    try:
        return bool(domain.isActive())
    except libvirt.libvirtError as error:
        raise_unless_gone(error)
        return False


def raise_unless_gone(error: "libvirt.libvirtError") -> None:
    """DriverError unless libvirt says the guest does not exist: when it could not say (libvirtd went away,
    say), a guest that may still run must never be taken for gone, or it would be started twice."""
    if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
        return
    raise DriverError(f"libvirt could not tell whether a guest runs: {error.get_error_message()}") from None


def label(domain: "libvirt.virDomain", spec: ServerSpec) -> None:
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
def connect() -> "libvirt.virConnect":
    """libvirt's system daemon, started here when it is not running (no systemd on this kind of host)."""
    # the library prints every error to stderr by default, a guest not found included: we handle them
    libvirt.registerErrorHandler(lambda context, error: None, None)
    kvm_as_udev_leaves_it()
    virtlogd()
    try:
        return libvirt.open(URI)
    except libvirt.libvirtError:
        pass
    for daemon in ("virtlogd", "libvirtd"):
        with contextlib.suppress(tools.ToolFailed, OSError):  # one already running refuses a second: fine
            tools.run([daemon, "-d"])
    deadline = time.monotonic() + 60
    while True:
        try:
            return libvirt.open(URI)
        except libvirt.libvirtError as error:
            if time.monotonic() > deadline:
                raise DriverError(f"libvirt did not answer at {URI}: {error.get_error_message()}") from None
            time.sleep(0.2)


def virtlogd() -> None:
    """libvirtd hands each guest's console to virtlogd: with libvirtd up and virtlogd gone, every guest fails
    to start. Started here when its socket does not answer."""
    if _answers(VIRTLOGD_SOCKET):
        return
    with contextlib.suppress(tools.ToolFailed, OSError):  # one that has just started refuses a second: fine
        tools.run(["virtlogd", "-d"])
    if not until(lambda: _answers(VIRTLOGD_SOCKET), 30, POLL):
        raise DriverError(f"virtlogd did not answer at {VIRTLOGD_SOCKET}: guests cannot start without it")


def _answers(path: str) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def kvm_as_udev_leaves_it() -> None:
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


def as_root(xml: str) -> str:
    """QEMU runs as root for these guests: their files live under the data and cache directories, which
    libvirt's own QEMU user may not be able to reach."""
    label = "<seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>"
    return xml.replace("</domain>", f"  {label}\n</domain>")


def overlay(disk: pathlib.Path, backing: pathlib.Path, backing_format: str, size: str | None = None) -> None:
    """A qcow2 overlay on `backing`, at the backing's size unless a larger one is given."""
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(backing), "-F", backing_format, str(disk),
          *([size] if size else [])])


def run(command: list[str]) -> None:
    tools.run(command)
