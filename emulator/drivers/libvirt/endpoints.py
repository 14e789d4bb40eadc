"""A Multi-AZ instance's endpoint on the libvirt driver (user-mode network). QEMU forwards a port of the host
to one guest for the guest's whole life, and cannot take a port that closed connections still hold
(TIME_WAIT, a minute): a guest that takes over cannot take its former primary's forward. So a standby guest
is forwarded a port of its own (its server port, kept in its home), and when it takes over, the endpoint is
held by a relay process (relay.py --listen) that sends each connection to the server port of whichever guest
is primary, named in a file. The relay outlives the emulator, as guests do, and goes with its guest."""

import contextlib
import logging
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import replace

from emulator.drivers.base import ServerSpec, bindable, until
from emulator.drivers.libvirt.network import RELAY
from emulator.drivers.libvirt.shared import POLL

log = logging.getLogger(__name__)
# Where standby guests' server ports are forwarded from: apart from instances', job and template ports.
SERVER_PORTS = range(31000, 32000)
# The file in a guest's home that keeps its server port.
SERVER_PORT = "server-port"
# How long a new relay may take to listen (seconds).
RELAY_START = 10


class GuestEndpoints:
    """Part of LibvirtDriver (driver.py), whose attributes it uses."""

    _choosing_port = threading.Lock()

    def _port(self, spec: ServerSpec) -> int:
        """The host's port forwarded to the guest's server: the instance's endpoint, or, for a guest that
        was ever a standby, a port of its own (chosen once, then kept in its home)."""
        home = self._home(spec)
        kept = home / SERVER_PORT
        if not kept.exists():
            if not spec.standby:
                return spec.port
            with self._choosing_port:
                taken = {path.read_text().strip() for path in self.root.glob(f"*/{SERVER_PORT}")}
                port = next(port for port in SERVER_PORTS
                            if str(port) not in taken and bindable(spec.host, port, False))
                home.mkdir(parents=True, exist_ok=True)
                kept.write_text(f"{port}\n")
        return int(kept.read_text())

    def _reached(self, spec: ServerSpec) -> ServerSpec:
        """The spec as the guest's forward reaches its server."""
        return replace(spec, port=self._port(spec))

    def take_endpoint(self, spec: ServerSpec) -> None:
        """The guest of a standby that took over (its former primary killed) serves the instance's endpoint
        through the relay, and its server restarts with a primary's configuration."""
        self._keep_endpoint(spec)
        domain = self._live(spec)
        if domain is None or not self._restart_in_place(spec, domain):
            self.stop(spec)
            self.start(spec)

    def _keep_endpoint(self, spec: ServerSpec) -> None:
        """A primary guest forwarded a port of its own is reached on its endpoint through the relay: pointed
        at it, and started when it does not run."""
        port = self._port(spec)
        if spec.standby or port == spec.port:
            return
        home = self._relay_home(spec)
        home.mkdir(parents=True, exist_ok=True)
        (home / "upstream.new").write_text(f"{spec.host} {port}\n")
        (home / "upstream.new").replace(home / "upstream")
        if self._relay_pid(home) is not None:
            return
        relay = subprocess.Popen([sys.executable, "-I", str(RELAY), "--listen", spec.host, str(spec.port),
                                  str(home / "upstream")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        (home / "pid").write_text(f"{relay.pid}\n")
        if not until(lambda: not bindable(spec.host, spec.port), RELAY_START, POLL):
            log.warning("the endpoint relay of %s did not listen on port %d", spec.identifier, spec.port)
        log.info("the endpoint of %s is relayed to guest port %d", spec.identifier, port)

    def _drop_endpoint(self, spec: ServerSpec) -> None:
        """The relay goes with the guest it relays to (the instance's deletion), not with another."""
        home = self._relay_home(spec)
        kept = self._home(spec) / SERVER_PORT
        if not kept.exists() or not (home / "upstream").exists():
            return
        if (home / "upstream").read_text().split()[1] != kept.read_text().strip():
            return
        pid = self._relay_pid(home)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)

    def _relay_home(self, spec: ServerSpec) -> pathlib.Path:
        return self.root.parent / "guest-endpoints" / f"{spec.host}-{spec.port}"

    @staticmethod
    def _relay_pid(home: pathlib.Path) -> int | None:
        """The relay's process while it runs (one whose command line names its file, not a reused pid)."""
        try:
            pid = int((home / "pid").read_text())
            command = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if str(home / "upstream").encode() in command else None
