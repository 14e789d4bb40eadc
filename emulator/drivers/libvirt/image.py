"""Which template image a guest's disk was made from. That image's kernel and initramfs are the ones that
boot the guest (a newer image's may not fit its root filesystem), and a guest on an older image than the
current one waits for a `system-update`. The image's fingerprint is recorded in the guest's home when its disk
is made; a home from before the record finds it at the end of its disk's backing chain."""

import json
import pathlib

from emulator.engines import tools
from emulator.images import cache

RECORD = "image"


def record(home: pathlib.Path, image: cache.Image) -> None:
    staging = home / f"{RECORD}.new"
    staging.write_text(image.fingerprint + "\n")
    staging.replace(home / RECORD)


def fingerprint(home: pathlib.Path, cache_dir: pathlib.Path) -> str | None:
    """The fingerprint of the image the guest's disk is on; None when it has no disk (yet)."""
    try:
        return (home / RECORD).read_text().strip()
    except FileNotFoundError:
        pass
    found = _from_backing_chain(home / "disk.qcow2", cache.images_dir(cache_dir).resolve())
    if found is not None:
        (home / RECORD).write_text(found + "\n")
    return found


def _from_backing_chain(disk: pathlib.Path, images: pathlib.Path) -> str | None:
    if not disk.exists():
        return None
    # -U: the guest that runs holds the disk's lock
    try:
        said = tools.run(["qemu-img", "info", "-U", "--backing-chain", "--output=json", str(disk)])
    except tools.ToolFailed:
        return None
    for layer in json.loads(said):
        path = pathlib.Path(layer.get("filename", "")).resolve()
        if path.is_relative_to(images):
            return path.relative_to(images).parts[0]
    return None
