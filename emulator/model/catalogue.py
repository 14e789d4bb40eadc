"""What can be ordered: engines, their versions (the server really installed), classes and storage."""

from dataclasses import dataclass

from emulator.model.server import ServerBinary

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
class EngineVersion:
    engine: str
    version: str
    family: str
    description: str
    version_description: str


def engine_version(engine: str, server: ServerBinary) -> EngineVersion:
    """Each engine is offered in the one version this machine really runs; a foreign engine says what serves it."""
    major_minor = ".".join(server.version.split(".")[:2])
    native = server.flavor.lower() == engine
    family = f"mariadb{major_minor}" if engine == "mariadb" else "mysql8.0"
    description = ENGINE_DESCRIPTIONS[engine]
    if not native:
        description += f" (served by {server.flavor} {server.version}: no {engine} server is installed)"
    return EngineVersion(engine, server.version, family, description, f"{server.flavor} {server.version}")


def option_group(engine: str, version: str) -> str:
    major_minor = "8-0" if engine == "mysql" else "-".join(version.split(".")[:2])
    return f"default:{engine}-{major_minor}"


def engine_versions(server: ServerBinary) -> list[EngineVersion]:
    return [engine_version(engine, server) for engine in ENGINES]


def families(server: ServerBinary) -> dict[str, str]:
    """The DB parameter group families this machine can honour, and the engine of each."""
    return {version.family: version.engine for version in engine_versions(server)}


def availability_zones(region: str) -> list[str]:
    return [f"{region}{letter}" for letter in "abcdef"]


def class_vcpus(instance_class: str) -> int:
    """vCPUs of a DB instance class, as AWS lists them: two up to `large`, then one for each 4 GiB of the
    general-purpose class of that size (memory-optimised classes have the same count)."""
    size = instance_class.rsplit(".", 1)[1]
    if instance_class in _OLD_GIB:
        return {"small": 1, "medium": 1, "large": 2, "xlarge": 4, "2xlarge": 8}[size]
    return max(2, _SIZE_GIB[size] // 4)
