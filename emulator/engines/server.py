"""The MySQL-family server installed on this machine: where it is, what it is, how it is configured."""

import functools
import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass

# The version reported when no server is installed (the `none` driver on a bare machine).
NOMINAL = ("MariaDB", "10.11.6")


@dataclass(frozen=True)
class ServerBinary:
    flavor: str  # "MariaDB" or "MySQL"
    version: str  # "10.11.19"
    server: str | None  # path of mariadbd / mysqld, None when nothing is installed
    install_db: str | None


@functools.cache
def installed() -> ServerBinary:
    for name in ("mariadbd", "mysqld"):
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
        if path:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
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


def my_cnf(*, datadir: str, socket: str, pid_file: str, log_error: str, host: str, port: int, user: str) -> str:
    """A small server: 16 MB buffer pool, no performance schema, no binary log, loopback only."""
    return "\n".join(
        [
            "[mysqld]",
            f"datadir={datadir}",
            f"socket={socket}",
            f"pid-file={pid_file}",
            f"log-error={log_error}",
            f"bind-address={host}",
            f"port={port}",
            f"user={user}",
            "skip-name-resolve",
            "skip-log-bin",
            "performance_schema=OFF",
            "innodb_buffer_pool_size=16M",
            "innodb_log_file_size=8M",
            "max_connections=100",
            "",
        ]
    )
