"""A MySQL-family server: what it says it is, how it is configured, and the hashes of its passwords."""

import hashlib
import os
import re

from emulator.engines import encryption
from emulator.model.options import PLUGIN
from emulator.model.parameters import SYSTEM, system

# Variables a configuration file sets under another name than their own.
OPTION_NAMES = {"tx_isolation": "transaction_isolation", "time_zone": "default_time_zone"}
# What a MySQL server runs with beyond what MariaDB needs: no X Protocol listener (a second port, which
# RDS does not open); the CLONE plugin, its hot backup; and transactions numbered by GTIDs, by which a
# point-in-time restore skips what the clone already holds (a clone records no binary log position).
# MySQL's clone (its hot backups) and semi-synchronous replication (Multi-AZ) are plugins: loaded at every
# start, never installed (a standby's super_read_only would refuse INSTALL PLUGIN)
MYSQL_ONLY = ["mysqlx=OFF", "plugin-load-add=mysql_clone.so", "plugin-load-add=semisync_source.so",
              "plugin-load-add=semisync_replica.so", "gtid-mode=ON", "enforce-gtid-consistency=ON"]


def parse_version(text: str) -> tuple[str, str]:
    """`mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 ...` -> ("MariaDB", "10.11.19"); ValueError for a text that
    names no version."""
    match = re.search(r"(\d+\.\d+\.\d+)", text)
    if not match:
        raise ValueError(f"no server version in {text[:100]!r}")
    return ("MariaDB" if "mariadb" in text.lower() else "MySQL"), match.group(1)


def password_hash(flavor: str, password: str) -> str:
    """What the emulator keeps and passes on instead of the password: MariaDB's mysql_native_password
    hash, or MySQL's caching_sha2_password one (MySQL 9 has no other)."""
    return caching_sha2_hash(password) if flavor == "MySQL" else native_password_hash(password)


def native_password_hash(password: str) -> str:
    """The server's own mysql_native_password hash."""
    digest = hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest()
    return "*" + digest.upper()


# caching_sha2_password's stored form: "$A$" + rounds/1000 in three digits + "$" + a 20-byte salt + the
# SHA-256 crypt digest of 43 characters (crypt's own base-64, made by sha256_crypt without its "$5$" frame)
_SALT_CHARACTERS = bytes(range(0x21, 0x7F)).replace(b"$", b"")
_CRYPT64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ROUNDS = 5000


def caching_sha2_hash(password: str, salt: bytes | None = None) -> str:
    """MySQL's caching_sha2_password authentication string for `password`, as the server itself makes it
    (set with IDENTIFIED WITH caching_sha2_password AS 0x<hex>)."""
    salt = salt or bytes(_SALT_CHARACTERS[b % len(_SALT_CHARACTERS)] for b in os.urandom(20))
    digest = _sha256_crypt(password.encode(), salt, _ROUNDS)
    return "$A$" + f"{_ROUNDS // 1000:03d}" + "$" + salt.decode() + digest


def _sha256_crypt(key: bytes, salt: bytes, rounds: int) -> str:
    """SHA-crypt (Ulrich Drepper's specification) with SHA-256: its 43-character digest."""
    sha = hashlib.sha256
    alternate = sha(key + salt + key).digest()
    first = sha(key + salt + _repeat(alternate, len(key)))
    length = len(key)
    while length:
        first.update(alternate if length & 1 else key)
        length >>= 1
    digest = first.digest()
    p_bytes = _repeat(sha(key * len(key)).digest(), len(key))
    s_bytes = _repeat(sha(salt * (16 + digest[0])).digest(), len(salt))
    for round_ in range(rounds):
        step = sha(p_bytes if round_ & 1 else digest)
        if round_ % 3:
            step.update(s_bytes)
        if round_ % 7:
            step.update(p_bytes)
        step.update(digest if round_ & 1 else p_bytes)
        digest = step.digest()
    return _crypt_base64(digest)


def _repeat(block: bytes, length: int) -> bytes:
    return (block * (length // len(block) + 1))[:length]


# the byte triples SHA-256 crypt encodes, in its order, then the last two bytes
_ORDER = [(0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14), (15, 25, 5), (6, 16, 26),
          (27, 7, 17), (18, 28, 8), (9, 19, 29)]


def _crypt_base64(digest: bytes) -> str:
    out = []
    for a, b, c in _ORDER:
        out.append(_encode((digest[a] << 16) | (digest[b] << 8) | digest[c], 4))
    out.append(_encode((digest[31] << 8) | digest[30], 3))
    return "".join(out)


def _encode(value: int, count: int) -> str:
    chars = []
    for _ in range(count):
        chars.append(_CRYPT64[value & 0x3F])
        value >>= 6
    return "".join(chars)


def my_cnf(
    *, datadir: str, tmpdir: str, socket: str, pid_file: str, log_error: str, host: str, port: int, user: str,
    server_id: int = 1, flavor: str = "MariaDB", logs: dict[str, str] | None = None,
    parameters: dict[str, str] | None = None, options: dict[str, str] | None = None, key_file: str | None = None,
    tls: dict[str, str] | None = None,
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
        f"server_id={server_id}",
        "skip-name-resolve",
        "log-bin=binlog",
    ]
    if flavor == "MySQL":
        lines += MYSQL_ONLY + [f"secure-file-priv={tmpdir}"]
    lines += _replication(flavor) + [f"{name}={value}" for name, value in (logs or {}).items()]
    lines += encryption.cnf_lines(key_file, flavor) if key_file else []
    lines += [f"{name}={path}" for name, path in (tls or {}).items()]
    return "\n".join(lines + _option_lines(options or {}) + _tuning(parameters, flavor)) + "\n"


def _option_lines(variables: dict[str, str]) -> list[str]:
    """An option group's settings (engines/plugins.py), `loose-` so that a server without their plugin starts
    all the same; the plugins themselves are installed over SQL, not named here."""
    return [f"loose-{name}={value}" for name, value in sorted(variables.items()) if not name.startswith(PLUGIN)]


def guest_cnf(parameters: dict[str, str] | None = None, port: int = 3306, server_id: int = 1,
              flavor: str = "MariaDB") -> str:
    """A guest's server: Debian's own paths; listening on the guest's address, which only the forwarded
    port (or the bridge) reaches; its logs on the ports its init links under /run/rds/logs, which is also
    the one place SQL may write files (the emulator leaves the next configuration there). A MySQL guest's
    server reads this file alone (Debian's mysql-server-core brings no configuration), so it names its paths."""
    lines = ["[mysqld]", "bind-address=0.0.0.0", f"port={port}", f"server_id={server_id}", "skip-name-resolve",
             "log-bin=binlog",
             "log_error=/run/rds/logs/error.log", "slow_query_log_file=/run/rds/logs/slowquery.log",
             "general_log_file=/run/rds/logs/general.log", "secure_file_priv=/run/rds"]
    if flavor == "MySQL":
        lines += [*MYSQL_ONLY, "datadir=/var/lib/mysql", "socket=/run/mysqld/mysqld.sock",
                  "pid-file=/run/mysqld/mysqld.pid"]
    return "\n".join(lines + _replication(flavor) + _tuning(parameters, flavor)) + "\n"


def _replication(flavor: str) -> list[str]:
    """Replication runs only where the emulator starts it (a read replica), never in a copy of a replica's
    data (a restore of its snapshot) by itself; log-slave-updates is MySQL's default: a replica's binary log
    holds what it applied, for its backups."""
    if flavor == "MySQL":
        return ["skip-replica-start"]
    return ["log-slave-updates", "skip-slave-start"]


def buffer_pool_mib(parameters: dict[str, str]) -> int:
    """The InnoDB buffer pool (MiB) a server of these values runs with: what, beyond its fixed overhead, it
    comes to hold as it works."""
    value = parameters.get("innodb_buffer_pool_size", SYSTEM["innodb_buffer_pool_size"])
    try:
        return max(int(value), 0) // 2**20
    except ValueError:  # the group refuses non-numbers; the server would refuse one too
        return int(SYSTEM["innodb_buffer_pool_size"]) // 2**20


def _tuning(parameters: dict[str, str] | None, flavor: str) -> list[str]:
    """What every server runs with, then its group's values, which come last so that they win."""
    lines = [f"{name}={value}" for name, value in system(flavor).items()]
    for name, value in (parameters or {}).items():
        lines.append(f"{OPTION_NAMES.get(name, name)}={_option_value(value)}")
    return lines


def _option_value(value: str) -> str:
    """A value as an option file reads it back: quoted, with its backslashes kept (values may hold no
    control character or double quote: model/parameters.py refuses them)."""
    return '"' + value.replace("\\", "\\\\") + '"'
