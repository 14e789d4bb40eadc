import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from emulator.host import firewall
from tests.emulator_process import (
    DAEMONS,
    EmulatorProcess,
    daemon_pids,
    kill_servers_under,
    remove_guests,
    servers_under,
    stop_daemons,
    wait_for,
)
from tests.model_check import emitted_as_declared

os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


# What guests need on this machine (`make setup` installs it, as root).
GUEST_TOOLS = ("debootstrap", "qemu-system-x86_64", "libvirtd")


def pytest_collection_modifyitems(items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="servers run from their engine's tree under chroot: run the tests as root")
        for item in items:
            if item.get_closest_marker("mariadb"):
                item.add_marker(skip)
    missing = [tool for tool in GUEST_TOOLS if not shutil.which(tool) and not shutil.which(tool, path="/usr/sbin")]
    if os.geteuid() != 0 or missing:
        skip = pytest.mark.skip(reason=f"guests need root, libvirt and {', '.join(missing) or 'QEMU'}: "
                                       "run `make setup` as root")
        for item in items:
            if item.get_closest_marker("guests"):
                item.add_marker(skip)


# A cold build of the guest image is 1-2 minutes here (debootstrap from Debian's mirror): the deadline leaves
# room for a slow mirror, and for the first build of a new recipe.
COLD_BUILD = 1200


@pytest.fixture(scope="session")
def guest_image() -> pathlib.Path:
    """The guest image, found in the cache or built once per session, before the first test that boots a
    guest: an emulator started on a machine without one would build it in the background, and each test's
    own deadlines are sized for booting, not building."""
    result = subprocess.run([sys.executable, "-m", "emulator.cli", "image", "build"], capture_output=True,
                            text=True, timeout=COLD_BUILD, check=False)
    assert result.returncode == 0, f"the guest image could not be built: {result.stderr[-2000:]}"
    return pathlib.Path(result.stdout.split()[-1])


@pytest.fixture(autouse=True)
def guest_image_first(request):
    if request.node.get_closest_marker("guests"):
        request.getfixturevalue("guest_image")


@pytest.fixture(params=["process", pytest.param("libvirt", marks=pytest.mark.guests)])
def server_driver(request) -> str:
    """The drivers with a real server behind each instance: the API suite runs against both."""
    return request.param


# The engine, and its parameter group family, each driver's suite runs: guests run the default MariaDB, whose
# new guests start from the saved template (tests/guests/test_engine_guests.py runs the others in guests).
SERVED = {"process": ("mysql", "mysql9.7"), "libvirt": ("mariadb", "mariadb10.11")}


@pytest.fixture
def served_engine(server_driver) -> tuple[str, str]:
    return SERVED[server_driver]


@pytest.fixture(autouse=True)
def results_fit_the_model(monkeypatch):
    """Every result an in-process test's handlers return is checked against the model before it is sent, and so is
    what a handler has written to keep."""
    from emulator.protocol import xml

    serialize, write = xml.response, xml.written

    def checked(operation, result, request_id, namespace=xml.NAMESPACE):
        if operation.output is not None:
            emitted_as_declared(operation.output, result or {}, operation.name)
        return serialize(operation, result, request_id, namespace)

    def checked_written(shape, value):
        emitted_as_declared(shape, value, shape.name)
        return write(shape, value)

    monkeypatch.setattr(xml, "response", checked)
    monkeypatch.setattr(xml, "written", checked_written)


@pytest.fixture(autouse=True)
def no_servers_left_behind(tmp_path: pathlib.Path):
    """Fail any test that leaves a DB server running under its temporary directory (and stop it). A guest told
    to go a moment ago may still be exiting (its QEMU killed, not yet reaped): it is given a few seconds."""
    yield
    try:
        wait_for(lambda: not servers_under(tmp_path), 10, "the test's servers to exit", interval=0.1)
    except AssertionError:
        pass
    left = kill_servers_under(tmp_path)
    assert not left, f"the test left DB servers running: pids {left}"


@pytest.fixture(autouse=True)
def no_firewall_rules_left_behind(tmp_path: pathlib.Path):
    """Fail any test that leaves an emulator's nftables table (DB security groups) on the host: the tables of
    the data directories under its own temporary directory (the tests that run beside it have their own)."""
    yield
    own = {firewall.table_name(path) for path in (tmp_path, *tmp_path.rglob("*")) if path.is_dir()}
    left = {table for table in _firewall_tables() if table.split()[-1] in own}
    for table in left:
        subprocess.run([_nft(), "delete", "table", *table.split()], check=False, capture_output=True)
    assert not left, f"the test left nftables tables behind: {sorted(left)}"


def _nft() -> str | None:
    return shutil.which("nft", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _firewall_tables() -> set[str]:
    if _nft() is None or os.geteuid() != 0:
        return set()
    listed = subprocess.run([_nft(), "list", "tables"], capture_output=True, text=True, check=False).stdout
    return {line.removeprefix("table ").strip() for line in listed.splitlines() if "rds_emulator_" in line}


def pytest_sessionstart(session):
    """The libvirt driver starts libvirtd (and virtlogd) when they do not run: the daemons running before the
    tests are noted..."""
    session.config.stash[_BEFORE] = {name for name in DAEMONS if daemon_pids(name)}


def pytest_sessionfinish(session):
    """...and a run that had guests' tests stops those they started. A run without any leaves them be: beside a
    run of the guests' tests (scripts/test.sh), the daemons are that run's."""
    # the marker, not the keyword: the tests/guests folder's name is a keyword of its tests without the marker
    # (test_guest_parts.py), and the run of the others stopped the guests' daemons under their run (CI, stop 23)
    if any(item.get_closest_marker("guests") for item in getattr(session, "items", [])):
        before = session.config.stash.get(_BEFORE, set(DAEMONS))
        stop_daemons(*(name for name in DAEMONS if name not in before))


_BEFORE = pytest.StashKey[set]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report carries the end of each emulator's log: a failure seen only in CI is read there."""
    report = yield
    factory = getattr(item, "funcargs", {}).get("emulator_factory")
    if report.failed and factory is not None:
        for emulator in factory.started:
            if emulator.log.exists():
                report.sections.append((f"emulator log {emulator.log.name}", emulator.log.read_text()[-6000:]))
    return report


@pytest.fixture
def emulator_factory(tmp_path: pathlib.Path):
    started: list[EmulatorProcess] = []

    def make(driver: str = "process", data_dir: pathlib.Path | None = None, *options: str) -> EmulatorProcess:
        emulator = EmulatorProcess(data_dir or tmp_path / "data", driver, options=options)
        started.append(emulator)
        return emulator.start()

    make.started = started  # for the report of a failed test
    yield make
    for emulator in started:
        emulator.stop()
        if emulator.driver == "libvirt":
            remove_guests(emulator.data_dir)


@pytest.fixture
def rds_client():
    import boto3

    from tests.compat.reading import watch

    def make(emulator: EmulatorProcess):
        return watch(boto3.client("rds", endpoint_url=emulator.url, region_name="us-east-1",
                                  **emulator.credentials()))

    return make
