"""The saved template guest that new db.t3.micro guests start from instead of booting (warm.py)."""

import contextlib
import logging
import shutil
import time
from dataclasses import replace

import libvirt
import pymysql

from emulator.drivers.base import DriverError, ServerSpec
from emulator.drivers.libvirt.domain import domain_xml
from emulator.drivers.libvirt.network import MYSQL_PORT, template_ports
from emulator.drivers.libvirt.shared import ADMIN, TEMPLATE_CLASS, AdminCursor, admin_sql, overlay, resumed
from emulator.drivers.libvirt.warm import Warm, building, feed, keep_stream
from emulator.drivers.libvirt.warm import version as warm_version
from emulator.engines import server as engine
from emulator.images import recipe

log = logging.getLogger(__name__)


class Templates:
    """Part of LibvirtDriver (driver.py), whose attributes it uses."""

    def _prepare_warm(self) -> None:
        memory = self._memory(TEMPLATE_CLASS)
        # the version: the template's machine, whatever the data directory or port
        probe = replace(self._guest(self._template_spec(0), self.image.path, memory, self.image, job_port=0),
                        name="rds-template")
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
        overlay(warm.disk, self.image.root_fs, "raw")
        (warm.path / "my.cnf").write_text(engine.guest_cnf({}, MYSQL_PORT))
        (warm.path / "first-boot.sql").write_text(admin_sql(warm.password))
        server_port, job_port = template_ports("127.0.0.1")
        spec = self._template_spec(server_port)
        name = f"rds-template-{warm.path.name}"
        with contextlib.suppress(libvirt.libvirtError):  # one an emulator stopped as it saved it
            self.conn.lookupByName(name).destroy()
        with self._room(spec):
            domain = self._create(replace(self._guest(spec, warm.path, memory, self.image, job_port=job_port),
                                          name=name))
            try:
                self._wait_ready(spec, domain, password=warm.password)
                domain.save(str(warm.path / "saved"))
            except BaseException:
                domain.destroy()
                raise
        keep_stream(warm.path / "saved", warm)

    def _warm_for(self, spec: ServerSpec) -> Warm | None:
        warm = self.warm
        if warm is None or self._memory(spec.instance_class) != self._memory(TEMPLATE_CLASS) \
                or spec.version not in (None, recipe.DEFAULT):
            return None  # only the default engine version's guests have a saved template
        return warm

    def _restore(self, spec: ServerSpec, warm: Warm) -> None:
        """Start the guest from the saved template, then make it this instance's: its administrator's
        password over SQL, its disk's size, its clock and server id, and its own configuration (a restart of
        its server, unless that configuration is the template's)."""
        self.configure(spec)
        home = self._home(spec)
        sock = self.socket_dir / f"{spec.resource_id}.sock"  # unix socket paths are limited to 107 bytes
        sock.unlink(missing_ok=True)
        # the server's error log begins where it started: in the template, when it was saved
        started = warm.path / "logs" / "error.log"
        if started.exists():
            (home / "logs").mkdir(exist_ok=True)
            shutil.copyfile(started, home / "logs" / "error.log")
        try:
            with self._room(spec) as memory:
                feeding = feed(warm, sock)
                domain = self._create(self._guest(spec, home, memory, self.image, incoming=str(sock)))
                feeding.join()
                resumed(domain)
                self._wait_ready(spec, domain, password=warm.password)
        finally:
            sock.unlink(missing_ok=True)
        try:
            with AdminCursor(spec.host, spec.port, warm.password) as cursor:
                cursor.execute(f"ALTER USER '{ADMIN}'@'%' IDENTIFIED BY PASSWORD "
                               f"'{engine.native_password_hash(self._password(spec))}'")
        except (pymysql.MySQLError, OSError) as error:
            raise DriverError(f"the restored guest's server refused its new administrator: {error}") from None
        self.resize(spec)
        if not self._same_server(spec, warm):
            self.restart(spec)
            return
        self._keep_time(spec)
        try:
            with self.admin(spec) as cursor:
                cursor.execute(f"SET GLOBAL server_id = {spec.server_id}")
                cursor.execute("FLUSH BINARY LOGS")  # the instance's binary log begins under its own id
        except (pymysql.MySQLError, OSError) as error:
            raise DriverError(f"the restored guest's server refused its server id: {error}") from None

    def _same_server(self, spec: ServerSpec, warm: Warm) -> bool:
        """Whether the template's server, as it runs, is the one this instance's configuration asks for, but
        for its server id (which SQL sets): a restart costs 1.5-2 s under software emulation. A MySQL
        server keeps the id its data directory was made with (auto.cnf): it restarts."""
        if self._flavor(spec) != "MariaDB":
            return False
        ours, template = self._cnf(spec).splitlines(), (warm.path / "my.cnf").read_text().splitlines()
        return [line for line in ours if not line.startswith("server_id=")] == \
            [line for line in template if not line.startswith("server_id=")]
