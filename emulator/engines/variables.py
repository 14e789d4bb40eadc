"""Each engine version's server's own account of its variables: read once from a throwaway server run from
its tree, and cached per tree, so that a parameter catalogue is never typed by hand.

Two sources, both the server's. Which variables a configuration file may set: `--verbose --help`. Their
type, default, range and whether SET GLOBAL may change them: MariaDB's information_schema.SYSTEM_VARIABLES;
MySQL keeps no such table, so its help's option syntax gives the type and its description,
performance_schema the value and range, and a SET GLOBAL of each to its own value whether it is dynamic.
"""

import json
import logging
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict

import pymysql

from emulator.engines import in_tree, tools
from emulator.engines.server import OPTION_NAMES
from emulator.images.server_tree import ServerTree
from emulator.images.servers import Servers
from emulator.model import engine_versions
from emulator.model.engine_versions import EngineVersion
from emulator.model.server import Variable

log = logging.getLogger(__name__)
START_TIMEOUT = 30.0
# Part of the cache's name: a change to what is read from the server makes a new cache.
RECIPE = "4"
_MARIADB_QUERY = """SELECT LOWER(VARIABLE_NAME), DEFAULT_VALUE, VARIABLE_TYPE, VARIABLE_COMMENT, NUMERIC_MIN_VALUE,
    NUMERIC_MAX_VALUE, ENUM_VALUE_LIST, READ_ONLY FROM information_schema.SYSTEM_VARIABLES
    WHERE VARIABLE_SCOPE <> 'SESSION ONLY' ORDER BY VARIABLE_NAME"""
_MYSQL_QUERY = """SELECT LOWER(i.VARIABLE_NAME), g.VARIABLE_VALUE, i.MIN_VALUE, i.MAX_VALUE
    FROM performance_schema.variables_info i JOIN performance_schema.global_variables g USING (VARIABLE_NAME)
    ORDER BY i.VARIABLE_NAME"""
# MySQL's answer to a SET GLOBAL of a variable only a configuration file sets
READ_ONLY_VARIABLE = 1238
# a value no variable that takes only some words takes
NONSENSE = "rds_emulator_no_such_value"
_WORD = re.compile(r"\b[A-Za-z][A-Za-z0-9_-]*\b")
# `  --name=#  description` (a number), `--name=name` (a word), `--name[=name]`, `--name` (on or off)
_HELP_OPTION = re.compile(r"^  (?:-[A-Za-z#?], )?--([a-z0-9-]+)(\[?=(#|name)\]?)?\s*(.*)$")


class Variables:
    """Each engine version's server's variables, read on first use (or ahead of it, by `warm`) and kept."""

    def __init__(self, servers: Servers, cache_dir: pathlib.Path, build: bool = True):
        self.servers, self.cache_dir, self.build = servers, cache_dir, build
        # one lock a version: a tree built or a server read for one family keeps no other family waiting
        self._locks = {row: threading.Lock() for row in engine_versions.VERSIONS}
        self._found: dict[EngineVersion, list[Variable]] = {}

    def get(self, row: EngineVersion) -> list[Variable]:
        """None of them when there is no server to ask (the none driver builds no tree: it asks those built)."""
        with self._locks[row]:
            if row not in self._found:
                tree = self.servers.tree(row) if self.build else self.servers.built(row)
                self._found[row] = variables(tree, row, self.cache_dir) if tree is not None else []
            return self._found[row]

    def warm(self, rows: list[EngineVersion]) -> None:
        """Read them in the background, so that no request waits for a cold cache."""
        threading.Thread(target=self._warm, args=(rows,), name="variables", daemon=True).start()

    def _warm(self, rows: list[EngineVersion]) -> None:
        for row in rows:
            try:
                self.get(row)
            except Exception:  # the first request that needs them will say why
                log.exception("could not read the variables of %s", row.name)


def variables(tree: ServerTree, row: EngineVersion, cache_dir: pathlib.Path) -> list[Variable]:
    """The variables a configuration file may set, cached under cache_dir by the tree's identity."""
    cache = cache_dir / f"variables-{tree.path.name}-r{RECIPE}.json"
    try:
        return [Variable(**item) for item in json.loads(cache.read_text())]
    except (OSError, ValueError, TypeError):
        pass
    started = time.monotonic()
    found = _read(tree, row)
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = cache.with_suffix(f".{os.getpid()}.tmp")
    staging.write_text(json.dumps([asdict(item) for item in found]))
    staging.replace(cache)
    log.info("read %d variables of %s %s in %.2f s", len(found), row.flavor, tree.version,
             time.monotonic() - started)
    return found


def _read(tree: ServerTree, row: EngineVersion) -> list[Variable]:
    help_text = tools.run(in_tree.command(tree.root, [], ["/" + row.daemon, "--no-defaults", "--verbose", "--help",
                                                          "--user=root"])).decode(errors="replace")
    settable = _options(help_text)
    home = pathlib.Path(tempfile.mkdtemp(prefix="rds-emulator-variables-"))
    try:
        if row.flavor == "MySQL":  # MySQL's server needs its data dictionary: a copy of the ready directory
            shutil.copytree(tree.ready_data, home / "data", symlinks=True)
        else:  # an empty data directory is enough for a server that only answers information_schema queries
            (home / "data").mkdir()
        sock = str(home / "s.sock")
        argv = ["/" + row.daemon, "--no-defaults", f"--datadir={home}/data", f"--socket={sock}", "--skip-networking",
                "--user=root", f"--log-error={home}/err", f"--pid-file={home}/pid"]
        # MySQL reports its variables' current values only: it runs on its own defaults, but for the paths
        argv += ([f"--secure-file-priv={home}", "--mysqlx=OFF"] if row.flavor == "MySQL"
                 else ["--skip-grant-tables", "--innodb-buffer-pool-size=8M"])
        process = subprocess.Popen(in_tree.command(tree.root, [home], argv), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with _connected(sock, process) as connection, connection.cursor() as cursor:
                if row.flavor == "MySQL":
                    return _mysql_variables(cursor, help_text, settable)
                cursor.execute(_MARIADB_QUERY)
                rows = list(cursor.fetchall())
        finally:
            process.terminate()
            try:
                process.wait(START_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return [
        Variable(name, default, kind, comment or "", _number(low), _number(high), choices, read_only == "NO")
        for name, default, kind, comment, low, high, choices, read_only in rows
        if OPTION_NAMES.get(name, name) in settable
    ]


def _connected(sock: str, process: subprocess.Popen[bytes]) -> pymysql.Connection:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            return pymysql.connect(unix_socket=sock, user="root", connect_timeout=2, ssl_disabled=True,
                                   autocommit=True)
        except pymysql.MySQLError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server would not start to report its variables") from None
            time.sleep(0.02)


def _mysql_variables(cursor: pymysql.cursors.Cursor, help_text: str, settable: set[str]) -> list[Variable]:
    described = _described(help_text)
    cursor.execute(_MYSQL_QUERY)
    found = []
    for name, value, low, high in cursor.fetchall():
        if OPTION_NAMES.get(name, name) not in settable or name not in described:
            continue
        syntax, comment = described[name]
        kind = _mysql_kind(syntax, value, low, high)
        numeric = kind in ("BIGINT", "DOUBLE")
        dynamic = _dynamic(cursor, name)
        choices = "OFF,ON" if kind == "BOOLEAN" else None
        if kind == "VARCHAR" and dynamic:
            kind, choices = _choices(cursor, name, value, comment)
        found.append(Variable(name, value, kind, comment, _number(low) if numeric else None,
                              _number(high) if numeric else None, choices, dynamic))
    return found


def _choices(cursor: pymysql.cursors.Cursor, name: str, value: str | None, comment: str) -> tuple[str, str | None]:
    """Whether a word variable takes any text, or only some words, and which: asked of the throwaway server by
    setting it to a word that means nothing, then to each word of its description. ("ENUM", words), ("SET",
    words) when several words at once are taken, or ("VARCHAR", None). The words count only when its own
    value is among them: else the description does not list them all (default_storage_engine's)."""
    if _takes(cursor, name, NONSENSE):
        _takes(cursor, name, value or "")
        return "VARCHAR", None
    candidates = {word.lower(): word for word in reversed(_WORD.findall(comment)) if word.lower() != "default"}
    words = [word for word in reversed(candidates.values()) if _takes(cursor, name, word)]
    several = len(words) > 1 and _takes(cursor, name, ",".join(words[:2]))
    _takes(cursor, name, value or "")
    current = {part.lower() for part in (value or "").split(",") if part}
    if not words or not current <= {word.lower() for word in words}:
        return "VARCHAR", None
    return ("SET" if several else "ENUM"), ",".join(words)


def _takes(cursor: pymysql.cursors.Cursor, name: str, value: str) -> bool:
    try:
        cursor.execute(f"SET GLOBAL `{name}` = %s", (value,))
    except pymysql.MySQLError:
        return False
    return True


def _described(help_text: str) -> dict[str, tuple[str, str]]:
    """Each option's syntax (`#`, `name` or none) and description, from `--verbose --help`."""
    found: dict[str, tuple[str, str]] = {}
    current: str | None = None
    for line in help_text.splitlines():
        match = _HELP_OPTION.match(line)
        if match:
            current = match.group(1).replace("-", "_")
            found[current] = (match.group(3) or "", match.group(4).strip())
        elif current and line.startswith(" " * 22) and line.strip():
            syntax, text = found[current]
            found[current] = (syntax, f"{text} {line.strip()}".strip())
        elif not line.strip() or line.startswith("-----"):
            current = None
    return found


def _mysql_kind(syntax: str, value: str | None, low: object, high: object) -> str:
    if syntax == "":
        return "BOOLEAN"
    if syntax == "#":
        return "DOUBLE" if value and "." in value else "BIGINT"
    return "VARCHAR"


def _dynamic(cursor: pymysql.cursors.Cursor, name: str) -> bool:
    """Whether SET GLOBAL takes the variable: set to its own value, on the throwaway server."""
    try:
        cursor.execute(f"SET GLOBAL `{name}` = @@GLOBAL.`{name}`")
    except pymysql.MySQLError as error:
        return error.args[0] != READ_ONLY_VARIABLE
    return True


def _options(help_text: str) -> set[str]:
    """The variables `--verbose --help` lists: those a configuration file may set."""
    names, listing = set(), False
    for line in help_text.splitlines():
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
