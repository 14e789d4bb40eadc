"""The engine versions this emulator can serve, as data: each is a server built from one Debian suite's
packages into a tree of its own (images/server_tree.py), so that what runs is the same whichever host runs
it. A major's first row is its current minor: whatever the suite (with its security updates) serves, read off
the server once built. A major may have an older minor beside it (the suite's point release without its
security updates), offered so that a minor version upgrade is a real one: another server over the same data."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineVersion:
    engine: str  # as RDS names it: "mysql", "mariadb"
    major: str  # "9.7", "11.8", "10.11"
    suite: str  # the Debian suite whose packages make it
    packages: tuple[str, ...]
    daemon: str  # the server's path inside the tree
    flavor: str  # what the server calls itself: "MySQL", "MariaDB"
    # The full version the suite served when this row was written: what is reported until the tree is built
    # (and by the none driver, which builds none); a server's own version replaces it once it runs.
    nominal: str
    # Debian's security updates of the suite, where its servers' security releases come (bookworm's MariaDB
    # 10.11.18 is 10.11.19 in bookworm-security); None for a suite without them (unstable).
    security: str | None = None
    # An older minor of a major whose current minor is another row: never a default, never what a major alone
    # picks, never what an automatic minor upgrade goes to.
    previous_minor: bool = False

    @property
    def family(self) -> str:
        """The parameter group family, as RDS names them: engine and major version."""
        return f"{self.engine}{self.major}"

    @property
    def name(self) -> str:
        return f"{self.engine} {self.asked_as}"

    @property
    def asked_as(self) -> str:
        """The EngineVersion a client names to get this row."""
        return self.nominal if self.previous_minor else self.major

    @property
    def key(self) -> str:
        """What a guest's disk records as the row it runs: unchanged when a newer minor of its suite is
        released (the nominal version changes then)."""
        return f"{self.family}/{self.suite}" + (f"+{self.security}" if self.security else "")


MARIADB_PACKAGES = ("mariadb-server", "mariadb-client", "mariadb-backup")
VERSIONS = (
    EngineVersion("mariadb", "10.11", "bookworm", MARIADB_PACKAGES, "usr/sbin/mariadbd", "MariaDB", "10.11.19",
                  security="bookworm-security"),
    EngineVersion("mariadb", "10.11", "bookworm", MARIADB_PACKAGES, "usr/sbin/mariadbd", "MariaDB", "10.11.18",
                  previous_minor=True),
    EngineVersion("mariadb", "11.8", "trixie", MARIADB_PACKAGES, "usr/sbin/mariadbd", "MariaDB", "11.8.9",
                  security="trixie-security"),
    # Oracle's MySQL, as Debian packages it: only unstable carries it
    EngineVersion("mysql", "9.7", "sid", ("mysql-server-core", "mysql-client-core"), "usr/sbin/mysqld", "MySQL",
                  "9.7.4"),
)
# What a create that names no version gets, per engine, as RDS marks one version of each its default.
DEFAULTS = {"mariadb": "10.11", "mysql": "9.7"}


def of(engine: str, version: str | None) -> EngineVersion | None:
    """The row serving `version` of `engine` ("11.8" or "11.8.3": a major picks its current minor, as on
    RDS; a full version is its own row's, or else its major's current one); the engine's default when no
    version is named."""
    wanted = DEFAULTS.get(engine) if version is None else version
    if wanted is None:
        return None
    rows = [row for row in VERSIONS if row.engine == engine and (wanted == row.major
                                                                  or wanted.startswith(row.major + "."))]
    return next((row for row in rows if row.nominal == wanted), None) or next(
        (row for row in rows if not row.previous_minor), None)


def current_minor(row: EngineVersion) -> EngineVersion | None:
    """The current minor of the row's major: what an automatic minor upgrade goes to."""
    return of(row.engine, row.major)


def current() -> list[EngineVersion]:
    """Each major's current minor: what an engine version's bench, build-all and catalogue read work on."""
    return [row for row in VERSIONS if not row.previous_minor]


# The family releases before engine images gave `mysql` groups, whose values MariaDB 10.11 ran.
LEGACY_FAMILIES = {"mysql8.0": "mariadb10.11"}


def of_family(family: str) -> EngineVersion | None:
    """The row whose server a group of `family` configures."""
    family = LEGACY_FAMILIES.get(family, family)
    return next((row for row in current() if row.family == family), None)


def serving(engine: str, version: str) -> EngineVersion | None:
    """The row whose server runs an instance recorded with `version` of `engine`. Releases before engine
    images served `mysql` with the host's MariaDB: such an instance's data is MariaDB's, and stays on it."""
    row = of(engine, version)
    if row is None and engine == "mysql":
        return of("mariadb", version)
    return row


def served(engine: str) -> list[str]:
    """The majors of `engine` this emulator serves, for a refusal's message."""
    return [row.major for row in current() if row.engine == engine]
