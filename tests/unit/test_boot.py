"""Starting up fails cleanly: whatever step fails, what boot took (the data directory's lock, the store, the
task runner's threads, the scheduler) is given back, and `serve` says why in one line."""

import socket
import subprocess
import sys
import threading

import pytest

from emulator.config import Settings
from emulator.drivers.none import NoServerDriver
from emulator.runtime import boot
from emulator.work import security_groups
from scheduler import service as scheduler_service
from tests.emulator_process import ROOT, EmulatorProcess


def broken(*args, **kwargs):
    raise RuntimeError("a step of start-up broke")


@pytest.mark.parametrize("step", [(security_groups, "enforce"), (NoServerDriver, "reconcile"),
                                  (scheduler_service, "start")], ids=["firewall", "reconcile", "scheduler"])
def test_a_failure_at_any_step_of_boot_gives_back_all_it_took(tmp_path, monkeypatch, step):
    settings = Settings(data_dir=tmp_path / "data", driver="none", auth="off")
    before = set(threading.enumerate())
    with monkeypatch.context() as patched:
        patched.setattr(*step, broken)
        with pytest.raises(RuntimeError, match="a step of start-up broke"):
            boot(settings)
    assert set(threading.enumerate()) <= before  # no worker or scheduler thread left running
    runtime = boot(settings)  # the lock was let go: the next start takes the data directory
    runtime.close()


def test_serve_on_a_port_taken_says_so_and_lets_the_data_directory_go(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "emulator.cli", "serve", "--port", str(port), "--data-dir",
                   str(tmp_path / "data"), "--driver", "none"]
        ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 1
    assert f"rds-emulator: cannot listen on 127.0.0.1:{port}" in ran.stderr and "Traceback" not in ran.stderr
    boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off"), schedule=False).close()


def test_a_test_emulator_whose_chosen_port_was_taken_meanwhile_starts_on_another(tmp_path):
    """The tests' emulators listen on a port found free a moment before, which a client's connection may
    take in between (CI saw it): they start again on another."""
    emulator = EmulatorProcess(tmp_path / "data", "none")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", emulator.port))
        taken.listen()
        first = emulator.port
        emulator.start()
    try:
        assert emulator.port != first
        assert f"cannot listen on 127.0.0.1:{first}" in (tmp_path / "data" / f"emulator-{first}.log").read_text()
    finally:
        emulator.stop()
