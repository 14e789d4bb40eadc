"""External tools run with a deadline that holds even when the tool hangs without a word, and tasks keep
their work files under the data directory, where an interrupted run's are cleared when it is taken up again.

A hung mariadb-backup or mariadb-binlog cannot be had on demand: `sleep` stands in for a tool that hangs."""

import io
import os
import pathlib
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from emulator.config import Settings
from emulator.engines import tools
from emulator.host.work_dirs import work_dir
from emulator.runtime import boot
from tests.emulator_process import ROOT, wait_for


def test_a_silent_hung_tool_is_killed_at_its_deadline():
    started = time.monotonic()
    with tempfile.TemporaryFile() as log, pytest.raises(tools.ToolFailed, match="sleep did not finish within 1 s"):
        tools.stream(["sleep", "60"], io.BytesIO(), log, lambda copied: None, timeout=1)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(("producer", "consumer"), [(["sleep", "60"], ["cat"]),  # the producer hangs
                                                    (["sleep", "60"], ["true"]),  # ... after its reader left
                                                    (["true"], ["sleep", "60"])])  # the consumer hangs
def test_a_pipe_with_either_side_hung_is_killed_at_its_deadline(producer, consumer):
    started = time.monotonic()
    with tempfile.TemporaryFile() as log, \
            pytest.raises(tools.ToolFailed, match=f"{producer[0]} \\| {consumer[0]} did not finish within 1 s"):
        tools.pipe(producer, consumer, log, timeout=1)
    assert time.monotonic() - started < 10


def test_a_tool_has_time_for_the_bytes_it_moves():
    assert tools.for_bytes(0) == tools.BASE
    assert tools.for_bytes(20 * 2**30) == tools.BASE + 20 * 2**30 / tools.SLOWEST > 3600


def test_a_tasks_work_folder_is_the_owners_cleared_when_taken_up_again_and_removed_at_its_end(tmp_path):
    with pytest.raises(RuntimeError), work_dir(tmp_path, "replay-db-A") as work:
        (work / "client.cnf").write_text("[client]\npassword=x\n")
        assert stat.S_IMODE(os.stat(work).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(tmp_path / "work").st_mode) == 0o700
        raise RuntimeError("the task failed")
    assert not (tmp_path / "work" / "replay-db-A").exists()
    (tmp_path / "work" / "replay-db-A").mkdir()  # as a run killed with the emulator leaves it
    (tmp_path / "work" / "replay-db-A" / "binlog.000001").write_bytes(b"left")
    with work_dir(tmp_path, "replay-db-A") as work:
        assert list(work.iterdir()) == []


def test_start_up_clears_what_tasks_of_a_former_run_left(tmp_path):
    left = tmp_path / "data" / "work" / "upgrade-db-GONE"
    left.mkdir(parents=True)
    (left / "client.cnf").write_text("[client]\n")
    boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off"), schedule=False).close()
    assert not left.exists()


def sleeping(marker: str) -> list[int]:
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == f"sleep\0{marker}\0".encode():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_tool_dies_with_the_emulator_that_ran_it():
    marker = f"{time.time() % 1000 + 100:.6f}"  # seconds to sleep, that no other sleep has
    program = f"from emulator.engines import tools; tools.run(['sleep', '{marker}'], timeout=600)"
    emulator = subprocess.Popen([sys.executable, "-c", program], cwd=ROOT)
    try:
        wait_for(lambda: sleeping(marker), 10, "the tool to run")
    finally:
        emulator.kill()  # as kill -9 does
        emulator.wait()
    wait_for(lambda: not sleeping(marker), 10, "the tool to die with it")
