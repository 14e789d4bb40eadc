"""RDS's rules for names and values; each broken rule is an InvalidParameterValue with RDS's kind of message."""

import re

from emulator.model import catalogue
from emulator.protocol.errors import invalid, shown

# RDS's limit of tags on one resource.
MAX_TAGS = 50

_IDENTIFIER = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)$")
_SNAPSHOT = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}(?<!-)$")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
RESERVED_USERNAMES = {"rdsadmin", "root", "mysql", "mariadb.sys", "admin_user", "select", "user", "table"}
MAX_USERNAME = {"mysql": 32, "mariadb": 16}
FORBIDDEN_PASSWORD_CHARACTERS = set('/@" ')


def identifier(value: str, parameter: str = "DBInstanceIdentifier") -> str:
    return _named(_IDENTIFIER, value, parameter)


def snapshot_identifier(value: str, parameter: str = "DBSnapshotIdentifier") -> str:
    return _named(_SNAPSHOT, value, parameter)


def _named(pattern: re.Pattern[str], value: str, parameter: str) -> str:
    """An instance's or snapshot's identifier, by RDS's rules (only their lengths differ), in lower case."""
    if not pattern.match(value):
        raise invalid(
            f"The parameter {parameter} is not a valid identifier. Identifiers must begin with a letter; "
            "must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or "
            "contain two consecutive hyphens."
        )
    return value.lower()


def engine(value: str) -> str:
    name = value.strip().lower()
    if name not in catalogue.ENGINES:
        raise invalid(f"Invalid DB engine: {shown(value)}")
    return name


def instance_class(value: str) -> str:
    if value not in catalogue.INSTANCE_CLASSES:
        raise invalid(f"Invalid DB Instance class: {shown(value)}")
    return value


def master_username(value: str | None, engine_name: str) -> str:
    if not value:
        raise invalid("The parameter MasterUsername must be provided and must not be blank.")
    longest = MAX_USERNAME[engine_name]
    if not _USERNAME.match(value) or len(value) > longest:
        raise invalid(
            f"The parameter MasterUsername is not a valid identifier: it must be 1 to {longest} letters, digits "
            "or underscores, beginning with a letter."
        )
    if value.lower() in RESERVED_USERNAMES:
        raise invalid(f"MasterUsername {value} cannot be used as it is a reserved word used by the engine")
    return value


def master_password(value: str | None) -> str:
    if not value:
        raise invalid("The parameter MasterUserPassword must be provided and must not be blank.")
    if len(value) < 8:
        raise invalid(
            "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters."
        )
    if len(value) > 41:
        raise invalid(
            "The parameter MasterUserPassword is not a valid password because it is longer than 41 characters."
        )
    if any(c in FORBIDDEN_PASSWORD_CHARACTERS or not c.isprintable() or not c.isascii() for c in value):
        raise invalid(
            "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters "
            "besides '/', '@', '\"', ' ' may be used."
        )
    return value


def db_name(value: str | None) -> str | None:
    if value is not None and not _DB_NAME.match(value):
        raise invalid(
            f"The parameter DBName is not a valid name: {shown(value)}. It must begin with a letter and contain "
            "1 to 64 letters, digits or underscores."
        )
    return value


def storage_type(value: str | None) -> str:
    name = value or catalogue.DEFAULT_STORAGE_TYPE
    if name not in catalogue.STORAGE:
        raise invalid(f"Invalid storage type: {shown(name)}")
    return name


def allocated_storage(size: int | None, engine_name: str, kind: str) -> int:
    bounds = catalogue.STORAGE[kind]
    if size is None or not bounds.minimum <= size <= bounds.maximum:
        raise invalid(
            f"Invalid storage size for engine name {engine_name} and storage type {kind}: {size or 0}"
        )
    return size


def max_allocated_storage(value: int | None, allocated: int, kind: str) -> int | None:
    """Storage autoscaling's limit: above the allocated storage, within the type's largest; the allocated
    storage itself turns autoscaling off, as on RDS."""
    if value is None or value == allocated:
        return None
    largest = catalogue.STORAGE[kind].maximum
    if value < allocated:
        raise invalid("Max storage size must be greater than storage size.")
    if value > largest:
        raise invalid(f"Invalid max storage size for storage type {kind}: {value}; it can be at most {largest}.")
    return value


def port(value: int | None) -> int | None:
    if value is not None and not 1150 <= value <= 65535:
        raise invalid(f"Invalid port {value}: it must be from 1150 to 65535.")
    return value


def retention(value: int | None) -> int:
    if value is None:
        return 1
    if not 0 <= value <= 35:
        raise invalid("The backup retention period must be between 0 and 35 days.")
    return value


def availability_zone(value: str | None, region: str) -> str:
    zones = catalogue.availability_zones(region)
    if value is None:
        return zones[0]
    if value not in zones:
        raise invalid(f"Invalid availability zone: {shown(value)}")
    return value


def max_records(value: int | None, largest: int = 100) -> int:
    if value is None:
        return largest
    if not 20 <= value <= largest:
        raise invalid(f"Invalid value {value} for MaxRecords. Must be between 20 and {largest}")
    return value


def tags(tags: list[dict[str, str]]) -> list[tuple[str, str]]:
    """Tags as (key, value), checked as RDS checks them; a key given twice keeps its last value."""
    if len(tags) > MAX_TAGS:
        raise invalid(f"A resource can have at most {MAX_TAGS} tags; the request has {len(tags)}.")
    checked: dict[str, str] = {}
    for tag in tags:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not key or len(key) > 128 or key.lower().startswith(("aws:", "rds:")):
            raise invalid(
                f"Invalid tag key: '{shown(key)}'. Keys are 1 to 128 characters and may not start with aws: or rds:"
            )
        if len(value) > 256:
            raise invalid(f"Invalid tag value for key {shown(key)}: values are at most 256 characters.")
        checked[key] = value
    return list(checked.items())


def tag_list(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Tags as (key, value) pairs in their wire form."""
    return [{"Key": key, "Value": value} for key, value in pairs]
