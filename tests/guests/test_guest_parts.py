"""The libvirt driver's parts that need no guest: bridge addresses and MACs, the class-to-guest table, the
memory admission, the KVM verdict kept per host boot, logs that QEMU appends to, which image a guest's
disk is on, and the relay that takes a replica guest to its source."""

import contextlib
import os
import pathlib
import re
import socket
import subprocess
import sys
import threading
from dataclasses import replace

import libvirt
import pytest

from emulator.drivers.base import InsufficientCapacity, ServerSpec, bindable
from emulator.drivers.capacity import RESERVE_MIB, Capacity
from emulator.drivers.libvirt import hypervisor
from emulator.drivers.libvirt import image as guest_image
from emulator.drivers.libvirt.driver import QEMU_OVERHEAD_MIB as OVERHEAD_MIB
from emulator.drivers.libvirt.driver import LibvirtDriver
from emulator.drivers.libvirt.network import (
    JOB_PORTS,
    RELAY,
    TEMPLATE_PORTS,
    BridgeMode,
    BridgePool,
    UserMode,
    mac,
    mode,
    template_ports,
)
from emulator.drivers.libvirt.size import memory_mib, vcpus
from emulator.drivers.log_dir import LogDirectory
from emulator.engines import tools
from emulator.images import build
from emulator.images.cache import ROOT_FS, images_dir
from emulator.model import engine_versions
from tests.emulator_process import wait_for

PORTS = range(13306, 20000)


class Held(set):
    """Endpoints instances hold, as the store answers about them."""

    def endpoint_held(self, address: str, port: int) -> bool:
        return (address, port) in self

    def address_held(self, address: str) -> bool:
        return any(held == address for held, _ in self)

POOL = "br0:192.168.10.20-192.168.10.22/24,gateway=192.168.10.1,nameserver=192.168.10.2"


def test_a_bridge_pool_is_read_from_one_setting():
    pool = BridgePool.parse(POOL)
    assert (pool.bridge, pool.prefix, pool.gateway, pool.nameserver) == ("br0", 24, "192.168.10.1", "192.168.10.2")
    assert list(pool.addresses()) == ["192.168.10.20", "192.168.10.21", "192.168.10.22"]


@pytest.mark.parametrize("bad", ["br0", "br0:192.168.10.30-192.168.10.20/24,gateway=1.1.1.1,nameserver=1.1.1.1",
                                 "br0:192.168.10.20-192.168.10.22/24,gateway=192.168.10.1",
                                 "br0:192.168.10.20-192.168.10.22/40,gateway=1.1.1.1,nameserver=1.1.1.1",
                                 "br0:192.168.10.20/24,gateway=1.1.1.1,nameserver=1.1.1.1",
                                 "br0:192.168.10.20-192.168.10.22/24,gateway=1.1.1.1,nameserver=1.1.1.1,mtu=9000"])
def test_a_malformed_pool_is_refused_with_its_expected_form(bad):
    with pytest.raises(ValueError, match="a bridge pool reads like"):
        BridgePool.parse(bad)


def test_bridge_guests_take_free_addresses_of_the_pool_on_the_port_asked_for():
    bridge = mode("bridge", POOL)
    taken = Held({("192.168.10.20", 3306), ("127.0.0.1", 13306)})
    assert list(bridge.endpoints("127.0.0.1", None, taken, PORTS)) == [("192.168.10.21", 3306), ("192.168.10.22", 3306)]
    assert next(iter(bridge.endpoints("127.0.0.1", 3307, taken, PORTS))) == ("192.168.10.21", 3307)
    everything = Held((address, 3306) for address in BridgePool.parse(POOL).addresses())
    assert list(bridge.endpoints("127.0.0.1", None, everything, PORTS)) == []
    assert bridge.guest_port(3307) == 3307 and UserMode().guest_port(13306) == 3306


def test_a_bridge_guest_is_described_with_its_address_gateway_and_a_mac_of_its_own(tmp_path):
    bridge = mode("bridge", POOL)
    assert isinstance(bridge, BridgeMode)
    first = bridge.network("192.168.10.21", 3306, tmp_path / "one")
    assert (first.bridge, first.guest_address, first.gateway, first.nameserver) == (
        "br0", "192.168.10.21/24", "192.168.10.1", "192.168.10.2")
    assert re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", first.mac)
    assert bridge.network("192.168.10.21", 3306, tmp_path / "one").mac == first.mac  # kept across restarts
    macs = {mac(tmp_path / f"guest{n}") for n in range(20)}
    assert len(macs) == 20


def test_user_mode_forwards_free_loopback_ports():
    taken = Held({("127.0.0.1", 13306)})
    first = next(iter(UserMode().endpoints("127.0.0.1", None, taken, PORTS)))
    assert first[0] == "127.0.0.1" and first != ("127.0.0.1", 13306)
    with pytest.raises(ValueError, match="needs a pool of addresses"):
        mode("bridge", None)


@pytest.mark.parametrize(("instance_class", "factor", "kvm", "expected"), [
    ("db.t3.micro", 0.375, False, (384, 1)),
    ("db.t3.small", 0.375, False, (768, 1)),
    ("db.t3.micro", 0.1, False, (256, 1)),  # never below what MariaDB needs to start
    ("db.m5.large", 0.25, False, (2048, 1)),
    ("db.r5.large", 0.25, False, (4096, 1)),
])
def test_a_class_gives_a_guest_its_memory_scaled_and_one_cpu_under_tcg(instance_class, factor, kvm, expected):
    assert (memory_mib(instance_class, factor), vcpus(instance_class, kvm)) == expected


def test_under_kvm_a_guest_gets_its_class_cpus_up_to_the_hosts(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert vcpus("db.t3.micro", True) == 2
    assert vcpus("db.m5.4xlarge", True) == 2
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert vcpus("db.m5.4xlarge", True) == 16


def _meminfo(tmp_path: pathlib.Path, available_mib: int) -> pathlib.Path:
    path = tmp_path / "meminfo"
    path.write_text(f"MemTotal:       24000000 kB\nMemAvailable:   {available_mib * 1024} kB\n")
    return path


def test_a_guest_is_admitted_only_while_the_host_has_room_for_it(tmp_path):
    running: dict[str, int] = {}
    capacity = Capacity(lambda: running, lambda: 0, OVERHEAD_MIB,
                        meminfo=_meminfo(tmp_path, RESERVE_MIB + 2 * (384 + OVERHEAD_MIB)))
    capacity.admit("db-A", 384)
    capacity.admit("db-B", 384)
    with pytest.raises(InsufficientCapacity, match="has 0 MiB left for guests"):
        capacity.admit("db-C", 384)
    capacity.release("db-B")
    capacity.admit("db-C", 384)
    # once a guest runs, libvirt counts it: its hold is dropped, and it is not counted twice
    running["db-A"] = 384
    with pytest.raises(InsufficientCapacity):
        capacity.admit("db-D", 384)
    assert set(capacity.held) == {"db-C"}


def test_a_failed_start_gives_its_room_back(tmp_path):
    capacity = Capacity(dict, lambda: 0, OVERHEAD_MIB, meminfo=_meminfo(tmp_path, RESERVE_MIB + 384 + OVERHEAD_MIB))
    with pytest.raises(RuntimeError), capacity.held_for("db-A", 384):
        raise RuntimeError("the create failed")
    with capacity.held_for("db-B", 384):
        pass
    assert set(capacity.held) == {"db-B"}


def test_creates_racing_for_the_last_room_are_admitted_once(tmp_path):
    capacity = Capacity(dict, lambda: 0, OVERHEAD_MIB,
                        meminfo=_meminfo(tmp_path, RESERVE_MIB + 3 * (384 + OVERHEAD_MIB)))
    admitted, refused = [], []
    barrier = threading.Barrier(12)

    def create(n: int) -> None:
        barrier.wait()
        try:
            capacity.admit(f"db-{n}", 384)
            admitted.append(n)
        except InsufficientCapacity:
            refused.append(n)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(admitted), len(refused)) == (3, 9)


def test_the_kvm_verdict_is_probed_once_per_host_boot(tmp_path, monkeypatch):
    probes = []
    monkeypatch.setattr(hypervisor, "_probe", lambda image: probes.append(image) or False)
    monkeypatch.setattr(hypervisor, "_boot_id", lambda: "boot-1")
    assert hypervisor.kvm_works("image", tmp_path) is False
    assert hypervisor.kvm_works("image", tmp_path) is False
    assert len(probes) == 1
    monkeypatch.setattr(hypervisor, "_boot_id", lambda: "boot-2")
    monkeypatch.setattr(hypervisor, "_probe", lambda image: probes.append(image) or True)
    assert hypervisor.kvm_works("image", tmp_path) is True
    assert len(probes) == 2


def test_logs_qemu_appends_to_are_rotated_by_copy_and_emptied(tmp_path):
    logs = LogDirectory(tmp_path, in_place=True)
    (tmp_path / "slowquery.log").write_text("slow at 13\n")
    (tmp_path / "general.log").write_text("")
    (tmp_path / "error.log").write_text("ready for connections\n")
    assert set(logs.files()) == {"error/mysql-error.log", "slowquery/mysql-slowquery.log"}
    with open(tmp_path / "slowquery.log", "a") as writer:  # QEMU holds it open, appending
        logs.rotate(13)
        writer.write("slow at 14\n")
    assert logs.read("slowquery/mysql-slowquery.log.13", 0, 100) == b"slow at 13\n"
    assert logs.read("slowquery/mysql-slowquery.log", 0, 100) == b"slow at 14\n"
    assert "slowquery/mysql-slowquery.log.13" in logs.files()


def test_the_saved_state_is_taken_out_of_libvirts_save_image_and_fed_to_a_socket(tmp_path):
    import socket
    import struct

    from emulator.drivers.libvirt import warm as saved

    template = saved.Warm(tmp_path / "warm-384-v1")
    with saved.building(template) as todo:
        assert todo
        xml = b"<domain>...</domain>\0" * 10
        image = template.path / "saved"
        image.write_bytes(struct.pack("<16s5I56x", b"LibvirtQemudSave", 2, len(xml), 1, 0, 0) + xml
                          + b"QEVM\0\0\0\3" + b"state" * 1000)
        saved.keep_stream(image, template)
    assert template.ready and not image.exists()
    assert template.stream.read_bytes() == b"QEVM\0\0\0\3" + b"state" * 1000
    assert len(template.password) == 64 and (template.path / "admin.key").stat().st_mode & 0o777 == 0o600
    with saved.building(template) as todo:
        assert not todo  # made once

    path = tmp_path / "in.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(1)
        feeding = saved.feed(template, path)
        conn, _ = listener.accept()
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        conn.close()
        feeding.join()
    assert received == template.stream.read_bytes()


def test_a_file_that_is_no_save_image_makes_no_template(tmp_path):
    from emulator.drivers.libvirt import warm as saved

    template = saved.Warm(tmp_path / "warm")
    with saved.building(template):
        (template.path / "saved").write_bytes(b"\0" * 200)
        with pytest.raises(ValueError, match="not an uncompressed libvirt save image"):
            saved.keep_stream(template.path / "saved", template)
    assert not template.ready


def test_each_user_mode_guest_keeps_a_job_port_of_its_own(tmp_path):
    network = UserMode()
    first = network.network("127.0.0.1", 13306, tmp_path / "one")
    second = network.network("127.0.0.1", 13307, tmp_path / "two")
    assert first.job_port != second.job_port and first.job_port in JOB_PORTS
    assert network.job_endpoint("127.0.0.1", tmp_path / "one") == ("127.0.0.1", first.job_port)
    assert UserMode().network("127.0.0.1", 13306, tmp_path / "one").job_port == first.job_port  # kept


def test_a_guest_home_from_before_the_image_record_finds_its_image_in_its_disks_backing_chain(tmp_path):
    cache_dir = tmp_path / "cache"
    image = images_dir(cache_dir) / "0123456789abcdef"
    image.mkdir(parents=True)
    (image / ROOT_FS).write_bytes(b"\0" * 2**20)
    home = tmp_path / "guests" / "db-X"
    home.mkdir(parents=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image / ROOT_FS), "-F", "raw",
                    str(home / "disk.qcow2")], check=True)
    assert guest_image.fingerprint(home, cache_dir) == "0123456789abcdef"
    assert (home / "image").read_text() == "0123456789abcdef\n"  # found once, then recorded
    (home / "image").write_text("fedcba9876543210\n")
    assert guest_image.fingerprint(home, cache_dir) == "fedcba9876543210"
    assert guest_image.fingerprint(tmp_path / "guests" / "db-new", cache_dir) is None  # no disk yet


def test_a_guests_disk_moves_when_its_engine_version_changes_minor_or_major(tmp_path):
    """What a guest's home records of the row it runs: a guest made when records named a family runs that
    family's current minor."""
    driver = object.__new__(LibvirtDriver)  # no libvirtd: only the guest's home is read
    driver.root = tmp_path
    previous, current, newer = (engine_versions.of("mariadb", version) for version in ("10.11.18", "10.11", "11.8"))
    spec = ServerSpec("db-ONE", "one", "127.0.0.1", 13306, "admin", "*AB", None, version=previous)
    (tmp_path / "db-ONE").mkdir()
    assert not driver._engine_moved(replace(spec, version=current))  # made before the record: the default's
    driver._record_engine(spec)
    assert not driver._engine_moved(spec)
    assert driver._engine_moved(replace(spec, version=current)) and driver._engine_moved(replace(spec, version=newer))
    (tmp_path / "db-ONE" / "engine").write_text("mariadb10.11\n")
    assert not driver._engine_moved(replace(spec, version=current)) and driver._engine_moved(spec)


def test_a_port_a_gone_connection_still_holds_is_not_offered_to_a_guests_forward():
    """QEMU binds its forwards without SO_REUSEADDR: a port whose last connection is in TIME_WAIT is free for
    MariaDB but not for a guest (a guest created just after another on the same port failed to start)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the side that closes first waits in TIME_WAIT, on the listening port
    client.close()
    listener.close()
    assert bindable("127.0.0.1", port)
    assert not bindable("127.0.0.1", port, reuse=False)
    assert [] == [p for _, p in UserMode().endpoints("127.0.0.1", None, Held(), range(port, port + 1))]


def test_the_template_guest_takes_ports_apart_from_instances_and_keeps_none(tmp_path):
    """The template is saved at start-up while the first instance may be choosing its job port: the template's
    come from a range of their own (both once took 20000, and the instance's guest failed to start)."""
    server, job = template_ports("127.0.0.1")
    assert server != job and {server, job} <= set(TEMPLATE_PORTS) and not {server, job} & set(JOB_PORTS)
    made = UserMode().network("127.0.0.1", server, tmp_path / "template", job_port=job)
    assert made.job_port == job and not (tmp_path / "template" / "job-port").exists()


class Domain:
    """A running guest as libvirt hands it out, counting the calls that reach libvirtd."""

    def __init__(self, name: str, title: str):
        self._name, self.title, self.calls = name, title, 0

    def name(self) -> str:
        return self._name

    def metadata(self, kind, uri, flags):
        self.calls += 1
        return self.title if kind == libvirt.VIR_DOMAIN_METADATA_TITLE else None

    def setMetadata(self, kind, value, key, uri, flags):  # noqa: N802 - libvirt's name
        self.calls += 1
        if kind == libvirt.VIR_DOMAIN_METADATA_TITLE:
            self.title = value


def test_the_watch_labels_a_guest_once_and_again_only_at_a_rename(tmp_path):
    driver = object.__new__(LibvirtDriver)  # no libvirtd: the guest below is all the driver sees
    driver.root, driver.tag, driver._labels = tmp_path, "t", {}
    domain = Domain("rds-t-db-ONE", "one")
    driver._ask = lambda question: [domain]
    spec = ServerSpec("db-ONE", "one", "127.0.0.1", 13306, "admin", "*AB", None)
    (tmp_path / "db-ONE").mkdir()
    for _ in range(5):
        assert driver.reconcile([spec]) == []
    assert domain.calls == 1  # read once; the same every look after
    driver.reconcile([replace(spec, identifier="renamed")])
    driver.reconcile([replace(spec, identifier="renamed")])
    assert domain.title == "renamed" and domain.calls == 4  # read, title, metadata element: once


def mounted_under(path: pathlib.Path) -> list[str]:
    inside = str(path.resolve()) + "/"
    return [line.split()[4] for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split()[4].startswith(inside)]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting /proc needs root")
def test_a_build_step_killed_half_way_leaves_nothing_mounted_in_the_tree(tmp_path):
    proc = tmp_path / "tree" / "proc"
    proc.mkdir(parents=True)
    # debootstrap mounts /proc in the tree; a step killed at its deadline never unmounts it
    with pytest.raises(tools.ToolFailed, match="did not finish"):
        tools.run(build.own_mounts(["sh", "-c", f"mount -t proc proc {proc} && sleep 60"]), timeout=2)
    assert mounted_under(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting /proc needs root")
def test_a_staging_folder_left_with_proc_mounted_is_unmounted_and_removed(tmp_path):
    staging = tmp_path / ".staging-old"
    proc = staging / "tree" / "proc"
    proc.mkdir(parents=True)
    subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=True)  # as an older release left it
    try:
        build.remove_staging(staging)
        assert mounted_under(tmp_path) == [] and not staging.exists()
    finally:
        subprocess.run(["umount", "--lazy", str(proc)], check=False, capture_output=True)


def relayed(upstream: pathlib.Path, send: bytes) -> tuple[bytes, bytes | None]:
    """Run the relay as QEMU does, a connection as its standard input, output and error; what came back,
    and what reached a listener on the loopback (None when nothing connected to it). An upstream file that
    holds `{port}` is given the listener's."""
    guest, theirs = socket.socketpair()
    with socket.create_server(("127.0.0.1", 0)) as listener, guest:
        port = listener.getsockname()[1]
        named = f"127.0.0.1 {port}\n"
        if upstream.exists():
            upstream.write_text(upstream.read_text().replace("{port}", str(port)))
        relay = subprocess.Popen([sys.executable, "-I", str(RELAY), str(upstream)], stdin=theirs, stdout=theirs,
                                 stderr=theirs)
        theirs.close()
        received = None
        try:
            guest.sendall(send)
            guest.shutdown(socket.SHUT_WR)
            listener.settimeout(5)
            if upstream.exists() and upstream.read_text() == named:
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(5)
                    received = b"".join(iter(lambda: conn.recv(4096), b""))
                    conn.sendall(b"answer:" + received)
            guest.settimeout(5)
            try:
                back = b"".join(iter(lambda: guest.recv(4096), b""))
            except ConnectionResetError:  # closed with what the guest sent unread
                back = b""
        finally:
            relay.wait(timeout=10)
        listener.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            listener.accept()[0].close()
            received = b"" if received is None else received
        return back, received


def test_the_relay_joins_a_guests_connection_to_what_its_upstream_file_names(tmp_path):
    upstream = tmp_path / "upstream"
    upstream.write_text("127.0.0.1 {port}\n")
    assert relayed(upstream, b"hello" * 10000) == (b"answer:" + b"hello" * 10000, b"hello" * 10000)


# 0.0.0.0 would reach the listener (Linux takes it for this host): only loopback addresses are relayed to
@pytest.mark.parametrize("text", ["0.0.0.0 {port}\n", "127.0.0.1 not-a-port\n", "", None])
def test_the_relay_closes_a_connection_it_has_nowhere_loopback_to_send(tmp_path, text):
    upstream = tmp_path / "upstream"
    if text is not None:
        upstream.write_text(text)
    assert relayed(upstream, b"hello") == (b"", None)


def test_an_endpoint_relay_sends_each_new_connection_where_its_file_says_then(tmp_path):
    """A Multi-AZ guest's endpoint: a takeover rewrites the file, and the next connection reaches the new
    primary's port; the relay binds a port that a closed connection still holds (TIME_WAIT), as QEMU cannot."""
    with socket.create_server(("127.0.0.1", 0)) as first, socket.create_server(("127.0.0.1", 0)) as second:
        endpoint = socket.create_server(("127.0.0.1", 0))
        port = endpoint.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = endpoint.accept()
        accepted.close()  # the server's side closes first: TIME_WAIT on the endpoint's port
        endpoint.close()
        client.close()
        assert not bindable("127.0.0.1", port, False)  # as QEMU binds its forwards: refused
        upstream = tmp_path / "upstream"
        upstream.write_text(f"127.0.0.1 {first.getsockname()[1]}\n")
        relay = subprocess.Popen([sys.executable, "-I", str(RELAY), "--listen", "127.0.0.1", str(port),
                                  str(upstream)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: not bindable("127.0.0.1", port), 10, "the relay to listen")
            for listener in (first, second):
                upstream.write_text(f"127.0.0.1 {listener.getsockname()[1]}\n")
                with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                    listener.settimeout(5)
                    served, _ = listener.accept()
                    with served:
                        conn.sendall(b"ping")
                        assert served.recv(4) == b"ping"
                        served.sendall(b"pong")
                        assert conn.recv(4) == b"pong"
        finally:
            relay.kill()
            relay.wait(10)
