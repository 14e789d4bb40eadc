"""Running a server from its engine version's tree (images/server_tree.py): under chroot, in a mount
namespace of its own where the instance's folder is bound at /rds. Inside, every path the server is given
is under /rds; outside, the same files are the instance's folder, where the emulator reads its socket, its
pid file and its logs. The namespace, and the binding with it, ends with the server."""

import pathlib
from collections.abc import Sequence

# Where the instance's folder is bound inside the tree (the tree's build makes the folder).
MOUNT = "/rds"
# $0: the instance's folder, $1: the tree, then the server's command line
_ENTER = f'mount --bind -- "$0" "$1{MOUNT}" && root=$1 && shift && exec chroot -- "$root" "$@"'


def command(tree: pathlib.Path, home: pathlib.Path, argv: Sequence[str]) -> list[str]:
    """`argv` (paths as the server sees them: under /rds) run in `tree` with `home` at /rds."""
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", _ENTER, str(home), str(tree),
            *argv]


def server_user(tree: pathlib.Path) -> tuple[int, int]:
    """The uid and gid of the tree's `mysql` account, which its server runs as and its files belong to (the
    host may have no such account, or another number for it)."""
    for line in (tree / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "mysql":
            return int(fields[2]), int(fields[3])
    raise LookupError(f"the tree {tree} has no mysql account")

