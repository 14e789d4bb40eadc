"""The guest template, built from Debian's packages (cached between runs, outside the clone), boots under
QEMU's software emulation straight into MariaDB, takes its settings from the kernel command line and
fw_cfg, keeps its data across a clean power-off, and powers off when its server is shut down.

QEMU is driven directly here: this tests the image; the libvirt driver has tests of its own."""

import os
import pathlib
import shutil
import subprocess

import pymysql
import pytest

from emulator.config import Settings
from emulator.engines.server import native_password_hash
from emulator.images import build
from tests.emulator_process import free_port, wait_for

PASSWORD = "guest-Pass-1"
needs = [tool for tool in ("debootstrap", "qemu-system-x86_64", "qemu-img", "lz4") if not shutil.which(tool)]
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or bool(needs),
    reason=f"building the guest image needs root and {', '.join(needs) or 'its tools'}: run `make setup` as root",
)


@pytest.fixture(scope="module")
def image(guest_image):
    return build.ensure(Settings.from_env().cache_dir)  # built once for the session by guest_image


class Guest:
    def __init__(self, image, home: pathlib.Path, port: int):
        self.image, self.home, self.port = image, home, port
        self.process: subprocess.Popen | None = None

    def boot(self) -> None:
        self.process = subprocess.Popen(
            ["qemu-system-x86_64", "-M", "pc", "-accel", "tcg,tb-size=64", "-cpu", "max", "-m", "384", "-smp", "1",
             "-nodefaults", "-no-user-config", "-display", "none", "-serial", f"file:{self.home / 'console.log'}",
             "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
             "-append", "console=ttyS0 quiet rds.hostname=guest-one rds.address=10.0.2.15/24 rds.gateway=10.0.2.2 "
                        "rds.nameserver=10.0.2.3",
             "-drive", f"file={self.home / 'disk.qcow2'},if=virtio,format=qcow2",
             "-netdev", f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{self.port}-:3306",
             "-device", "virtio-net-pci,netdev=n0,romfile=",
             "-fw_cfg", f"name=opt/rds/my.cnf,file={self.home / 'my.cnf'}",
             "-fw_cfg", f"name=opt/rds/first-boot.sql,file={self.home / 'first-boot.sql'}"],
            stdout=subprocess.DEVNULL, stderr=open(self.home / "qemu.err", "ab"),
        )
        wait_for(self.answers, 120, "the guest's server")

    def connect(self) -> pymysql.Connection:
        return pymysql.connect(host="127.0.0.1", port=self.port, user="admin", password=PASSWORD,
                               connect_timeout=2, autocommit=True, ssl_disabled=True)

    def answers(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.console()
        try:
            self.connect().close()
        except pymysql.MySQLError:
            return False
        return True

    def query(self, sql: str) -> tuple:
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def console(self) -> str:
        """What QEMU and the guest said, for a failure's message."""
        said = ""
        for name in ("qemu.err", "console.log"):
            path = self.home / name
            if path.exists():
                said += f"--- {name}\n" + path.read_text(errors="replace")[-3000:]
        return said

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def guest(image, tmp_path):
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image.root_fs), "-F", "raw",
                    str(tmp_path / "disk.qcow2"), "2G"], check=True)
    (tmp_path / "my.cnf").write_text("[mysqld]\nbind-address=0.0.0.0\nskip-name-resolve\nskip-log-bin\n"
                                     "innodb_buffer_pool_size=16M\nperformance_schema=0\nmax_connections=77\n")
    (tmp_path / "first-boot.sql").write_text(
        f"CREATE USER 'admin'@'%' IDENTIFIED BY PASSWORD '{native_password_hash(PASSWORD)}';\n"
        "GRANT ALL PRIVILEGES ON *.* TO 'admin'@'%' WITH GRANT OPTION;\n")
    guest = Guest(image, tmp_path, free_port())
    yield guest
    guest.kill()


def test_the_image_is_cached_and_readable_by_libvirts_qemu(image):
    assert build.ensure(Settings.from_env().cache_dir) == image
    assert "10.11" in image.manifest["server"]
    for part in (image.root_fs, image.kernel, image.initrd):
        assert part.stat().st_mode & 0o004, f"{part} is not world-readable"
    assert image.kernel.read_bytes()[:4] == b"\x7fELF"


def test_a_guest_boots_into_mariadb_with_its_settings_and_keeps_its_data(guest):
    guest.boot()
    assert guest.query("SELECT @@hostname, @@max_connections, @@innodb_buffer_pool_size") == (
        ("guest-one", 77, 16 * 1024 * 1024),)
    guest.query("CREATE DATABASE app")
    guest.query("CREATE TABLE app.notes (body TEXT)")
    guest.query("INSERT INTO app.notes VALUES ('kept')")
    guest.query("SHUTDOWN")
    assert guest.process is not None
    guest.process.wait(60)  # the guest powers off when its server stops
    assert "powering off" in guest.console()
    guest.boot()
    assert guest.query("SELECT body FROM app.notes") == (("kept",),)
    users = guest.query("SELECT COUNT(*) FROM mysql.user WHERE user = 'admin'")
    assert users == ((1,),)  # the first boot's SQL ran once
