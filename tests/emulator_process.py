"""An emulator run the way a user runs it: `rds-emulator serve` in a subprocess, on a free loopback port."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from emulator.host import credentials

ROOT = pathlib.Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):  # poll with a deadline
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)  # poll


class PortTaken(AssertionError):
    pass


class EmulatorProcess:
    def __init__(self, data_dir: pathlib.Path, driver: str = "process", port: int | None = None,
                 options: tuple[str, ...] = ()):
        self.data_dir = data_dir
        self.driver = driver
        self.options = options
        self.chosen = port is None
        self._listen_on(port or free_port())
        self.process: subprocess.Popen | None = None

    def _listen_on(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.data_dir / f"emulator-{self.port}.log"

    def start(self) -> "EmulatorProcess":
        """A port chosen here was free when chosen, not when the emulator binds it: a client's connection
        may take it as its own in between (it is an ephemeral port). The emulator then starts on another."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tries = 0
        while True:
            command = [
                sys.executable, "-m", "emulator.cli", "serve", "--port", str(self.port),
                "--data-dir", str(self.data_dir), "--driver", self.driver, *self.options,
            ]
            with open(self.log, "ab") as log:
                self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_for(self._answers, 30, "the emulator to answer")
                return self
            except PortTaken:
                tries += 1
                if not self.chosen or tries == 3:
                    raise
                self._listen_on(free_port())

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            said = self.log.read_text()[-2000:]
            if f"cannot listen on 127.0.0.1:{self.port}: Address already in use" in said:
                raise PortTaken(f"the emulator's port was taken before it listened: {said}")
            raise AssertionError(f"the emulator exited: {said}")
        try:
            urllib.request.urlopen(f"{self.url}/?Action=DescribeDBEngineVersions", timeout=2).read()
        except urllib.error.HTTPError:
            return True  # it answers: an unsigned request is refused
        except (urllib.error.URLError, ConnectionError, TimeoutError):  # another listener took the port
            return False
        return True

    def credentials(self) -> dict[str, str]:
        """The data directory's access key, which the emulator made at its first start, as boto3 takes it."""
        access_key, secret = credentials.data_dir_pair(self.data_dir)
        return {"aws_access_key_id": access_key, "aws_secret_access_key": secret}

    def operator(self, path: str, body: dict | None = None) -> dict:
        """An operator's request (/_emulator/...), signed with the data directory's key as every request must
        be; a JSON body makes it a POST. HTTPError for an answer other than 200."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        access_key, secret = credentials.data_dir_pair(self.data_dir)
        data = json.dumps(body).encode() if body is not None else None
        signed = AWSRequest(method="POST" if data else "GET", url=f"{self.url}/_emulator/{path}", data=data,
                            headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(access_key, secret), "rds", "us-east-1").add_auth(signed)
        request = urllib.request.Request(signed.url, data=data, method=signed.method, headers=dict(signed.headers))
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)

    def stop(self) -> None:
        """A clean stop: SIGTERM, which also stops the DB servers."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def server_pids(self) -> list[int]:
        """The DB servers under this data dir that are alive."""
        return servers_under(self.data_dir)


def servers_under(path: pathlib.Path) -> list[int]:
    found = []
    marker = str(path).encode()
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        # guests too, and the relays that hold Multi-AZ guests' endpoints
        server = b"mariadbd" in cmdline or b"mysqld" in cmdline or b"qemu-system" in cmdline or b"relay.py" in cmdline
        if marker in cmdline and state != "Z" and server:
            found.append(int(entry.name))
    return found


# What the libvirt driver starts when they do not run.
DAEMONS = ("libvirtd", "virtlogd")


def daemon_pids(name: str) -> set[str]:
    """The processes named exactly `name` (libvirtd, virtlogd)."""
    return set(subprocess.run(["pgrep", "-x", name], capture_output=True, text=True, check=False).stdout.split())


def stop_daemons(*names: str) -> None:
    """Their processes of now, told to go and gone, not only told: an emulator that connects to one still
    exiting loses it. (One an emulator starts meanwhile, finding them gone, stays.)"""
    running = set().union(*(daemon_pids(name) for name in names))
    for name in names:
        subprocess.run(["pkill", "-x", name], check=False)
    wait_for(lambda: not running & set().union(*(daemon_pids(name) for name in names)), 60,
             f"{' and '.join(names)} to exit")


def kill_servers_under(path: pathlib.Path) -> list[int]:
    return kill(servers_under(path))


def kill(pids: list[int]) -> list[int]:
    """SIGKILL each, gone already or not; the pids."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids


def remove_guests(data_dir: pathlib.Path) -> None:
    """Guests outlive the emulator that started them (as they should), and so do the relays that hold
    Multi-AZ guests' endpoints: a test's own are destroyed here."""
    guests = data_dir / "guests"
    if not guests.exists():
        return
    kill(servers_under(data_dir / "guest-endpoints"))
    import hashlib

    import libvirt

    prefix = "rds-" + hashlib.sha1(str(guests.resolve()).encode()).hexdigest()[:8] + "-"
    try:
        connection = libvirt.open("qemu:///system")
    except libvirt.libvirtError:  # no libvirtd to ask (it went with a test's namespace): the guests' QEMUs go
        kill_servers_under(data_dir)
        return
    try:
        for domain in connection.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            if domain.name().startswith(prefix):
                domain.destroy()
    finally:
        connection.close()
