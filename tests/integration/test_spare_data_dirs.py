"""The process driver's spare data directories: copies of a tree's ready one, made ahead so that a create
waits for no copy. Each is taken once only, however many creates ask at the same time, and made again."""

import pathlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from emulator.config import Settings
from emulator.drivers.base import ServerSpec
from emulator.drivers.process import SPARE_COPIES, ProcessDriver
from emulator.images.servers import Servers
from emulator.model import engine_versions
from tests.emulator_process import free_port, wait_for

pytestmark = pytest.mark.mariadb


def _spec(n: int) -> ServerSpec:
    return ServerSpec(f"db-SPARE{n}", f"spare{n}", "127.0.0.1", free_port(), "admin", "", None,
                      version=engine_versions.of("mariadb", "10.11"))


def _spares(root: pathlib.Path) -> list[str]:
    return sorted(path.name for path in (root / "spares").iterdir())


def test_concurrent_creates_each_take_their_own_data_directory_and_the_spares_are_made_again(tmp_path):
    servers = Servers(Settings.from_env().cache_dir)
    tree = servers.tree(engine_versions.of("mariadb", "10.11"))
    root = tmp_path / "servers"
    # left by an earlier run: a spare of a tree no longer cached, and a copy it was making when it stopped
    (root / "spares" / "mariadb-10.11-000000000000.0").mkdir(parents=True)
    (root / "spares" / f".{tree.path.name}.filling").mkdir()
    driver = ProcessDriver(root, servers)
    assert _spares(root) == []
    made = [f"{tree.path.name}.{n}" for n in range(SPARE_COPIES)]
    specs = [_spec(n) for n in range(4)]
    try:
        driver.provision(specs[0])  # no spare yet: copies for itself, then makes the spares
        wait_for(lambda: _spares(root) == made, 30, "the spares to be made")
        with ThreadPoolExecutor(3) as pool:  # two take a spare, the third copies for itself
            list(pool.map(driver.provision, specs[1:]))
        for spec in specs:
            with driver.admin(spec) as cursor:
                cursor.execute(f"CREATE DATABASE only_in_{spec.identifier}")
        for spec in specs:
            with driver.admin(spec) as cursor:
                cursor.execute("SHOW DATABASES LIKE 'only_in_%'")
                assert [row[0] for row in cursor.fetchall()] == [f"only_in_{spec.identifier}"]
        wait_for(lambda: _spares(root) == made, 30, "the spares to be made again")
        for spare in made:  # whole copies
            assert _files(root / "spares" / spare) == _files(tree.ready_data)
    finally:
        for spec in specs:
            driver.destroy(spec)
        driver.stop_all()


def _files(folder: pathlib.Path) -> list[tuple[str, int]]:
    return sorted((str(path.relative_to(folder)), path.stat().st_size) for path in folder.rglob("*"))
