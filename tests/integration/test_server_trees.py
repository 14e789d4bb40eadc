"""Engine versions as trees built from Debian's packages (images/server_tree.py), and a server run from one
(engines/in_tree.py): Oracle's MySQL is MySQL, MariaDB 11.8 is 11.8, whatever the host has installed.
Builds what is not cached (debootstrap, about a minute each here); needs root."""

import os
import pathlib
import shutil
import subprocess

import pymysql
import pytest

from emulator.config import Settings
from emulator.engines import in_tree
from emulator.images import server_tree
from emulator.model import catalogue, engine_versions
from tests.emulator_process import wait_for

pytestmark = pytest.mark.images


def _tree(engine: str, version: str | None) -> server_tree.ServerTree:
    row = engine_versions.of(engine, version)
    assert row is not None
    return server_tree.ensure(Settings().cache_dir, row)


def _serve(tree: server_tree.ServerTree, home: pathlib.Path) -> subprocess.Popen:
    """The tree's server on a copy of its ready data directory, on a socket only (no TCP port)."""
    shutil.copytree(tree.ready_data, home / "data", symlinks=True)
    (home / "tmp").mkdir()
    uid, gid = in_tree.server_user(tree.root)
    for path in [home, *home.rglob("*")]:
        os.lchown(path, uid, gid)
    (home / "my.cnf").write_text("\n".join([
        "[mysqld]", f"datadir={home}/data", f"tmpdir={home}/tmp", f"socket={home}/mysqld.sock",
        f"pid-file={home}/mysqld.pid", f"log-error={home}/error.log", "skip-networking", "user=mysql",
        f"secure-file-priv={home}/tmp", "innodb-buffer-pool-size=16M",
        "skip-log-bin" if tree.manifest["engine"] == "mysql" else "",
    ]) + "\n")
    extra = ["--mysqlx=OFF"] if tree.manifest["engine"] == "mysql" else []
    argv = ["/" + engine_versions.of(tree.manifest["engine"], tree.manifest["major"]).daemon,
            f"--defaults-file={home}/my.cnf", *extra]
    # the instance's folder is bound at its own path inside the tree
    return subprocess.Popen(in_tree.command(tree.root, [home], argv), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _connect(home: pathlib.Path) -> pymysql.Connection | None:
    try:
        return pymysql.connect(unix_socket=str(home / "mysqld.sock"), user="root", autocommit=True,
                               connect_timeout=2)
    except pymysql.err.OperationalError:
        return None


@pytest.mark.parametrize(("engine", "version", "flavor"), [("mysql", None, "MySQL"), ("mariadb", "11.8", "MariaDB")])
def test_a_server_runs_from_its_engine_versions_tree(engine, version, flavor, tmp_path):
    tree = _tree(engine, version)
    assert tree.version.startswith(engine_versions.of(engine, version).major + ".")
    assert tree.manifest["server"] and flavor.lower() in tree.manifest["server"].lower()
    home = tmp_path / "instance"
    home.mkdir()
    server = _serve(tree, home)
    try:
        conn = wait_for(lambda: server.poll() is None and _connect(home) or server.poll() is not None, 60,
                        f"the {flavor} server to answer")
        assert server.poll() is None, (home / "error.log").read_text()[-2000:]
        with conn, conn.cursor() as cursor:
            cursor.execute("SELECT VERSION(), @@version_comment")
            number, comment = cursor.fetchone()
            assert number.startswith(tree.version)
            assert ("MariaDB" in number) == (flavor == "MariaDB")
            # Debian's build says so; MariaDB 11.8's comment is its project's plea for stars
            assert "Debian" in comment or flavor == "MariaDB"
            cursor.execute("CREATE DATABASE shop")
            cursor.execute("CREATE TABLE shop.orders (id INT PRIMARY KEY, j JSON)")
            # a functional index: MySQL's syntax, which MariaDB refuses
            functional = "CREATE INDEX by_a ON shop.orders ((CAST(j->'$.a' AS UNSIGNED)))"
            if flavor == "MySQL":
                cursor.execute(functional)
            else:
                with pytest.raises(pymysql.err.ProgrammingError):
                    cursor.execute(functional)
        # unshare, sh and chroot each exec the next: the process started is the server itself
        assert (home / "mysqld.pid").read_text().strip() == str(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert not (home / "mysqld.sock").exists() or _connect(home) is None


@pytest.mark.parametrize("version", ["10.11", "11.8"])
def test_a_stable_suites_tree_has_its_security_updates(version):
    row = engine_versions.of("mariadb", version)
    tree = _tree("mariadb", version)
    assert row.security in (tree.root / "etc/apt/sources.list.d/security.list").read_text()
    # bookworm's own MariaDB is 10.11.18; its security release, 10.11.19 (or a later one), is what runs
    assert not catalogue.newer(row.nominal, tree.version), tree.version
