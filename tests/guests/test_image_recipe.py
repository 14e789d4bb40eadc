"""The image's parts that need no build: the initramfs archive, the kernel's payload, the fingerprint."""

import lzma
import shutil
import subprocess

import pytest

from emulator.images import build, cpio, recipe


def read_newc(data: bytes) -> dict[str, tuple[int, bytes]]:
    """name -> (mode, contents), read back the way the kernel reads an initramfs."""
    found, offset = {}, 0
    while True:
        assert data[offset:offset + 6] == b"070701"
        fields = [int(data[offset + 6 + 8 * n: offset + 14 + 8 * n], 16) for n in range(13)]
        mode, size, name_size = fields[1], fields[6], fields[11]
        start = offset + 110
        name = data[start:start + name_size - 1].decode()
        body = start + name_size + (-(110 + name_size) % 4)
        if name == "TRAILER!!!":
            return found
        found[name] = (mode, data[body:body + size])
        offset = body + size + (-size % 4)


def test_the_initramfs_archive_holds_files_folders_and_links(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/busybox").write_bytes(b"\x7fELF" + b"x" * 1001)
    (tmp_path / "bin/busybox").chmod(0o755)
    (tmp_path / "bin/sh").symlink_to("busybox")
    (tmp_path / "init").write_text("#!/bin/sh\n")
    entries = read_newc(cpio.archive(tmp_path))
    assert set(entries) == {"bin", "bin/busybox", "bin/sh", "init"}
    assert entries["bin/busybox"] == (0o100755, b"\x7fELF" + b"x" * 1001)
    assert entries["bin/sh"][1] == b"busybox" and entries["bin"][0] & 0o040000


def test_the_kernel_for_direct_boot_is_found_inside_a_compressed_image():
    elf = b"\x7fELF" + bytes(range(256)) * 64
    assert build.vmlinux(b"boot sector" * 50 + lzma.compress(elf, format=lzma.FORMAT_XZ) + b"trailer") == elf
    if shutil.which("lz4"):
        packed = subprocess.run(["lz4", "-l", "-c"], input=elf, capture_output=True, check=True).stdout
        assert build.vmlinux(b"\x00" * 4096 + packed + b"\x00" * 100) == elf
    if shutil.which("zstd"):
        packed = subprocess.run(["zstd", "-c", "-q"], input=elf, capture_output=True, check=True).stdout
        assert build.vmlinux(b"\x00" * 4096 + packed + b"\x00" * 100) == elf
    with pytest.raises(build.BuildError, match="no LZ4, XZ or zstd payload"):
        build.vmlinux(b"\x00" * 4096)


def test_the_fingerprint_follows_the_recipe_and_the_guest_scripts(tmp_path, monkeypatch):
    first = recipe.fingerprint()
    assert first == recipe.fingerprint() and len(first) == 16
    guest = tmp_path / "guest"
    shutil.copytree(recipe.GUEST, guest)
    monkeypatch.setattr(recipe, "GUEST", guest)
    assert recipe.fingerprint() == first
    (guest / "rds-init").write_text((guest / "rds-init").read_text() + "\n# changed\n")
    assert recipe.fingerprint() != first
    monkeypatch.setitem(recipe.RECIPE, "spare_mib", 512)
    assert recipe.fingerprint() not in (first,)


def test_modules_load_after_the_ones_they_depend_on():
    # as bookworm's 6.1.0-57 built them: virtio needs virtio_ring, which the recipe lists after it
    modules = {
        "virtio.ko": b"\x7fELF...\x00license=GPL\x00depends=virtio_ring\x00vermagic=6.1.0-57\x00",
        "virtio_ring.ko": b"\x7fELF...\x00depends=\x00",
        "failover.ko": b"\x7fELF...\x00depends=\x00",
        "virtio_net.ko": b"\x7fELF...\x00depends=virtio_ring,virtio,net_failover\x00",
        "net_failover.ko": b"\x7fELF...\x00depends=failover\x00",
        "qemu_fw_cfg.ko": b"\x7fELF...",
    }
    assert build.load_order(modules) == ["virtio_ring.ko", "virtio.ko", "failover.ko", "net_failover.ko",
                                         "virtio_net.ko", "qemu_fw_cfg.ko"]
