"""Where built guest images are kept (outside any clone, so that later runs and CI reuse them), and what
one holds: the root filesystem, the kernel for direct boot, its initramfs, and a manifest."""

import json
import pathlib
from dataclasses import dataclass

ROOT_FS, KERNEL, INITRD, MANIFEST = "rootfs.img", "vmlinux", "initrd.img", "manifest.json"


@dataclass(frozen=True)
class Image:
    path: pathlib.Path
    manifest: dict

    @property
    def fingerprint(self) -> str:
        return self.path.name

    @property
    def root_fs(self) -> pathlib.Path:
        return self.path / ROOT_FS

    @property
    def kernel(self) -> pathlib.Path:
        return self.path / KERNEL

    @property
    def initrd(self) -> pathlib.Path:
        return self.path / INITRD

    def size(self) -> int:
        """Bytes the image really takes on disk (the root filesystem is sparse)."""
        return sum(item.stat().st_blocks * 512 for item in self.path.iterdir())


def images_dir(cache_dir: pathlib.Path) -> pathlib.Path:
    return cache_dir / "images"


def find(cache_dir: pathlib.Path, fingerprint: str) -> Image | None:
    path = images_dir(cache_dir) / fingerprint
    manifest = manifest_at(path)
    return Image(path, manifest) if manifest is not None else None


def manifest_at(path: pathlib.Path) -> dict | None:
    """The manifest of what was built at `path` (a guest image, a server tree); None when there is none: a
    build writes it last, so a folder without one is not whole."""
    try:
        return json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def listing(cache_dir: pathlib.Path) -> list[Image]:
    found = []
    for path in sorted(images_dir(cache_dir).glob("*")):
        image = find(cache_dir, path.name) if path.is_dir() else None
        if image is not None:
            found.append(image)
    return found
