"""What can be ordered: engines, their versions (the servers really run), classes and storage."""

from dataclasses import dataclass

from emulator.model import engine_versions

ENGINES = ("mysql", "mariadb")
ENGINE_DESCRIPTIONS = {"mysql": "MySQL Community Edition", "mariadb": "MariaDB Community Edition"}
LICENSE_MODEL = "general-public-license"
DEFAULT_PORT = 3306

_SIZES = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_LARGE = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")
INSTANCE_CLASSES = tuple(
    [f"db.{family}.{size}" for family in ("t3", "t4g") for size in _SIZES]
    + [f"db.t2.{size}" for size in _SIZES[:5]]
    + [f"db.{family}.{size}" for family in ("m5", "m6g", "m6i", "m7g", "r5", "r6g", "r6i", "r7g") for size in _LARGE]
    + ["db.m1.small", "db.m1.medium", "db.m1.large", "db.m1.xlarge"]
    + ["db.m3.medium", "db.m3.large", "db.m3.xlarge", "db.m3.2xlarge"]
)


# Memory of each class, GiB, as AWS lists them: what RDS's {DBInstanceClassMemory} formulas work from.
_SIZE_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64,
             "8xlarge": 128, "12xlarge": 192, "16xlarge": 256, "24xlarge": 384}
_OLD_GIB = {"db.m1.small": 1.7, "db.m1.medium": 3.75, "db.m1.large": 7.5, "db.m1.xlarge": 15,
            "db.m3.medium": 3.75, "db.m3.large": 7.5, "db.m3.xlarge": 15, "db.m3.2xlarge": 30}


def class_memory(instance_class: str) -> int:
    """Bytes of memory of a DB instance class (memory-optimised r classes have twice the m classes')."""
    if instance_class in _OLD_GIB:
        return int(_OLD_GIB[instance_class] * 1024**3)
    _, family, size = instance_class.split(".")
    return _SIZE_GIB[size] * (2 if family.startswith("r") else 1) * 1024**3


@dataclass(frozen=True)
class StorageRange:
    minimum: int
    maximum: int


STORAGE = {
    "standard": StorageRange(5, 3072),
    "gp2": StorageRange(20, 65536),
    "gp3": StorageRange(20, 65536),
    "io1": StorageRange(100, 65536),
    "io2": StorageRange(100, 65536),
}
DEFAULT_STORAGE_TYPE = "gp2"


@dataclass(frozen=True)
class Offered:
    """An engine version as a client orders it: what its server reports, its family, whether it is the
    engine's default."""

    engine: str
    version: str
    family: str
    description: str
    version_description: str
    default: bool
    row: engine_versions.EngineVersion


def offered(versions: dict[engine_versions.EngineVersion, str]) -> list[Offered]:
    """What the driver serves (`versions`: each row, with the full version its server reports), engine by
    engine, oldest first, as RDS lists them. An older minor whose suite has since caught up with its
    major's current one is the same version: listed once, as the current row."""
    taken = {(row.engine, version) for row, version in versions.items() if not row.previous_minor}
    return [
        Offered(row.engine, version, row.family, ENGINE_DESCRIPTIONS[row.engine], f"{row.flavor} {version}",
                engine_versions.of(row.engine, None) == row, row)
        for row, version in sorted(versions.items(), key=lambda item: (item[0].engine, _key(item[1])))
        if not (row.previous_minor and (row.engine, version) in taken)
    ]


def option_group(engine: str, version: str) -> str:
    return f"default:{engine}-{'-'.join(version.split('.')[:2])}"


def families(versions: dict[engine_versions.EngineVersion, str]) -> dict[str, str]:
    """The DB parameter group families this machine can honour, and the engine of each."""
    return {row.family: row.engine for row in versions}


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def newer(candidate: str, than: str) -> bool:
    """Whether one full version ("10.11.19") is newer than another."""
    return _key(candidate) > _key(than)


def availability_zones(region: str) -> list[str]:
    return [f"{region}{letter}" for letter in "abcdef"]


def secondary_zone(region: str, primary: str) -> str:
    """A Multi-AZ standby's zone: the region's next one after the primary's."""
    zones = availability_zones(region)
    return zones[(zones.index(primary) + 1) % len(zones)] if primary in zones else zones[0]


def class_vcpus(instance_class: str) -> int:
    """vCPUs of a DB instance class, as AWS lists them: two up to `large`, then one for each 4 GiB of the
    general-purpose class of that size (memory-optimised classes have the same count)."""
    size = instance_class.rsplit(".", 1)[1]
    if instance_class in _OLD_GIB:
        return {"small": 1, "medium": 1, "large": 2, "xlarge": 4, "2xlarge": 8}[size]
    return max(2, _SIZE_GIB[size] // 4)
