"""What a guest is given of its DB instance class (the table in docs/drivers.md): its class's memory scaled
by a configurable factor, so that large classes fit a small host; its class's vCPUs under KVM, up to the
host's cores, and one under QEMU's software emulation, where one is faster than several."""

import os

from emulator.model import catalogue

# A db.t3.micro's 1 GiB becomes 384 MiB: enough for the server's 16 MiB buffer pool and a few connections.
DEFAULT_MEMORY_FACTOR = 0.375
SMALLEST_MIB = 256


def memory_mib(instance_class: str, factor: float) -> int:
    return max(SMALLEST_MIB, int(catalogue.class_memory(instance_class) / 2**20 * factor))


def vcpus(instance_class: str, kvm: bool) -> int:
    if not kvm:
        return 1
    return max(1, min(catalogue.class_vcpus(instance_class), os.cpu_count() or 1))
