"""The MySQL-family server installed on this machine: where it is, what it is, how it is configured."""

import functools
import hashlib
import re
import shutil

from emulator.engines import tools
from emulator.model.parameters import SYSTEM
from emulator.model.server import ServerBinary

# Variables a configuration file sets under another name than their own.
OPTION_NAMES = {"tx_isolation": "transaction_isolation", "time_zone": "default_time_zone"}
# The version reported when no server is installed (the `none` driver on a bare machine).
NOMINAL = ("MariaDB", "10.11.6")


@functools.cache
def installed() -> ServerBinary:
    for name in ("mariadbd", "mysqld"):
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
        if path:
            out = tools.run([path, "--version"]).decode(errors="replace")
            flavor, version = parse_version(out)
            install_db = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
            return ServerBinary(flavor, version, path, install_db)
    return ServerBinary(*NOMINAL, None, None)


def parse_version(text: str) -> tuple[str, str]:
    """`mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 ...` -> ("MariaDB", "10.11.19")."""
    match = re.search(r"(\d+\.\d+\.\d+)", text)
    if not match:
        return NOMINAL
    return ("MariaDB" if "mariadb" in text.lower() else "MySQL"), match.group(1)


def native_password_hash(password: str) -> str:
    """The server's own mysql_native_password hash: what we keep and pass on instead of the password."""
    digest = hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest()
    return "*" + digest.upper()


def my_cnf(
    *, datadir: str, tmpdir: str, socket: str, pid_file: str, log_error: str, host: str, port: int, user: str,
    logs: dict[str, str] | None = None, parameters: dict[str, str] | None = None,
) -> str:
    """A small server, loopback only, with a binary log (which point-in-time restore replays); `logs`
    places the slow and general query logs (slow_query_log_file, general_log_file); `parameters` (the
    group's values) come last, so they win. Its temporary tables live in a `tmpdir` of its own, not in the
    host's /tmp, where whatever cleans it would take them from under the server."""
    lines = [
        "[mysqld]",
        f"datadir={datadir}",
        f"tmpdir={tmpdir}",
        f"socket={socket}",
        f"pid-file={pid_file}",
        f"log-error={log_error}",
        f"bind-address={host}",
        f"port={port}",
        f"user={user}",
        "skip-name-resolve",
        "log-bin=binlog",
    ]
    lines += [f"{name}={value}" for name, value in (logs or {}).items()]
    return "\n".join(lines + _tuning(parameters)) + "\n"


def guest_cnf(parameters: dict[str, str] | None = None, port: int = 3306, server_id: int = 1) -> str:
    """A guest's server: Debian's own paths; listening on the guest's address, which only the forwarded
    port (or the bridge) reaches; its logs on the ports its init links under /run/rds/logs, which is also
    the one place SQL may write files (the emulator leaves the next configuration there)."""
    lines = ["[mysqld]", "bind-address=0.0.0.0", f"port={port}", f"server_id={server_id}", "skip-name-resolve",
             "log-bin=binlog",
             "log_error=/run/rds/logs/error.log", "slow_query_log_file=/run/rds/logs/slowquery.log",
             "general_log_file=/run/rds/logs/general.log", "secure_file_priv=/run/rds"]
    return "\n".join(lines + _tuning(parameters)) + "\n"


def buffer_pool_mib(parameters: dict[str, str]) -> int:
    """The InnoDB buffer pool (MiB) a server of these values runs with: what, beyond its fixed overhead, it
    comes to hold as it works."""
    value = parameters.get("innodb_buffer_pool_size", SYSTEM["innodb_buffer_pool_size"])
    try:
        return max(int(value), 0) // 2**20
    except ValueError:  # the group refuses non-numbers; the server would refuse one too
        return int(SYSTEM["innodb_buffer_pool_size"]) // 2**20


def _tuning(parameters: dict[str, str] | None) -> list[str]:
    """What every server runs with, then its group's values, which come last so that they win."""
    lines = [f"{name}={value}" for name, value in SYSTEM.items()]
    for name, value in (parameters or {}).items():
        lines.append(f"{OPTION_NAMES.get(name, name)}={_option_value(value)}")
    return lines


def _option_value(value: str) -> str:
    """A value as an option file reads it back: quoted, with its backslashes kept (values may hold no
    control character or double quote: model/parameters.py refuses them)."""
    return '"' + value.replace("\\", "\\\\") + '"'
