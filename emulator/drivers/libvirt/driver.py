"""Each DB instance is a QEMU guest that libvirt boots from the template image (emulator/images): a qcow2
overlay sized to AllocatedStorage, the kernel and initramfs loaded directly, its my.cnf and first-boot SQL
through fw_cfg, its DB log files written to virtio ports that QEMU appends to files on the host, and its
server reached on the instance's endpoint (a forwarded port of the host's loopback, or its own address on a
bridge: network.py).

A guest's home is `<data-dir>/guests/<DbiResourceId>/`: its disk overlay, my.cnf, first-boot SQL, serial
console log and logs/. The emulator reaches the guest's server as `rdsadmin` (as on RDS), whose password is
derived from a key kept in the data directory, so that no password is stored. Guests outlive the emulator:
one that restarts finds them running, by their names. New db.t3.micro guests start from a saved template
guest rather than booting (warm.py)."""

import contextlib
import hashlib
import logging
import pathlib
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import TypeVar

import libvirt
import pymysql

from emulator.drivers.base import (
    DriverError,
    HostRefused,
    InsufficientCapacity,
    InUse,
    LogFile,
    ServerSpec,
    answers,
    no_room,
    until,
)
from emulator.drivers.capacity import Capacity, qemu_rss_mib
from emulator.drivers.libvirt import image as guest_image
from emulator.drivers.libvirt.domain import Guest, domain_xml
from emulator.drivers.libvirt.endpoints import GuestEndpoints
from emulator.drivers.libvirt.images import GUEST_ENGINE, GuestImages, version_of
from emulator.drivers.libvirt.jobs import GuestJobs
from emulator.drivers.libvirt.network import BridgeMode, UserMode
from emulator.drivers.libvirt.shared import (
    LOG_PORTS,
    POLL,
    READY_TIMEOUT,
    STOP_TIMEOUT,
    AdminCursor,
    active,
    admin_password,
    admin_sql,
    as_root,
    connect,
    label,
    overlay,
    raise_unless_gone,
    run,
    virtlogd,
)
from emulator.drivers.libvirt.size import memory_mib, vcpus
from emulator.drivers.libvirt.system_update import SystemUpdates
from emulator.drivers.libvirt.templates import Templates
from emulator.drivers.libvirt.warm import Warm
from emulator.drivers.log_dir import LogDirectory, reason
from emulator.engines import server as engine
from emulator.host import key_file
from emulator.images import cache, recipe
from emulator.model.engine_versions import EngineVersion

log = logging.getLogger(__name__)
T = TypeVar("T")
# QEMU's own memory beyond the guest's RAM: its code, TCG's translation cache (64 MiB), device buffers.
QEMU_OVERHEAD_MIB = 100


class LibvirtDriver(GuestJobs, GuestImages, Templates, SystemUpdates, GuestEndpoints):
    def __init__(self, root: pathlib.Path, cache_dir: pathlib.Path, memory_factor: float,
                 network: UserMode | BridgeMode, restore: bool = True):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.cache_dir = cache_dir
        # The image is built (on a new machine, 1-2 minutes of debootstrap) or found in the background, so that
        # the emulator serves at once; work on a guest waits for it (`image`). Until then the engine version
        # reported is the nominal one of the suite the image is built from.
        self._built: cache.Image | None = None
        self._kvm = False
        self._unbuilt: str | None = None
        self._prepared = threading.Event()
        self._closing = threading.Event()
        # the images of the other engine versions, built when first needed (by the task that needs one)
        self._others: dict[EngineVersion, cache.Image] = {}
        self._building = threading.Lock()
        found = cache.find(cache_dir, recipe.fingerprint())
        self._version = version_of(found) if found is not None else GUEST_ENGINE.nominal
        self.key = key_file.ensure(root.parent / "guest-admin.key")
        self.memory_factor = memory_factor
        self.network = network
        # one libvirt serves every emulator on the machine: names carry the data directory's mark
        self.tag = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]
        self.socket_dir = pathlib.Path(tempfile.gettempdir()) / "rds-emulator" / f"guests-{self.tag}"
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._conn = connect()
        self._connecting = threading.Lock()
        # the name each running guest was last labelled with, by resource id
        self._labels: dict[str, str] = {}
        self.capacity = Capacity(self._committed, qemu_rss_mib, QEMU_OVERHEAD_MIB)
        # the saved template guest new instances start from, made in the background too (warm.py); a bridge
        # guest's address is fixed at its boot, so bridged guests always boot
        self._restoring = restore and isinstance(network, UserMode)
        # each engine version's, once saved: the default one's at start, the others' after their first guest
        self.warm: dict[EngineVersion, Warm] = {}
        self._saving: dict[EngineVersion, threading.Thread] = {}
        self._templating = threading.Lock()
        self._preparing = threading.Thread(target=self._prepare, args=(self._restoring,), name="guest-image",
                                           daemon=True)
        self._preparing.start()

    # names and paths

    def _name(self, resource_id: str) -> str:
        return f"rds-{self.tag}-{resource_id}"

    def _home(self, spec: ServerSpec) -> pathlib.Path:
        return self.root / spec.resource_id

    def _password(self, spec: ServerSpec) -> str:
        return admin_password(self.key, spec.resource_id)

    def _memory(self, instance_class: str) -> int:
        return memory_mib(instance_class, self.memory_factor)

    # the interface

    # a guest's server logs to QEMU's ports (guest/rds-init), which carry its own logs only: a plugin's log
    # inside the guest could not be read, so no option is offered on guests (yet)
    option_logs: frozenset[str] = frozenset()
    # a guest's data key would have to reach it over its channel, and its backups be prepared with it (yet)
    encrypts: frozenset[str] = frozenset()

    @property
    def standbys(self) -> bool:
        """A standby guest takes over its endpoint through a relay on this host (endpoints.py); on a bridge,
        the endpoint is its primary's own address."""
        return isinstance(self.network, UserMode)

    def reach(self) -> list[pathlib.Path]:
        return []  # the tools reach a guest over TCP

    def endpoints(self, host: str, requested: int | None, in_use: InUse,
                  ports: Iterable[int]) -> Iterable[tuple[str, int]]:
        return self.network.endpoints(host, requested, in_use, ports)

    def admit(self, spec: ServerSpec) -> AbstractContextManager[None]:
        return self.capacity.held_for(spec.resource_id, self._memory(spec.instance_class))

    def provision(self, spec: ServerSpec) -> None:
        home = self._home(spec)
        marker = home / "provisioned"
        if not marker.exists():
            self.stop(spec)
            home.mkdir(parents=True, exist_ok=True)
            (home / "first-boot.sql").write_text(admin_sql(self._password(spec), self._flavor(spec)))
            warm = self._warm_for(spec)
            if warm is not None:
                self._disk(spec, warm)
                try:
                    self._restore(spec, warm)
                    marker.touch()
                    log.info("guest %s started from the saved template guest of %s", spec.identifier,
                             (spec.version or GUEST_ENGINE).name)
                    return
                except DriverError as error:
                    log.warning("guest %s could not start from the saved template (%s): booting it instead",
                                spec.identifier, error)
                    self._discard(spec)
            self._disk(spec, None)
            marker.touch()
        self.start(spec)
        self._save_later(spec)

    def _disk(self, spec: ServerSpec, warm: Warm | None) -> None:
        """A new overlay: on the saved template's disk, at its size (the guest grows once it runs, told by a
        resize it sees), or on the image's root filesystem at the instance's size."""
        disk = self._home(spec) / "disk.qcow2"
        disk.unlink(missing_ok=True)
        image = self._current(spec)
        if warm is not None:
            overlay(disk, warm.disk, "qcow2")
        else:
            overlay(disk, image.root_fs, "raw", f"{spec.allocated_storage}G")
        guest_image.record(self._home(spec), image)
        self._record_engine(spec)

    def _discard(self, spec: ServerSpec) -> None:
        domain = self._live(spec)
        if domain is not None:
            with contextlib.suppress(libvirt.libvirtError):
                domain.destroy()
        self._until_forgotten(spec)

    def configure(self, spec: ServerSpec) -> None:
        home = self._home(spec)
        if home.exists():
            (home / "my.cnf").write_text(self._cnf(spec))

    def _cnf(self, spec: ServerSpec) -> str:
        return engine.guest_cnf(spec.parameters, self.network.guest_port(spec.port), spec.server_id,
                                self._flavor(spec))

    def _flavor(self, spec: ServerSpec) -> str:
        return (spec.version or GUEST_ENGINE).flavor

    def admin(self, spec: ServerSpec) -> "AdminCursor":
        return AdminCursor(spec.host, self._port(spec), self._password(spec))

    def start(self, spec: ServerSpec) -> None:
        if not self.is_running(spec):
            self._until_forgotten(spec)  # a guest that just died keeps its name a moment: ours to take again
            self._boot(spec, self._image(spec))
        self._keep_endpoint(spec)

    def _boot(self, spec: ServerSpec, image: cache.Image, former_disk: pathlib.Path | None = None) -> None:
        self.configure(spec)
        with self._room(spec) as memory:
            guest = self._guest(spec, self._home(spec), memory, image)
            domain = self._create(replace(guest, former_disk=str(former_disk) if former_disk else None))
            self._wait_ready(spec, domain)
        self._keep_time(spec)

    # system updates

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
               incoming: str | None = None, job_port: int | None = None) -> Guest:
        return Guest(
            name=self._name(spec.resource_id), title=spec.identifier, resource_id=spec.resource_id,
            memory_mib=memory, vcpus=vcpus(spec.instance_class, self.kvm), kvm=self.kvm,
            kernel=str(image.kernel), initrd=str(image.initrd), disk=str(home / "disk.qcow2"),
            console_log=str(home / "console.log"),
            network=self.network.network(spec.host, self._port(spec), home, job_port, spec.follows),
            files={"my.cnf": str(home / "my.cnf"), "first-boot.sql": str(home / "first-boot.sql")},
            ports={port: str(home / "logs" / name) for port, name in LOG_PORTS.items()},
            incoming=incoming,
        )

    def _create(self, guest: Guest) -> "libvirt.virDomain":
        pathlib.Path(guest.console_log).with_name("logs").mkdir(exist_ok=True)
        # transient: libvirt forgets the guest when it powers off, and each start describes it anew (a class
        # changed since takes effect); the store and the guest's home are what persist
        virtlogd()  # gone since we connected, every guest would fail to start
        try:
            return self.conn.createXML(as_root(domain_xml(guest)))
        except libvirt.libvirtError as error:
            raise HostRefused(f"the guest could not start: {error.get_error_message()}") from None

    # the saved template

    def restart(self, spec: ServerSpec) -> None:
        """A reboot restarts the guest's server with its new configuration, not the guest: its init starts
        the server again when it finds the configuration the emulator left over SQL. A guest whose memory
        no longer matches its class is stopped and started anew."""
        if self._engine_moved(spec):  # an engine version upgrade: the data moves onto the new version's image
            self.update_system(spec)
            return
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
                cursor.execute("SELECT %s INTO DUMPFILE %s", (f"#rds-time={int(time.time())}\n{self._cnf(spec)}",
                                                             f"/run/rds/next-{time.time_ns()}.cnf"))
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
            run(["qemu-img", "resize", "-q", str(self._home(spec) / "disk.qcow2"), str(size)])

    def stop(self, spec: ServerSpec) -> None:
        domain = self._live(spec)
        if domain is None:
            return
        try:  # the guest powers itself off once its server has shut down cleanly
            with self.admin(spec) as cursor:
                cursor.execute("SHUTDOWN")
        except (pymysql.MySQLError, OSError):
            pass
        if not until(lambda: not active(domain), STOP_TIMEOUT, POLL):
            log.warning("guest %s did not power off in %.0f s: destroying it", spec.identifier, STOP_TIMEOUT)
            domain.destroy()
        self._until_forgotten(spec)

    def kill(self, spec: ServerSpec) -> None:
        domain = self._live(spec)
        if domain is not None:
            domain.destroy()
            self._until_forgotten(spec)

    def _until_forgotten(self, spec: ServerSpec) -> None:
        """libvirt drops a transient guest a moment after it powers off; until then its name is taken."""
        until(lambda: self._domain(spec) is None, STOP_TIMEOUT, POLL / 10)

    def is_running(self, spec: ServerSpec) -> bool:
        return self._live(spec) is not None

    def storage_full(self, spec: ServerSpec) -> bool:
        """The guest's disk grows on the host's filesystem: full, QEMU pauses the guest at its next write."""
        domain = self._live(spec)
        try:
            paused = domain is not None and list(domain.state()) == [libvirt.VIR_DOMAIN_PAUSED,
                                                                      libvirt.VIR_DOMAIN_PAUSED_IOERROR]
        except libvirt.libvirtError as error:
            raise_unless_gone(error)
            paused = False
        return paused or no_room(self._home(spec))

    def destroy(self, spec: ServerSpec) -> None:
        self._discard(spec)
        self._drop_endpoint(spec)
        shutil.rmtree(self._home(spec), ignore_errors=True)

    def stop_all(self) -> None:
        """Guests outlive the emulator: one that starts again finds them running and takes them back. A
        template being saved is let finish, so that no half-made one is left running; an image being built
        stops at its next step (its staging is removed then, or by the next build)."""
        self._closing.set()
        if self._prepared.is_set():
            self._preparing.join()
        with self._templating:
            saving = list(self._saving.values())
        for thread in saving:
            thread.join()
        with contextlib.suppress(OSError):  # only starts from the template put sockets here, for a moment
            self.socket_dir.rmdir()

    def reconcile(self, specs: list[ServerSpec]) -> list[str]:
        known = {spec.resource_id: spec for spec in specs}
        strays = []
        for domain in self._ask(lambda conn: conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)):
            name = domain.name()  # kept by the domain object: no call to libvirt
            resource_id = name.removeprefix(f"rds-{self.tag}-")
            if resource_id == name:
                continue
            if resource_id not in known:
                strays.append(f"guest {name} (libvirt domain) runs no DB instance this emulator knows")
            elif self._labels.get(resource_id) != known[resource_id].identifier:
                # once a guest, then at a rename: relabelling every guest at every look was two calls each
                label(domain, known[resource_id])
                self._labels[resource_id] = known[resource_id].identifier
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

    @property
    def conn(self) -> "libvirt.virConnect":
        """The connection to libvirtd, opened again once it was lost (a package upgrade restarts libvirtd; the
        call that met the closed socket failed, and the work it served is tried again)."""
        with self._connecting:
            if self._conn.isAlive() != 1:
                log.warning("the connection to libvirt was lost: connecting again")
                with contextlib.suppress(libvirt.libvirtError):
                    self._conn.close()
                self._conn = connect()
            return self._conn

    def _ask(self, question: Callable[["libvirt.virConnect"], T]) -> T:
        """A question to libvirt, asked again on a new connection when the first met a closed one. (Only
        questions: a change that met a closed socket may have been made, and is never sent twice.)"""
        try:
            return question(self.conn)
        except libvirt.libvirtError as error:
            if self._conn.isAlive() == 1:
                raise
            try:
                return question(self.conn)
            except libvirt.libvirtError as again:
                if again.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    raise
                raise DriverError(f"libvirt did not answer: {again.get_error_message()}") from error

    def _committed(self) -> dict[str, int]:
        """MiB of memory of each running guest of this libvirt (other emulators' too), by name."""
        try:
            running = self._running()
        except DriverError as error:  # nothing is admitted while libvirt cannot say what runs
            raise InsufficientCapacity(f"libvirt could not say which guests run: {error}") from None
        return {name.removeprefix(f"rds-{self.tag}-"): memory for name, memory, _ in running}

    def _running(self) -> list[tuple[str, int, "libvirt.virDomain"]]:
        """The guests that run: name, memory (MiB), domain; one that goes away as it is listed is left out."""
        found = []
        for domain in self._ask(lambda conn: conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)):
            try:
                found.append((domain.name(), domain.maxMemory() // 1024, domain))
            except libvirt.libvirtError:
                continue
        return found

    def _live(self, spec: ServerSpec) -> "libvirt.virDomain | None":
        """The guest's domain while it runs."""
        domain = self._domain(spec)
        return domain if domain is not None and active(domain) else None

    def _domain(self, spec: ServerSpec) -> "libvirt.virDomain | None":
        try:
            return self._ask(lambda conn: conn.lookupByName(self._name(spec.resource_id)))
        except libvirt.libvirtError as error:
            raise_unless_gone(error)
            return None

    def _wait_ready(self, spec: ServerSpec, domain: "libvirt.virDomain", since: float | None = None,
                    password: str | None = None) -> None:
        """Until the guest's server answers; after a restart asked for at `since`, the new server only."""
        deadline = time.monotonic() + READY_TIMEOUT
        admin = self.admin if password is None else lambda s: AdminCursor(s.host, s.port, password)
        while time.monotonic() < deadline:
            if not active(domain):
                raise DriverError(f"the guest stopped while it started: {self._why(spec)}")
            if answers(self._reached(spec), admin) and (since is None or self._uptime(spec) < time.monotonic() - since):
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
