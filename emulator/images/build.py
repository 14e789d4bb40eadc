"""Building the guest template from Debian's packages, as the 2013 recipe did by hand: a minimal root
filesystem with the MariaDB server, a kernel for direct boot (PVH needs the uncompressed ELF) and a small
busybox initramfs. Needs root (debootstrap, chroot). Built aside and renamed into the cache when whole, so a
build cut short is never taken for an image."""

import contextlib
import fcntl
import json
import lzma
import os
import pathlib
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from emulator.engines import tools
from emulator.images import cache, cpio, recipe
from emulator.model.engine_versions import EngineVersion

# Debian's mysql-server-core makes no account for its server (mysql-server's scripts would)
ACCOUNT = ("getent passwd mysql >/dev/null || { groupadd --system mysql && useradd --system --gid mysql "
           "--home-dir /nonexistent --shell /usr/sbin/nologin mysql; }")

# A step's name, for the progress display, and what it does in the staging folder.
Step = tuple[str, Callable[[pathlib.Path], None]]
Progress = Callable[[int, int, str, float], None]
T = TypeVar("T")
# Compressed kernels start their payload with one of these (Debian's cloud kernel: LZ4).
_PAYLOADS = [(b"\x02\x21\x4c\x18", ["lz4", "-dc"]), (b"\xfd7zXZ\x00", None),
             (b"\x28\xb5\x2f\xfd", ["zstd", "-dcq"])]


# debootstrap and apt-get from the mirror take a minute or two each here; a slow mirror, more.
STEP_TIMEOUT = 1800.0
# Where Debian's security updates are served (the `<suite>-security` suites).
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
APT_ENV = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}


class BuildError(Exception):
    """The image could not be built; the message says which step and why."""


class Cancelled(Exception):
    """The build was told to stop (the emulator is shutting down); its staging is removed."""


def ensure(cache_dir: pathlib.Path, progress: Progress | None = None, row: EngineVersion | None = None
           ) -> cache.Image:
    """The image of the current recipe of an engine version (the default's when None): the cached one, or a
    new build."""
    fingerprint = recipe.fingerprint(row)
    row = row or recipe.DEFAULT

    def finish(staging: pathlib.Path, seconds: float) -> None:
        _manifest(staging, fingerprint, seconds, recipe.recipe(row), row)
        shutil.rmtree(staging / "tree")
        shutil.rmtree(staging / "initramfs")

    return built_once(cache.images_dir(cache_dir), fingerprint, lambda: cache.find(cache_dir, fingerprint),
                      _steps(recipe.recipe(row), fingerprint, row), finish, progress)


def built_once(folder: pathlib.Path, name: str, find: Callable[[], T | None], steps: list[Step],
               finish: Callable[[pathlib.Path, float], None], progress: Progress | None) -> T:
    """What `find` finds, or else `folder`/`name` built by `steps` in a staging folder beside it (then
    `finish`, told the seconds it took), renamed into place when whole. One build at a time: a second waits,
    then finds the first's; what a build cut short left is removed first."""
    found = find()
    if found is not None:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".building", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = find()
        if found is not None:
            return found
        for leftover in folder.glob(".staging-*"):
            remove_staging(leftover)
        staging = pathlib.Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
        try:
            started = time.monotonic()
            for number, (step, run) in enumerate(steps, 1):
                if progress:
                    progress(number, len(steps), step, time.monotonic() - started)
                run(staging)
            finish(staging, time.monotonic() - started)
            staging.chmod(0o755)
            staging.rename(folder / name)
        finally:
            remove_staging(staging)
    found = find()
    assert found is not None
    return found


def _steps(made: dict[str, Any], fingerprint: str, row: EngineVersion) -> list[Step]:
    return [
        (f"debootstrap a minimal Debian {made['suite']}", partial(_debootstrap, made=made)),
        (f"install {row.flavor} and a kernel", partial(_install, made=made)),
        ("size the server's redo log" if row.flavor == "MariaDB" else "initialize the data directory",
         partial(_redo_log, made=made, row=row)),
        ("add the guest's init", partial(_init, fingerprint=fingerprint)),
        ("extract the kernel for direct boot", _kernel),
        ("build the initramfs", partial(_initramfs, made=made)),
        ("trim the tree", partial(_trim, made=made)),
        ("make the root filesystem", partial(_root_fs, made=made)),
    ]


def _debootstrap(staging: pathlib.Path, made: dict[str, Any]) -> None:
    run_step("debootstrap", own_mounts(["debootstrap", f"--variant={made['variant']}", made["suite"],
                                        str(staging / "tree"), made["mirror"]]))


def own_mounts(command: list[str]) -> list[str]:
    """The command in a mount namespace of its own: what it mounts in the tree (debootstrap mounts /proc
    there) goes with it, also when it is killed half-way."""
    return ["unshare", "--mount", "--propagation", "private", "--", *command]


def remove_staging(staging: pathlib.Path) -> None:
    """A staging folder an interrupted build left, with whatever is still mounted under it (a build of an
    older release, killed, left /proc mounted in its tree): unmounted first, the deepest first."""
    inside = str(staging.resolve()) + "/"
    mounted = [line.split()[4] for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines()]
    for point in sorted((point for point in mounted if point.startswith(inside)), key=len, reverse=True):
        with contextlib.suppress(tools.ToolFailed, OSError):
            tools.run(["umount", "--lazy", point])
    shutil.rmtree(staging, ignore_errors=True)


def _install(staging: pathlib.Path, made: dict[str, Any]) -> None:
    tree = staging / "tree"
    with no_services(tree):
        security_sources(tree, made.get("security"))
        run_step("apt-get install", ["chroot", str(tree), "apt-get", "install", "-y", "-q", "--no-install-recommends",
                                     *made["packages"]], env=APT_ENV)


def security_sources(tree: pathlib.Path, suite: str | None) -> None:
    """Debian's security updates of the tree's suite among its package sources (a stable suite's servers get
    their security releases there), read anew; nothing for a suite without them."""
    if suite is None:
        return
    (tree / "etc/apt/sources.list.d/security.list").write_text(f"deb {SECURITY_MIRROR} {suite} main\n")
    run_step("apt-get update", ["chroot", str(tree), "apt-get", "update", "-q"], env=APT_ENV)


@contextlib.contextmanager
def no_services(tree: pathlib.Path) -> Iterator[None]:
    """No package script may start a server meanwhile: on the host, a chroot's mariadbd would be a real one."""
    guard = tree / "usr/sbin/policy-rc.d"
    guard.write_text("#!/bin/sh\nexit 101\n")
    guard.chmod(0o755)
    try:
        yield
    finally:
        guard.unlink()


def _redo_log(staging: pathlib.Path, made: dict[str, Any], row: EngineVersion) -> None:
    if row.flavor == "MySQL":  # its package makes neither the account nor the data directory
        tree = str(staging / "tree")
        run_step("add the server's account", ["chroot", tree, "sh", "-c", ACCOUNT])
        run_step("mysqld --initialize-insecure", [
            "chroot", tree, "/" + row.daemon, "--no-defaults", "--initialize-insecure", "--user=mysql",
            "--datadir=/var/lib/mysql", "--innodb-buffer-pool-size=16M",
            f"--innodb-redo-log-capacity={made['redo_log']}"])
        # the server names itself (server_uuid, its GTIDs' source) in auto.cnf at its first start: in each
        # guest, not once for every guest of the image
        (staging / "tree/var/lib/mysql/auto.cnf").unlink(missing_ok=True)
        return
    # bootstrap mode: no network, SQL from stdin (none); InnoDB starts, resizes its log, and shuts down cleanly
    run_step("mariadbd --bootstrap", ["chroot", str(staging / "tree"), "mariadbd", "--bootstrap", "--user=mysql",
                                  "--skip-networking", "--innodb-buffer-pool-size=16M",
                                  f"--innodb-log-file-size={made['redo_log']}"], stdin="")


def _init(staging: pathlib.Path, fingerprint: str) -> None:
    for name in ("rds-init", "rds-job"):
        target = staging / "tree/sbin" / name
        shutil.copyfile(recipe.GUEST / name, target)
        target.chmod(0o755)
    # the running guest says which image it is (a system update checks that it moved)
    (staging / "tree/etc/rds-image").write_text(fingerprint + "\n")


def _kernel(staging: pathlib.Path) -> None:
    (compressed,) = (staging / "tree/boot").glob("vmlinuz-*")
    (staging / cache.KERNEL).write_bytes(vmlinux(compressed.read_bytes()))
    (staging / "kernel-version").write_text(compressed.name.removeprefix("vmlinuz-"))


def vmlinux(bzimage: bytes) -> bytes:
    """The uncompressed ELF inside a compressed kernel image, which PVH boots without a BIOS."""
    for magic, command in _PAYLOADS:
        start = bzimage.find(magic)
        if start < 0:
            continue
        if command is None:
            try:
                data = lzma.LZMADecompressor().decompress(bzimage[start:])
            except lzma.LZMAError:  # the magic by chance, not the payload
                continue
        else:  # the decompressor complains of what follows the payload: only its output counts
            try:
                data = tools.run(command, input=bzimage[start:])
            except tools.ToolFailed as failed:
                data = failed.output
        if data.startswith(b"\x7fELF"):
            return data
    raise BuildError("extract the kernel: no LZ4, XZ or zstd payload holding an ELF kernel was found")


def _initramfs(staging: pathlib.Path, made: dict[str, Any]) -> None:
    tree, root = staging / "tree", staging / "initramfs"
    version = (staging / "kernel-version").read_text()
    for folder in ("bin", "dev", "proc", "sys", "newroot", "lib/modules"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy2(tree / "bin/busybox", root / "bin/busybox")
    shutil.copy2(recipe.GUEST / "init", root / "init")
    loaded: dict[str, bytes] = {}
    modules = tree / "lib/modules" / version
    builtin = set((modules / "modules.builtin").read_text().split()) if (modules / "modules.builtin").exists() \
        else set()
    for module in made["modules"]:
        if module in builtin:  # a newer kernel has it built in
            continue
        loaded[pathlib.Path(module).name] = _module(modules, module)
    for name, data in loaded.items():
        (root / "lib/modules" / name).write_bytes(data)
    (root / "lib/modules/load.order").write_text("\n".join(load_order(loaded)) + "\n")
    (staging / cache.INITRD).write_bytes(cpio.archive(root))


def load_order(modules: dict[str, bytes]) -> list[str]:
    """The modules (file name: contents) in the recipe's order, each after those it names as its dependencies:
    a kernel update may add one (bookworm's 6.1.0-57 made virtio need virtio_ring, which the recipe lists
    after it), and busybox's insmod loads one file as it is told."""
    needs = {name: [f"{dep}.ko" for dep in _depends(data)] for name, data in modules.items()}
    order: list[str] = []

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in order or name not in needs or name in path:  # a cycle is the kernel's to refuse
            return
        for dep in needs[name]:
            place(dep, (*path, name))
        order.append(name)

    for name in modules:
        place(name, ())
    return order


def _depends(module: bytes) -> list[str]:
    """The modules a module's own .modinfo says it depends on."""
    found = re.search(rb"(?:^|\0)depends=([^\0]*)", module)
    return [dep.decode().replace("-", "_") for dep in found.group(1).split(b",") if dep] if found else []


def _module(modules: pathlib.Path, module: str) -> bytes:
    """A module as busybox's insmod loads it: newer suites ship them compressed (xz, zstd)."""
    plain = modules / module
    if plain.exists():
        return plain.read_bytes()
    if (packed := plain.with_name(plain.name + ".xz")).exists():
        return lzma.decompress(packed.read_bytes())
    if (packed := plain.with_name(plain.name + ".zst")).exists():
        return tools.run(["zstd", "-dcq", str(packed)])
    raise BuildError(f"build the initramfs: the kernel has no module {module}")


def _trim(staging: pathlib.Path, made: dict[str, Any]) -> None:
    tree = staging / "tree"
    for folder in [*made["trim"], "lib/modules"]:
        shutil.rmtree(tree / folder, ignore_errors=True)


def _root_fs(staging: pathlib.Path, made: dict[str, Any]) -> None:
    tree = staging / "tree"
    used = int(tools.run(["du", "-sm", str(tree)]).split()[0])
    size = used + used // 4 + made["spare_mib"]
    run_step("mkfs.ext4", ["mkfs.ext4", "-q", "-F", "-L", "rds-root", "-d", str(tree), str(staging / cache.ROOT_FS),
                       f"{size}M"])
    for item in (cache.ROOT_FS, cache.KERNEL, cache.INITRD):
        (staging / item).chmod(0o644)  # libvirt's QEMU runs as another user


def _manifest(staging: pathlib.Path, fingerprint: str, seconds: float, made: dict[str, Any],
              row: EngineVersion) -> None:
    version = tools.run(["chroot", str(staging / "tree"), "/" + row.daemon, "--version"]).decode().strip()
    manifest = {
        "fingerprint": fingerprint,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 1),
        "kernel": (staging / "kernel-version").read_text(),
        "server": version,
        "recipe": made,
    }
    (staging / cache.MANIFEST).write_text(json.dumps(manifest, indent=2))
    (staging / "kernel-version").unlink()


def run_step(step: str, command: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> None:
    try:
        tools.run(command, input=stdin.encode() if stdin is not None else None, env=env, timeout=STEP_TIMEOUT)
    except tools.ToolFailed as failed:
        raise BuildError(f"{step} failed: {failed}") from None
    except OSError as error:  # the tool is missing: `make setup` installs it
        raise BuildError(f"{step} could not run {command[0]}: {error.strerror}") from None
