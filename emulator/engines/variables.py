"""The installed server's own account of its variables: read once from a throwaway server and cached per
server binary, so that a parameter catalogue is never typed by hand.

Two sources, both the server's: information_schema.SYSTEM_VARIABLES (type, default, range, whether SET
GLOBAL may change it) and `mariadbd --verbose --help` (which variables a configuration file may set).
"""

import hashlib
import json
import logging
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict

import pymysql

from emulator.engines import tools
from emulator.engines.server import OPTION_NAMES
from emulator.model.server import ServerBinary, Variable

log = logging.getLogger(__name__)
START_TIMEOUT = 30.0
# Part of the cache's name: a change to what is read from the server makes a new cache.
RECIPE = "2"
_QUERY = """SELECT LOWER(VARIABLE_NAME), DEFAULT_VALUE, VARIABLE_TYPE, VARIABLE_COMMENT, NUMERIC_MIN_VALUE,
    NUMERIC_MAX_VALUE, ENUM_VALUE_LIST, READ_ONLY FROM information_schema.SYSTEM_VARIABLES
    WHERE VARIABLE_SCOPE <> 'SESSION ONLY' ORDER BY VARIABLE_NAME"""


class Variables:
    """The installed server's variables, read on first use (or ahead of it, by `warm`) and kept."""

    def __init__(self, binary: ServerBinary, cache_dir: pathlib.Path):
        self.binary, self.cache_dir = binary, cache_dir
        self._lock = threading.Lock()
        self._found: list[Variable] | None = None

    def get(self) -> list[Variable]:
        with self._lock:
            if self._found is None:
                self._found = variables(self.binary, self.cache_dir)
            return self._found

    def warm(self) -> None:
        """Read them in the background, so that no request waits for a cold cache."""
        threading.Thread(target=self._warm, name="variables", daemon=True).start()

    def _warm(self) -> None:
        try:
            self.get()
        except Exception:  # the first request that needs them will say why
            log.exception("could not read the installed server's variables")


def variables(binary: ServerBinary, cache_dir: pathlib.Path) -> list[Variable]:
    """The variables a configuration file may set, cached under cache_dir by the binary's identity."""
    if binary.server is None:
        return []
    cache = cache_dir / (
        f"variables-{binary.flavor.lower()}-{binary.version}-{_fingerprint(binary.server)}-r{RECIPE}.json"
    )
    try:
        return [Variable(**item) for item in json.loads(cache.read_text())]
    except (OSError, ValueError, TypeError):
        pass
    started = time.monotonic()
    found = _read(binary.server)
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = cache.with_suffix(f".{os.getpid()}.tmp")
    staging.write_text(json.dumps([asdict(item) for item in found]))
    staging.replace(cache)
    log.info("read %d variables of %s %s in %.2f s", len(found), binary.flavor, binary.version,
             time.monotonic() - started)
    return found


def _fingerprint(path: str) -> str:
    stat = os.stat(path)
    return hashlib.sha1(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]


def _read(server: str) -> list[Variable]:
    settable = _options(server)
    home = pathlib.Path(tempfile.mkdtemp(prefix="rds-emulator-variables-"))
    sock = str(home / "s.sock")
    # An empty data directory is enough for a server that only answers information_schema queries.
    process = subprocess.Popen(
        [server, "--no-defaults", f"--datadir={home}", f"--socket={sock}", "--skip-networking",
         "--skip-grant-tables", f"--user={_os_user()}", "--innodb-buffer-pool-size=8M", f"--log-error={home}/err",
         f"--pid-file={home}/pid"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        rows = _query(sock, process)
    finally:
        process.terminate()
        try:
            process.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(home, ignore_errors=True)
    return [
        Variable(name, default, kind, comment or "", _number(low), _number(high), choices, read_only == "NO")
        for name, default, kind, comment, low, high, choices, read_only in rows
        if OPTION_NAMES.get(name, name) in settable
    ]


def _query(sock: str, process: subprocess.Popen[bytes]) -> list[tuple]:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            connection = pymysql.connect(unix_socket=sock, user="root", connect_timeout=2, ssl_disabled=True)
            break
        except pymysql.MySQLError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the installed server would not start to report its variables") from None
            time.sleep(0.02)
    with connection, connection.cursor() as cursor:
        cursor.execute(_QUERY)
        return list(cursor.fetchall())


def _options(server: str) -> set[str]:
    """The variables `--verbose --help` lists: those a configuration file may set."""
    text = tools.run([server, "--no-defaults", "--verbose", "--help", f"--user={_os_user()}"]).decode(
        errors="replace")
    names, listing = set(), False
    for line in text.splitlines():
        if line.startswith("-------------------------"):
            listing = True
        elif listing and not line.strip():
            break
        elif listing:
            names.add(line.split()[0].replace("-", "_"))
    return names


def _number(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text[:-7] if text.endswith(".000000") else text


def _os_user() -> str:
    import getpass

    return getpass.getuser()
