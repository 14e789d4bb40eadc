"""Running a server, or one of its engine's tools, from its engine version's tree (images/server_tree.py):
under chroot, in a mount namespace of its own where the host's folders it works in are bound at their own
paths. Inside and outside, every path is the same, so that nothing the emulator writes (an option file, a
socket's path, a work folder) needs translating. The namespace, and its bindings, end with the program."""

import pathlib
from collections.abc import Sequence

# $0: the tree; then the folders to bind, each at its own path inside the tree; "--"; the command. A folder's
# mount point is made in the tree if missing; the tree's /tmp is a tmpfs of the namespace's own first, so that
# the mount points of folders under /tmp (the sockets', a test's data directory) go with it rather than pile
# up in the shared tree (others are left behind, empty). /proc is mounted too: mariadb-backup crashes without
# it.
_ENTER = ('root=$0; mount -t proc proc "$root/proc" && mount -t tmpfs -o mode=1777 tmpfs "$root/tmp" || exit 125; '
          'while [ "$1" != -- ]; do '
          'mkdir -p -- "$root$1" && mount --bind -- "$1" "$root$1" || exit 125; shift; done; shift; '
          'exec chroot -- "$root" "$@"')


def command(tree: pathlib.Path, shared: Sequence[pathlib.Path], argv: Sequence[str]) -> list[str]:
    """`argv` run in `tree`, with each of `shared` (absolute host folders) reachable at its own path."""
    folders = [str(folder.resolve()) for folder in shared]
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", _ENTER, str(tree), *folders,
            "--", *argv]


def server_user(tree: pathlib.Path) -> tuple[int, int]:
    """The uid and gid of the tree's `mysql` account, which its ready data directory belongs to (the host may
    have no such account, or another number for it)."""
    for line in (tree / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "mysql":
            return int(fields[2]), int(fields[3])
    raise LookupError(f"the tree {tree} has no mysql account")
