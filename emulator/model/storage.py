"""Provisioned storage performance as RDS gives it to MySQL-family engines: Iops and StorageThroughput.

gp3 has a baseline that depends on the allocated size (3,000 IOPS and 125 MiB/s below 400 GiB, 12,000 and
500 from 400 GiB), which can be raised only from 400 GiB; io1 and io2 take the Iops asked for, within a ratio
of the size. gp2 and standard have neither. The figures are what RDS reports; nothing here throttles a disk.
"""

from typing import Any

from emulator.protocol.errors import combination, invalid

GP3_LARGE = 400
GP3_BASELINE = {False: (3000, 125), True: (12000, 500)}
GP3_MAXIMUM = (64000, 4000)
PROVISIONED_IOPS = (1000, 256000)
IOPS_PER_GIB = {"io1": (0.5, 50), "io2": (0.5, 1000)}


def performance(
    kind: str, size: int, iops: int | None, throughput: int | None, engine: str
) -> tuple[int | None, int | None]:
    """(Iops, StorageThroughput) to report for the storage asked for, or an RdsError saying why not."""
    if kind == "gp3":
        return _gp3(size, iops, throughput, engine)
    if kind in IOPS_PER_GIB:
        if throughput:
            raise combination(f"You can't specify StorageThroughput for storage type {kind}.")
        if iops is None:
            raise combination(f"Iops must be specified for storage type {kind}.")
        low, high = PROVISIONED_IOPS
        if not low <= iops <= high:
            raise invalid(f"Invalid iops value {iops} for storage type {kind}: it must be from {low} to {high}.")
        least, most = IOPS_PER_GIB[kind]
        if not least <= iops / size <= most:
            raise invalid(
                f"The IOPS to allocated storage ratio must be between {least} and {most} for storage type {kind}."
            )
        return iops, 0
    if iops or throughput:
        raise combination(f"You can't specify Iops or StorageThroughput for storage type {kind}.")
    return None, None


def _gp3(size: int, iops: int | None, throughput: int | None, engine: str) -> tuple[int, int]:
    large = size >= GP3_LARGE
    base_iops, base_throughput = GP3_BASELINE[large]
    iops = base_iops if iops is None else iops
    throughput = base_throughput if throughput is None else throughput
    if not large and (iops, throughput) != (base_iops, base_throughput):
        raise combination(
            f"You can't specify IOPS or storage throughput for engine {engine} and a storage size less than "
            f"{GP3_LARGE}."
        )
    if not base_iops <= iops <= GP3_MAXIMUM[0]:
        raise invalid(f"Invalid iops value {iops} for gp3: it must be from {base_iops} to {GP3_MAXIMUM[0]}.")
    if not base_throughput <= throughput <= GP3_MAXIMUM[1]:
        raise invalid(
            f"Invalid storage throughput value {throughput} for gp3: it must be from {base_throughput} to "
            f"{GP3_MAXIMUM[1]}."
        )
    if throughput > iops / 4:
        raise invalid("The storage throughput (MiB/s) can be at most a quarter of the IOPS for gp3.")
    return iops, throughput


def valid_options(kind: str, size: int, largest: int) -> dict[str, Any]:
    """DescribeValidDBInstanceModifications' ValidStorageOptions for an instance of this storage: it may grow
    (never shrink) up to `largest` GiB, with the Iops and throughput its type takes."""
    options: dict[str, Any] = {"StorageType": kind, "StorageSize": [{"From": size, "To": largest, "Step": 1}],
                               "SupportsStorageAutoscaling": True}
    if kind == "gp3":
        low = GP3_BASELINE[size >= GP3_LARGE]
        high = GP3_MAXIMUM if size >= GP3_LARGE else low
        options |= {"ProvisionedIops": [{"From": low[0], "To": high[0], "Step": 1}],
                    "ProvisionedStorageThroughput": [{"From": low[1], "To": high[1], "Step": 1}],
                    "StorageThroughputToIopsRatio": [{"From": 0.0, "To": 0.25}]}
    elif kind in IOPS_PER_GIB:
        least, most = IOPS_PER_GIB[kind]
        options |= {"ProvisionedIops": [{"From": PROVISIONED_IOPS[0], "To": PROVISIONED_IOPS[1], "Step": 1}],
                    "IopsToStorageRatio": [{"From": least, "To": most}]}
    return options
