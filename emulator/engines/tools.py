"""Every external tool the emulator runs (mariadb-backup, mbstream, mariadb-binlog, mariadb-upgrade, qemu-img,
nft, ...) runs through here: with a timeout sized to its work, and failing with the tail of its stderr."""

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO

from emulator.failures import Failure

CHUNK = 1 << 20
SETPRIV = shutil.which("setpriv")
# A tool that only looks or configures (qemu-img create, nft, --version) answers in seconds.
QUICK = 60.0
# A tool that copies or replays a database's data has this long, plus a second for every SLOWEST bytes it
# moves: a healthy one is far quicker, so that only a hung one meets it (a 20 GiB copy: 1 h 35 min).
BASE = 600.0
SLOWEST = 4 * 2**20


def for_bytes(size: int) -> float:
    """The time a tool that moves `size` bytes of a database has."""
    return BASE + max(size, 0) / SLOWEST


class ToolFailed(Failure):
    """A tool exited with an error, or did not finish in its time; `output` is what it wrote to stdout."""

    def __init__(self, message: str, output: bytes = b""):
        super().__init__(message)
        self.output = output


def run(argv: list[str], *, timeout: float = QUICK, stdin: IO[bytes] | None = None, input: bytes | None = None,
        env: dict[str, str] | None = None, explain: Callable[[bytes], str] | None = None) -> bytes:
    """Run the tool to its end; its standard output. ToolFailed with the tail of its stderr when it fails
    (`explain` picks another line of it: a tool's last line may hold a row's data)."""
    with subprocess.Popen(_bound(argv), stdin=subprocess.PIPE if input is not None else stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True) as process:
        try:
            out, err = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            raise ToolFailed(f"{program(argv)} did not finish within {timeout:.0f} s") from None
    if process.returncode != 0:
        raise ToolFailed(f"{program(argv)} failed: {(explain or last_line)(err)}", out)
    return out


def stream(argv: list[str], sink: BinaryIO, log: IO[bytes], progress: Callable[[int], None],
           timeout: float) -> None:
    """Run a tool whose standard output goes into `sink`, its stderr into `log`; `progress` hears the bytes
    copied so far. ToolFailed when it fails or outlives its time (it is killed then, silent or not)."""
    with subprocess.Popen(_bound(argv), stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                          start_new_session=True) as process, \
            _killed_after(timeout, process) as expired:
        assert process.stdout is not None
        copied = 0
        while chunk := process.stdout.read(CHUNK):
            sink.write(chunk)
            copied += len(chunk)
            progress(copied)
    if expired.is_set():
        raise ToolFailed(f"{program(argv)} did not finish within {timeout:.0f} s")
    if process.returncode != 0:
        log.seek(0)
        raise ToolFailed(f"{program(argv)} failed: {last_line(log.read())}")


def pipe(producer: list[str], consumer: list[str], log: IO[bytes], *, timeout: float,
         env: dict[str, str] | None = None, error_line: Callable[[bytes], str] | None = None) -> None:
    """producer | consumer; either failing fails both (the producer gets SIGPIPE once the consumer is gone).
    The producer's stderr goes to `log`; `error_line` picks what of a tool's output a user may read. Both are
    killed when they outlive `timeout` together, whichever of them hangs."""
    explain = error_line or last_line
    first = subprocess.Popen(_bound(producer), stdout=subprocess.PIPE, stderr=log, env=env, start_new_session=True)
    assert first.stdout is not None
    together = f"{program(producer)} | {program(consumer)}"
    with _killed_after(timeout, first) as expired:
        try:
            second = subprocess.run(_bound(consumer), stdin=first.stdout, capture_output=True, timeout=timeout, env=env,
                                    check=False)
        except subprocess.TimeoutExpired:  # the one waits on the other: either may be the one that hangs
            _kill_group(first)
            raise ToolFailed(f"{together} did not finish within {timeout:.0f} s") from None
        finally:
            first.stdout.close()
            first.wait()
    if expired.is_set():
        raise ToolFailed(f"{together} did not finish within {timeout:.0f} s")
    log.seek(0)
    for argv, code, err in ((consumer, second.returncode, second.stderr), (producer, first.returncode, log.read())):
        if code != 0:
            raise ToolFailed(f"{program(argv)} failed: {explain(err)}")


def program(argv: list[str]) -> str:
    """The program a command runs, as a message names it: the tool itself, not what starts it in its server's
    tree (engines/in_tree.py)."""
    if argv[:2] == ["unshare", "--mount"] and argv.count("--") >= 2:
        return argv[argv.index("--", argv.index("--") + 1) + 1]
    return argv[0]


def _bound(argv: list[str]) -> list[str]:
    """The tool dies with the emulator (a parent-death signal, set by util-linux's setpriv as it execs the
    tool): a replay left running after a kill -9 went on writing into a server the next run restores
    again. A daemon a tool starts (libvirtd -d) forks away from it, and keeps running."""
    return [SETPRIV, "--pdeathsig", "KILL", "--", *argv] if SETPRIV else argv


@contextmanager
def _killed_after(timeout: float, process: subprocess.Popen[bytes]) -> Iterator[threading.Event]:
    """The process is killed once `timeout` passes (a hung tool may be silent: no read returns to look at
    the time); the event says whether it was."""
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        _kill_group(process)

    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """The tool and whatever it started (debootstrap's dpkg, a shell's commands): each tool leads a process
    group of its own."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def last_line(output: bytes | str) -> str:
    text = output.decode(errors="replace") if isinstance(output, bytes) else output
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][-300:] if lines else "no message"


def utc() -> dict[str, str]:
    """The environment with TZ=UTC: the binary log tools print and take times in the local zone."""
    return {**os.environ, "TZ": "UTC"}

