"""A server tree: an engine version's server and tools, installed from its Debian suite into a root
filesystem of their own, with a ready, initialized data directory beside them. Servers run from it under
chroot (engines/in_tree.py), so an instance's version is the image's, never the host's. Built aside and
renamed into the cache when whole, under a lock, as the guest image is (build.py)."""

import contextlib
import hashlib
import json
import pathlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from emulator.engines import clone, encryption, in_tree, server, tools
from emulator.images import build, cache
from emulator.model.engine_versions import EngineVersion

MIRROR = "http://deb.debian.org/debian"
# Raised when what a tree of that flavor holds changes for the same packages: each build's fingerprint includes
# its flavor's.
REVISION = {"MariaDB": 3, "MySQL": 5}
# Inside the tree: the ready data directory a new instance's is copied from.
READY_DATA = "var/lib/rds-ready"
# Inside a tree being built: the work folder of the server its ready backup is made from.
_WORK = "/var/lib/rds-ready-backup"
# Beside the tree: a hot backup of the ready data directory, made once by the engine's own tool (mariadb-backup's
# stream, MySQL's CLONE packed as its backups are), which a new instance's first automated backup is when its
# server holds nothing more than a new one does.
READY_BACKUP = {"MariaDB": "ready-backup.mbstream", "MySQL": "ready-backup.tar"}
# The redo log the ready data directory is made with: the size servers run with (model/parameters.SYSTEM),
# under each flavor's own name for it (MySQL sizes it as one capacity since 8.0.30)
REDO_LOG = {"MariaDB": "--innodb-log-file-size=8M", "MySQL": "--innodb-redo-log-capacity=8M"}
# What a server never reads; kept out of the tree. (usr/share/mysql holds its messages and charsets.)
TRIM = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt",
        "var/lib/apt/lists")


@dataclass(frozen=True)
class ServerTree:
    path: pathlib.Path
    manifest: dict

    @property
    def root(self) -> pathlib.Path:
        return self.path / "tree"

    @property
    def version(self) -> str:
        """What the server says it is: "9.7.4", "11.8.3"."""
        return self.manifest["version"]

    @property
    def ready_data(self) -> pathlib.Path:
        return self.root / READY_DATA

    @property
    def ready_backup(self) -> pathlib.Path | None:
        return next((path for name in READY_BACKUP.values() if (path := self.path / name).exists()), None)

    def size(self) -> int:
        return sum(item.lstat().st_blocks * 512 for item in self.path.rglob("*"))


def trees_dir(cache_dir: pathlib.Path) -> pathlib.Path:
    return cache_dir / "servers"


def fingerprint(version: EngineVersion) -> str:
    recipe = {"engine": version.engine, "major": version.major, "suite": version.suite, "security": version.security,
              "packages": list(version.packages), "mirror": MIRROR, "trim": list(TRIM),
              "redo_log": REDO_LOG[version.flavor], "revision": REVISION[version.flavor]}
    return f"{version.engine}-{version.major}-" + hashlib.sha256(
        json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def find(cache_dir: pathlib.Path, version: EngineVersion) -> ServerTree | None:
    return _at(trees_dir(cache_dir) / fingerprint(version))


def listing(cache_dir: pathlib.Path) -> list[ServerTree]:
    return [tree for path in sorted(trees_dir(cache_dir).glob("*")) if (tree := _at(path)) is not None]


def _at(path: pathlib.Path) -> ServerTree | None:
    manifest = cache.manifest_at(path)
    return ServerTree(path, manifest) if manifest is not None else None


def ensure(cache_dir: pathlib.Path, version: EngineVersion, progress: build.Progress | None = None) -> ServerTree:
    """The tree of `version`: the cached one, or a new build (needs root: debootstrap, chroot)."""
    steps: list[build.Step] = [
        (f"debootstrap Debian {version.suite} with {version.name}", partial(_debootstrap, version=version)),
        *([(f"Debian's security updates ({version.security})", partial(_security_updates, version=version))]
          if version.security else []),
        ("trim the tree, add what a server needs", partial(_settle, version=version)),
        (f"initialize a ready data directory with {version.flavor}'s own tool", partial(_ready_data, version=version)),
    ]
    if version.flavor == "MariaDB":
        steps.append(("a hot backup of the ready data directory, with mariadb-backup", _ready_backup))
    else:
        steps.append(("a CLONE of the ready data directory", partial(_ready_clone, version=version)))
    return build.built_once(trees_dir(cache_dir), fingerprint(version), lambda: find(cache_dir, version), steps,
                            partial(_manifest, version=version), progress)


def _debootstrap(staging: pathlib.Path, version: EngineVersion) -> None:
    # unstable's Release file may be past its Valid-Until date on a mirror: debootstrap does not check it,
    # and nothing in the tree runs apt afterwards
    build.run_step("debootstrap", build.own_mounts([
        "debootstrap", "--variant=minbase", f"--include={','.join(version.packages)}", version.suite,
        str(staging / "tree"),
        MIRROR]))


def _security_updates(staging: pathlib.Path, version: EngineVersion) -> None:
    """What debootstrap installed from the suite, upgraded to its security releases."""
    tree = staging / "tree"
    with build.no_services(tree):
        build.security_sources(tree, version.security)
        build.run_step("apt-get upgrade", ["chroot", str(tree), "apt-get", "upgrade", "-y", "-q"], env=build.APT_ENV)


def _settle(staging: pathlib.Path, version: EngineVersion) -> None:
    """What a server never reads goes; what it needs and debootstrap leaves out comes: /etc/hosts (without
    localhost, mariadb-install-db stops)."""
    tree = staging / "tree"
    for folder in TRIM:
        shutil.rmtree(tree / folder, ignore_errors=True)
    (tree / "etc/hosts").write_text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    if version.flavor == "MySQL":
        encryption.global_manifests(tree, version.daemon)


def _ready_data(staging: pathlib.Path, version: EngineVersion) -> None:
    """A data directory as the server makes it, system tables and all, with the tuning every server runs with
    (its redo log's size among them): a new instance copies it instead of waiting for the initialization."""
    datadir = "/" + READY_DATA
    tuning = ["--innodb-buffer-pool-size=16M", REDO_LOG[version.flavor]]
    if version.flavor == "MySQL":
        command = ["/" + version.daemon, "--no-defaults", "--initialize-insecure", "--user=mysql",
                   f"--datadir={datadir}", *tuning]
    else:
        command = ["mariadb-install-db", "--no-defaults", "--user=mysql", f"--datadir={datadir}",
                   "--auth-root-authentication-method=socket", "--skip-test-db", "--skip-name-resolve", *tuning]
    # mysql-server-core makes no account for its server (mysql-server's scripts would): made here if missing
    tree = str(staging / "tree")
    build.run_step("add the server's account", ["chroot", tree, "sh", "-c", build.ACCOUNT])
    build.run_step("initialize the data directory", ["chroot", tree, *command])


def _ready_backup(staging: pathlib.Path) -> None:
    """mariadb-backup's stream of a server started on a copy of the ready data directory."""
    backup = (f"mariadb-backup --backup --stream=mbstream --target-dir={_WORK}/t --user=root --socket={_WORK}/s "
              f"> {_WORK}/stream 2> {_WORK}/backup.log")
    with _on_ready_server(staging, "mariadb-backup of the ready data directory", "mariadbd", REDO_LOG["MariaDB"],
                          "mariadb-admin", backup) as work:
        (work / "stream").replace(staging / READY_BACKUP["MariaDB"])


def _ready_clone(staging: pathlib.Path, version: EngineVersion) -> None:
    """MySQL's CLONE of a server started on a copy of the ready data directory, packed as a MySQL instance's
    backups are (engines/clone.py)."""
    options = " ".join(["--log-bin=binlog", *(f"--{option}" for option in server.MYSQL_ONLY), "--secure-file-priv=",
                        REDO_LOG["MySQL"]])
    backup = f"mysql --socket={_WORK}/s --user=root -e \"CLONE LOCAL DATA DIRECTORY = '{_WORK}/clone'\""
    with _on_ready_server(staging, "CLONE of the ready data directory", "/" + version.daemon, options, "mysqladmin",
                          backup) as work, \
            open(staging / READY_BACKUP["MySQL"], "wb") as sink:
        clone.pack(work / "clone", sink, lambda _written: None)


@contextlib.contextmanager
def _on_ready_server(staging: pathlib.Path, step: str, daemon: str, options: str, admin: str,
                     backup: str) -> Iterator[pathlib.Path]:
    """`backup` (a shell command) run in the tree against its server (`daemon`, with the flavor's `options`)
    started on a copy of the ready data directory, in the tree's work folder, then stopped; `admin` is the flavor's
    administration client. Yields the work folder, where `backup` left what it made, before it is removed.
    A server that never answers is stopped before the step fails, not left running."""
    script = (
        f"rm -rf {_WORK} && mkdir -p {_WORK} && cp -a /{READY_DATA} {_WORK}/data && rm -f {_WORK}/data/auto.cnf "
        "|| exit 1; "
        f"{daemon} --no-defaults --user=root --datadir={_WORK}/data --socket={_WORK}/s --skip-networking "
        f"--innodb-buffer-pool-size=16M --log-error={_WORK}/error.log {options} & "
        f"i=0; until {admin} --socket={_WORK}/s --user=root ping > /dev/null 2>&1; do "
        "i=$((i + 1)); [ $i -lt 600 ] || { kill $!; wait; exit 1; }; sleep 0.1; done; "
        f"{backup}; status=$?; "
        f"{admin} --socket={_WORK}/s --user=root shutdown; wait; exit $status")
    tree = staging / "tree"
    try:
        build.run_step(step, in_tree.command(tree, [], ["sh", "-c", script]))
        yield tree / _WORK.lstrip("/")
    finally:
        shutil.rmtree(tree / _WORK.lstrip("/"), ignore_errors=True)


def _manifest(staging: pathlib.Path, seconds: float, version: EngineVersion) -> None:
    said = tools.run(["chroot", str(staging / "tree"), "/" + version.daemon, "--version"]).decode().strip()
    try:
        flavor, number = server.parse_version(said)
    except ValueError as error:
        raise build.BuildError(f"the tree's server did not say its version: {error}") from None
    if flavor != version.flavor:
        raise build.BuildError(f"the tree's server says it is {said!r}, not {version.flavor}")
    manifest = {"engine": version.engine, "major": version.major, "version": number, "server": said,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"), "build_seconds": round(seconds, 1),
                "suite": version.suite, "security": version.security, "packages": list(version.packages)}
    (staging / cache.MANIFEST).write_text(json.dumps(manifest, indent=2))
