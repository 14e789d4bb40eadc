"""--driver auto, the default: libvirt guests where this host runs them with hardware acceleration (KVM),
server processes otherwise. A data directory keeps the driver its instances were made with, so that a later
start, on a host that changed meanwhile, does not leave them behind."""

import os
import pathlib
import shutil
from dataclasses import dataclass

from emulator.drivers.libvirt import hypervisor
from emulator.images import cache, recipe

# The emulator state's name for the driver a data directory's instances run on.
RECORDED = "driver"


@dataclass(frozen=True)
class Choice:
    driver: str
    reason: str


def choose(cache_dir: pathlib.Path, recorded: str | None) -> Choice:
    if recorded in ("process", "libvirt"):
        return Choice(recorded, "this data directory's instances run on it")
    if not _kvm_device():
        return Choice("process", "no usable /dev/kvm: guests would run under QEMU's software emulation")
    if not _libvirt_installed():
        return Choice("process", "libvirt is not installed (`make setup` installs it)")
    image = cache.find(cache_dir, recipe.fingerprint())
    if image is None:
        return Choice("process", "no guest image is built yet to try KVM with (`rds-emulator image build`)")
    if not hypervisor.kvm_works(image, cache_dir):
        return Choice("process", "KVM did not boot the guest image's kernel on this host: guests would run "
                                 "under QEMU's software emulation")
    return Choice("libvirt", "KVM runs the guest image's kernel on this host")


def _kvm_device() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def _libvirt_installed() -> bool:
    return bool(shutil.which("libvirtd") or shutil.which("libvirtd", path="/usr/sbin"))
