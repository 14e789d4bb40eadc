"""Every external tool the emulator runs (mariadb-backup, mbstream, mariadb-binlog, mariadb-upgrade, qemu-img,
nft, ...) runs through here: with a timeout sized to its work, and failing with the tail of its stderr."""

import os
import subprocess
import time
from collections.abc import Callable
from typing import IO, BinaryIO

from emulator.failures import Failure

CHUNK = 1 << 20
# A tool that only looks or configures (qemu-img create, nft, --version) answers in seconds.
QUICK = 60.0
# A tool that copies or replays a database's data: generous, so that only a hung tool meets it.
LONG = 6 * 3600.0


class ToolFailed(Failure):
    """A tool exited with an error, or did not finish in its time; `output` is what it wrote to stdout."""

    def __init__(self, message: str, output: bytes = b""):
        super().__init__(message)
        self.output = output


def run(argv: list[str], *, timeout: float = QUICK, stdin: IO[bytes] | None = None, input: bytes | None = None,
        env: dict[str, str] | None = None, explain: Callable[[bytes], str] | None = None) -> bytes:
    """Run the tool to its end; its standard output. ToolFailed with the tail of its stderr when it fails
    (`explain` picks another line of it: a tool's last line may hold a row's data)."""
    try:
        result = subprocess.run(argv, stdin=stdin if input is None else None, input=input, capture_output=True,
                                timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"{argv[0]} did not finish within {timeout:.0f} s") from None
    if result.returncode != 0:
        raise ToolFailed(f"{argv[0]} failed: {(explain or last_line)(result.stderr)}", result.stdout)
    return result.stdout


def stream(argv: list[str], sink: BinaryIO, log: IO[bytes], progress: Callable[[int], None],
           timeout: float = LONG) -> None:
    """Run a tool whose standard output goes into `sink`, its stderr into `log`; `progress` hears the bytes
    copied so far. ToolFailed when it fails or outlives its time (it is killed then)."""
    deadline = time.monotonic() + timeout
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL) as process:
        assert process.stdout is not None
        copied = 0
        while chunk := process.stdout.read(CHUNK):
            sink.write(chunk)
            copied += len(chunk)
            progress(copied)
            if time.monotonic() > deadline:
                process.kill()
                raise ToolFailed(f"{argv[0]} did not finish within {timeout:.0f} s")
    if process.returncode != 0:
        log.seek(0)
        raise ToolFailed(f"{argv[0]} failed: {last_line(log.read())}")


def pipe(producer: list[str], consumer: list[str], log: IO[bytes], *, timeout: float = LONG,
         env: dict[str, str] | None = None, error_line: Callable[[bytes], str] | None = None) -> None:
    """producer | consumer; either failing fails both (the producer gets SIGPIPE once the consumer is gone).
    The producer's stderr goes to `log`; `error_line` picks what of a tool's output a user may read."""
    explain = error_line or last_line
    first = subprocess.Popen(producer, stdout=subprocess.PIPE, stderr=log, env=env)
    assert first.stdout is not None
    try:
        second = subprocess.run(consumer, stdin=first.stdout, capture_output=True, timeout=timeout, env=env,
                                check=False)
    except subprocess.TimeoutExpired:
        first.kill()
        raise ToolFailed(f"{consumer[0]} did not finish within {timeout:.0f} s") from None
    finally:
        first.stdout.close()
        first.wait()
    log.seek(0)
    for argv, code, err in ((consumer, second.returncode, second.stderr), (producer, first.returncode, log.read())):
        if code != 0:
            raise ToolFailed(f"{argv[0]} failed: {explain(err)}")


def last_line(output: bytes | str) -> str:
    text = output.decode(errors="replace") if isinstance(output, bytes) else output
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][-300:] if lines else "no message"


def utc() -> dict[str, str]:
    """The environment with TZ=UTC: the binary log tools print and take times in the local zone."""
    return {**os.environ, "TZ": "UTC"}

