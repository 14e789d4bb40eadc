"""The saved template guest that new db.t3.micro guests start from instead of booting (warm.py)."""

import contextlib
import logging
import secrets
import shutil
import socket
import threading
import time
from dataclasses import replace

import libvirt
import pymysql

from emulator.drivers.base import DriverError, ServerSpec
from emulator.drivers.libvirt.domain import domain_xml
from emulator.drivers.libvirt.jobs import job_at
from emulator.drivers.libvirt.network import MYSQL_PORT, template_ports
from emulator.drivers.libvirt.shared import (
    ADMIN,
    POLL,
    READY_TIMEOUT,
    TEMPLATE_CLASS,
    AdminCursor,
    active,
    admin_sql,
    job_answer,
    overlay,
    resumed,
)
from emulator.drivers.libvirt.warm import Warm, building, feed, keep_stream
from emulator.drivers.libvirt.warm import version as warm_version
from emulator.engines import accounts
from emulator.engines import server as engine
from emulator.failures import Failure
from emulator.images import cache, recipe
from emulator.model.engine_versions import EngineVersion

log = logging.getLogger(__name__)


class Templates:
    """Part of LibvirtDriver (driver.py), whose attributes it uses."""

    def _prepare_warm(self, row: EngineVersion = recipe.DEFAULT) -> None:
        try:
            image = self.image_for(row)
            memory = self._memory(TEMPLATE_CLASS)
            # the version: the template's machine, whatever the data directory or port
            probe = replace(self._guest(self._template_spec(0, row), image.path, memory, image, job_port=0),
                            name="rds-template")
            warm = Warm(image.path / f"warm-{memory}-{warm_version(domain_xml(probe))}")
            with building(warm) as todo:
                if todo:
                    started = time.monotonic()
                    self._save_template(warm, memory, image, row)
                    log.info("saved the template guest of %s in %.1f s: new instances start from it", row.name,
                             time.monotonic() - started)
        except (Failure, OSError, ValueError, libvirt.libvirtError) as error:
            log.warning("no saved template guest of %s (%s): its new instances boot", row.name, error)
            return
        self.warm[row] = warm
        log.info("new db.t3.micro guests of %s start from the saved template guest %s", row.name, warm.path)

    def _save_later(self, spec: ServerSpec) -> None:
        """After the first guest of a version without a saved template has booted: its template is saved in
        the background (about 10 s here), for the next ones to start from."""
        row = spec.version or recipe.DEFAULT
        if not self._restoring or row in self.warm or self._memory(spec.instance_class) != \
                self._memory(TEMPLATE_CLASS):
            return
        with self._templating:
            if row in self._saving or self._closing.is_set():
                return
            self._saving[row] = threading.Thread(target=self._prepare_warm, args=(row,), daemon=True,
                                                 name=f"template-{row.family}")
            self._saving[row].start()

    def _template_spec(self, port: int, row: EngineVersion) -> ServerSpec:
        return ServerSpec("template", "rds-template", "127.0.0.1", port, "", "", None, instance_class=TEMPLATE_CLASS,
                          version=row)

    def _save_template(self, warm: Warm, memory: int, image: cache.Image, row: EngineVersion) -> None:
        overlay(warm.disk, image.root_fs, "raw")
        (warm.path / "my.cnf").write_text(engine.guest_cnf({}, MYSQL_PORT, flavor=row.flavor))
        (warm.path / "first-boot.sql").write_text(admin_sql(warm.password, row.flavor))
        # a MySQL server names itself (server_uuid, its GTIDs' source) as it first starts: its template is
        # saved before that, its guest waiting for the configuration rds-job's `go` brings (rds-init)
        held = row.flavor == "MySQL"
        if held:
            warm.hold.write_text(secrets.token_hex(16) + "\n")
            warm.hold.chmod(0o600)
        server_port, job_port = template_ports("127.0.0.1")
        spec = self._template_spec(server_port, row)
        name = f"rds-template-{warm.path.name}"
        with contextlib.suppress(libvirt.libvirtError):  # one an emulator stopped as it saved it
            self.conn.lookupByName(name).destroy()
        guest = replace(self._guest(spec, warm.path, memory, image, job_port=job_port), name=name)
        if held:
            guest = replace(guest, files=guest.files | {"hold": str(warm.hold)})
        with self._room(spec):
            domain = self._create(guest)
            try:
                if held:
                    self._wait_held(domain, (spec.host, job_port), warm)
                else:
                    self._wait_ready(spec, domain, password=warm.password)
                domain.save(str(warm.path / "saved"))
            except BaseException:
                domain.destroy()
                raise
        keep_stream(warm.path / "saved", warm)

    def _wait_held(self, domain: "libvirt.virDomain", job: tuple[str, int], warm: Warm) -> None:
        """Until the template guest waits for its configuration, its server not started."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not active(domain):
                raise DriverError("the template guest stopped as it booted")
            with contextlib.suppress(OSError, DriverError), job_at(job, warm.hold.read_text().strip(), "held") as conn:
                job_answer(conn, "hold")
                return
            time.sleep(POLL)
        raise DriverError(f"the template guest did not wait for its configuration within {READY_TIMEOUT:.0f} s")

    def _go(self, spec: ServerSpec, warm: Warm) -> None:
        """The restored guest of a held template starts its server with this instance's configuration."""
        with self._job(spec, warm.hold.read_text().strip(), "go") as conn:
            conn.sendall(f"#rds-time={int(time.time())}\n{self._cnf(spec)}".encode())
            conn.shutdown(socket.SHUT_WR)
            job_answer(conn, "server's start")

    def _warm_for(self, spec: ServerSpec) -> Warm | None:
        if self._memory(spec.instance_class) != self._memory(TEMPLATE_CLASS):
            return None  # a saved state has one memory size
        return self.warm.get(spec.version or recipe.DEFAULT)

    def _restore(self, spec: ServerSpec, warm: Warm) -> None:
        """Start the guest from the saved template, then make it this instance's: its administrator's
        password over SQL, its disk's size, its clock and server id, and its own configuration (a restart of
        its server, unless that configuration is the template's; a held template's server starts with it)."""
        self.configure(spec)
        home = self._home(spec)
        sock = self.socket_dir / f"{spec.resource_id}.sock"  # unix socket paths are limited to 107 bytes
        sock.unlink(missing_ok=True)
        # the server's error log begins where it started: in the template, when it was saved (a held
        # template's server starts in this guest)
        started = warm.path / "logs" / "error.log"
        if started.exists() and not warm.held:
            (home / "logs").mkdir(exist_ok=True)
            shutil.copyfile(started, home / "logs" / "error.log")
        try:
            with self._room(spec) as memory:
                feeding = feed(warm, sock)
                domain = self._create(self._guest(spec, home, memory, self._current(spec), incoming=str(sock)))
                feeding.join()
                resumed(domain)
                if warm.held:
                    self._go(spec, warm)
                self._wait_ready(spec, domain, password=warm.password)
        finally:
            sock.unlink(missing_ok=True)
        try:
            with AdminCursor(spec.host, self._port(spec), warm.password) as cursor, \
                    accounts.past_super_read_only(cursor, self._flavor(spec)):  # a standby's server
                accounts.set_master_password(cursor, ADMIN,
                                             engine.password_hash(self._flavor(spec), self._password(spec)))
        except (pymysql.MySQLError, OSError) as error:
            raise DriverError(f"the restored guest's server refused its new administrator: {error}") from None
        self.resize(spec)
        # a held template's server started with this instance's configuration; the others' restarts unless
        # it is the template's but for the server id, which SQL sets
        restart = not (warm.held or self._same_server(spec, warm))
        if restart and not self._restart_in_place(spec, domain):
            raise DriverError("the restored guest's server did not restart with its own configuration")
        self._keep_time(spec)
        if restart or warm.held:
            return
        try:
            with self.admin(spec) as cursor:
                cursor.execute(f"SET GLOBAL server_id = {spec.server_id}")
                cursor.execute("FLUSH BINARY LOGS")  # the instance's binary log begins under its own id
        except (pymysql.MySQLError, OSError) as error:
            raise DriverError(f"the restored guest's server refused its server id: {error}") from None

    def _same_server(self, spec: ServerSpec, warm: Warm) -> bool:
        """Whether the template's MariaDB, as it runs, is the server this instance's configuration asks for,
        but for its server id (which SQL sets): a restart costs 1.5-2 s under software emulation."""
        ours, template = self._cnf(spec).splitlines(), (warm.path / "my.cnf").read_text().splitlines()
        return [line for line in ours if not line.startswith("server_id=")] == \
            [line for line in template if not line.startswith("server_id=")]
