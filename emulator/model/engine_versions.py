"""The engine versions this emulator can serve, as data: each is a server built from one Debian suite's
packages into a tree of its own (images/server_tree.py), so that what runs is the same whichever host runs
it. One row per major version; the minor is whatever the suite serves, read off the server once built."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineVersion:
    engine: str  # as RDS names it: "mysql", "mariadb"
    major: str  # "9.7", "11.8", "10.11"
    suite: str  # the Debian suite whose packages make it
    packages: tuple[str, ...]
    daemon: str  # the server's path inside the tree
    flavor: str  # what the server calls itself: "MySQL", "MariaDB"

    @property
    def family(self) -> str:
        """The parameter group family, as RDS names them: engine and major version."""
        return f"{self.engine}{self.major}"

    @property
    def name(self) -> str:
        return f"{self.engine} {self.major}"


MARIADB_PACKAGES = ("mariadb-server", "mariadb-client", "mariadb-backup")
VERSIONS = (
    EngineVersion("mariadb", "10.11", "bookworm", MARIADB_PACKAGES, "usr/sbin/mariadbd", "MariaDB"),
    EngineVersion("mariadb", "11.8", "trixie", MARIADB_PACKAGES, "usr/sbin/mariadbd", "MariaDB"),
    # Oracle's MySQL, as Debian packages it: only unstable carries it
    EngineVersion("mysql", "9.7", "sid", ("mysql-server-core", "mysql-client-core"), "usr/sbin/mysqld", "MySQL"),
)
# What a create that names no version gets, per engine, as RDS marks one version of each its default.
DEFAULTS = {"mariadb": "10.11", "mysql": "9.7"}


def of(engine: str, version: str | None) -> EngineVersion | None:
    """The row serving `version` of `engine` ("11.8" or "11.8.3": a major picks its newest minor, as on RDS,
    and a full version is served by its major's row); the engine's default when no version is named."""
    wanted = DEFAULTS.get(engine) if version is None else version
    if wanted is None:
        return None
    for row in VERSIONS:
        if row.engine == engine and (wanted == row.major or wanted.startswith(row.major + ".")):
            return row
    return None


def served(engine: str) -> list[str]:
    """The majors of `engine` this emulator serves, for a refusal's message."""
    return [row.major for row in VERSIONS if row.engine == engine]
