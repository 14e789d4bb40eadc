"""What a guest template is made of, as data: its fingerprint names the cached image, so that a change to
any of it (or to the guest's init scripts) makes a new image and nothing else does."""

import hashlib
import json
import pathlib
from typing import Any

from emulator.model import engine_versions
from emulator.model.engine_versions import EngineVersion

GUEST = pathlib.Path(__file__).with_name("guest")
RECIPE = {
    "suite": "bookworm",
    "mirror": "http://deb.debian.org/debian",
    # the suite's security updates, where its MariaDB's security releases come (engine_versions.py)
    "security": "bookworm-security",
    "variant": "minbase",
    # the server the catalogue of parameters describes (Debian 12's MariaDB 10.11), its hot backup tool, a
    # kernel for direct boot, and the few tools the guest's own init uses
    "packages": ["mariadb-server", "mariadb-client", "mariadb-backup", "linux-image-cloud-amd64", "busybox-static",
                 "e2fsprogs"],
    # the modules the initramfs loads, in this order, before it can mount the root disk
    "modules": [
        "kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko",
        "kernel/drivers/virtio/virtio_pci_legacy_dev.ko", "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
        "kernel/drivers/virtio/virtio_pci.ko", "kernel/drivers/block/virtio_blk.ko",
        "kernel/drivers/char/virtio_console.ko",
        "kernel/net/core/failover.ko", "kernel/drivers/net/net_failover.ko", "kernel/drivers/net/virtio_net.ko",
        "kernel/drivers/firmware/qemu_fw_cfg.ko",
    ],
    # what a server in a guest never reads: kept out of the image
    "trim": ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt",
             "var/lib/apt/lists", "boot", "usr/share/mysql/mroonga"],
    # the redo log the template's server is made with: the size the guests run with (engines/server.py), so
    # that no guest spends its first boot resizing it
    "redo_log": "8M",
    # free room in the root filesystem beyond what the tree takes; an instance's disk grows it further
    "spare_mib": 256,
    # raised when what an image holds changes for the same recipe (the build's own steps)
    "revision": 3,
}


# What a guest needs beside its engine's packages: a kernel for direct boot, and the tools its init uses.
GUEST_PACKAGES = ["linux-image-cloud-amd64", "busybox-static", "e2fsprogs"]
# The engine version RECIPE is made of; every other one's recipe is RECIPE with its suite and packages
# (guest/rds-init and guest/rds-job know both flavors).
DEFAULT = engine_versions.of("mariadb", "10.11")


def recipe(row: EngineVersion | None = None) -> dict[str, Any]:
    """The recipe of the guest image of an engine version: the default's, with the version's suite and
    packages."""
    if row is None or row == DEFAULT:
        return RECIPE
    return {**RECIPE, "suite": row.suite, "security": row.security, "packages": [*row.packages, *GUEST_PACKAGES]}


def fingerprint(row: EngineVersion | None = None) -> str:
    digest = hashlib.sha256(json.dumps(recipe(row), sort_keys=True).encode())
    for script in sorted(GUEST.iterdir()):
        digest.update(script.name.encode() + b"\0" + script.read_bytes())
    return digest.hexdigest()[:16]
