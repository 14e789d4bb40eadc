"""Whether guests run under KVM or QEMU's software emulation (TCG). /dev/kvm being there proves nothing: on
a nested hypervisor that runs only kernels built for it, stock kernels hang or crash (../shared/guest-
facts.md). So the image's own kernel is booted once under KVM with `rds.probe`, which its initramfs answers
at once; the answer is kept for as long as the host stays up."""

import logging
import os
import pathlib

from emulator.engines import tools
from emulator.images.cache import Image

log = logging.getLogger(__name__)
# A kernel that KVM runs reaches the initramfs in well under a second; TCG takes several.
PROBE_SECONDS = 5.0
ANSWER = b"rds-probe: ok"


def kvm_works(image: Image, cache_dir: pathlib.Path) -> bool:
    record = cache_dir / "kvm-probe"
    boot = _boot_id()
    try:
        seen_boot, verdict = record.read_text().split()
        if seen_boot == boot:
            return verdict == "yes"
    except (OSError, ValueError):
        pass
    works = _probe(image)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(f"{boot} {'yes' if works else 'no'}\n")
    return works


def _probe(image: Image) -> bool:
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    command = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-machine", "pc", "-m", "256",
               "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
               "-kernel", str(image.kernel), "-initrd", str(image.initrd), "-append", "console=ttyS0 rds.probe"]
    try:
        said = tools.run(command, timeout=PROBE_SECONDS)
    except tools.ToolFailed as failed:  # a hung kernel meets the deadline: it said nothing then
        said = failed.output
    except OSError as error:
        log.warning("could not run QEMU to probe KVM: %s", error)
        return False
    return ANSWER in said


def _boot_id() -> str:
    try:
        return pathlib.Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"
