"""Option groups: the options this emulator's servers really have, their settings, and what each setting
makes of the server's configuration. An option a server cannot run is not offered (RDS's MySQL runs the
MariaDB audit plugin; Oracle's MySQL server has none, so only MariaDB offers it here)."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator.protocol.errors import RdsError, combination, invalid, shown

DEFAULT_PREFIX = "default:"
# server_variables names each plugin the options load as `plugin:<name>`, beside the plugins' own variables
PLUGIN = "plugin:"
_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$")
_LISTED = re.compile(r"^[A-Za-z0-9_@%.,-]{0,1024}$")


@dataclass(frozen=True)
class Setting:
    name: str
    description: str
    default: str
    # the allowed values: a comma-separated list, or a range "low-high" of integers
    allowed: str
    variable: str
    modifiable: bool = True
    collection: bool = False

    def checked(self, value: str) -> str:
        if not self.modifiable and value != self.default:
            raise invalid(f"The option setting {self.name} is not modifiable: it is always {self.default}.")
        if self.allowed == "*" and not _LISTED.match(value):
            # the value is written into the server's option file: nothing that could start a line of its own
            raise invalid(f"Invalid value {shown(value)} for option setting {self.name}: give user names of "
                          "letters, digits and _ @ % . - separated by commas.")
        if self.collection and value:
            choices = self.allowed.split(",")
            if self.allowed != "*" and not all(item in choices for item in value.split(",")):
                raise invalid(f"Invalid value {shown(value)} for option setting {self.name}: each item must be "
                              f"one of {self.allowed}.")
        elif "-" in self.allowed and self.allowed.replace("-", "").isdigit():
            low, high = (int(part) for part in self.allowed.split("-"))
            if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
                raise invalid(f"Invalid value {shown(value)} for option setting {self.name}: it must be an "
                              f"integer from {low} to {high}.")
        elif self.allowed != "*" and value not in self.allowed.split(","):
            raise invalid(f"Invalid value {shown(value)} for option setting {self.name}: it must be one of "
                          f"{self.allowed}.")
        return value


@dataclass(frozen=True)
class OptionKind:
    name: str
    description: str
    engines: tuple[str, ...]
    # the server plugin the option loads, and its settings
    plugin: str
    settings: tuple[Setting, ...]


AUDIT = OptionKind(
    "MARIADB_AUDIT_PLUGIN", "MariaDB Audit Plugin", ("mariadb",), "server_audit", (
        Setting("SERVER_AUDIT_EVENTS", "Specifies which events to log.", "CONNECT,QUERY",
                "CONNECT,QUERY,TABLE,QUERY_DDL,QUERY_DML,QUERY_DML_NO_SELECT,QUERY_DCL", "server_audit_events",
                collection=True),
        Setting("SERVER_AUDIT_INCL_USERS", "Include only specified users.", "", "*", "server_audit_incl_users",
                collection=True),
        Setting("SERVER_AUDIT_EXCL_USERS", "Exclude specified users.", "", "*", "server_audit_excl_users",
                collection=True),
        Setting("SERVER_AUDIT_FILE_ROTATE_SIZE", "The size in bytes at which the log file is rotated.",
                "1000000", "1-1000000000", "server_audit_file_rotate_size"),
        Setting("SERVER_AUDIT_FILE_ROTATIONS", "The number of rotated log files kept.", "9", "0-100",
                "server_audit_file_rotations"),
        Setting("SERVER_AUDIT_QUERY_LOG_LIMIT", "The most of a query's text a record keeps.", "1024",
                "0-2147483647", "server_audit_query_log_limit"),
        Setting("SERVER_AUDIT_LOGGING", "Enables audit logging.", "ON", "ON", "server_audit_logging",
                modifiable=False),
    ),
)
OFFERED = {AUDIT.name: AUDIT}


def offered(engine: str) -> list[OptionKind]:
    return [kind for kind in OFFERED.values() if engine in kind.engines]


@dataclass(frozen=True)
class OptionGroup:
    name: str
    engine: str
    major: str
    description: str
    created_at: datetime
    # option name -> its settings' values (every setting, defaults included)
    options: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str | None = None

    @property
    def default(self) -> bool:
        return self.name.startswith(DEFAULT_PREFIX)

    def to_wire(self, arn: str) -> dict[str, Any]:
        return {
            "OptionGroupName": self.name, "OptionGroupDescription": self.description, "EngineName": self.engine,
            "MajorEngineVersion": self.major, "AllowsVpcAndNonVpcInstanceMemberships": True,
            "OptionGroupArn": arn, "SourceOptionGroup": self.source,
            "Options": [_option_wire(OFFERED[name], values) for name, values in sorted(self.options.items())],
        }


def default_group(engine: str, major: str, created_at: datetime) -> OptionGroup:
    return OptionGroup(f"{DEFAULT_PREFIX}{engine}-{major.replace('.', '-')}", engine, major,
                       f"Default option group for {engine} {major}", created_at)


def valid_name(value: str) -> str:
    name = value.lower()
    if name.startswith(DEFAULT_PREFIX) or not _NAME.match(name):
        raise invalid("The parameter OptionGroupName is not a valid identifier: it must be 1 to 255 letters, "
                      "digits or hyphens, begin with a letter, and not end with a hyphen or hold two hyphens "
                      "in a row (and not begin with default:).")
    return name


def included(engine: str, current: dict[str, dict[str, str]], configurations: list[dict[str, Any]]) -> \
        dict[str, dict[str, str]]:
    """The options after OptionsToInclude: each a known option of the engine, its settings checked; an option
    already in the group keeps the settings the request does not name."""
    result = dict(current)
    for configuration in configurations:
        name = configuration["OptionName"]
        kind = OFFERED.get(name)
        if kind is None or engine not in kind.engines:
            raise invalid(f"Option {shown(name)} is not available for engine {engine} in RDS Emulator: "
                          "DescribeOptionGroupOptions lists the options its servers have.")
        if configuration.get("Port") or configuration.get("VpcSecurityGroupMemberships") \
                or configuration.get("DBSecurityGroupMemberships"):
            raise combination(f"Option {name} takes no port and no security groups.")
        known = {setting.name: setting for setting in kind.settings}
        values = result.get(name) or {setting.name: setting.default for setting in kind.settings}
        for item in configuration.get("OptionSettings") or []:
            setting = known.get(item.get("Name") or "")
            if setting is None:
                raise invalid(f"Option {name} has no setting {shown(item.get('Name'))}.")
            values = {**values, setting.name: setting.checked(item.get("Value") or "")}
        result[name] = values
    return result


def removed(current: dict[str, dict[str, str]], names: list[str]) -> dict[str, dict[str, str]]:
    missing = [name for name in names if name not in current]
    if missing:
        raise RdsError("InvalidParameterValue", f"Option {shown(missing[0])} is not in the option group.")
    return {name: values for name, values in current.items() if name not in names}


def server_variables(options: dict[str, dict[str, str]]) -> dict[str, str]:
    """What the options make of a server's configuration: each option's plugin, and its settings' variables."""
    variables: dict[str, str] = {}
    for name, values in sorted(options.items()):
        kind = OFFERED[name]
        variables[PLUGIN + kind.plugin] = kind.plugin
        for setting in kind.settings:
            variables[setting.variable] = values.get(setting.name, setting.default)
    return variables


def _option_wire(kind: OptionKind, values: dict[str, str]) -> dict[str, Any]:
    return {
        "OptionName": kind.name, "OptionDescription": kind.description, "Persistent": False, "Permanent": False,
        "OptionSettings": [
            {"Name": setting.name, "Value": values.get(setting.name, setting.default),
             "DefaultValue": setting.default, "Description": setting.description, "ApplyType": "DYNAMIC",
             "DataType": "LIST" if setting.collection else "STRING", "AllowedValues": setting.allowed,
             "IsModifiable": setting.modifiable, "IsCollection": setting.collection}
            for setting in kind.settings
        ],
        "DBSecurityGroupMemberships": [], "VpcSecurityGroupMemberships": [],
    }


def option_group_option(kind: OptionKind, engine: str, major: str) -> dict[str, Any]:
    return {
        "Name": kind.name, "Description": kind.description, "EngineName": engine, "MajorEngineVersion": major,
        "PortRequired": False, "OptionsDependedOn": [], "OptionsConflictsWith": [], "Persistent": False,
        "Permanent": False, "RequiresAutoMinorEngineVersionUpgrade": False, "VpcOnly": False,
        "SupportsOptionVersionDowngrade": False, "CopyableCrossAccount": True, "CopyableCrossRegion": True,
        "OptionGroupOptionSettings": [
            {"SettingName": setting.name, "SettingDescription": setting.description,
             "DefaultValue": setting.default, "ApplyType": "DYNAMIC", "AllowedValues": setting.allowed,
             "IsModifiable": setting.modifiable, "IsRequired": False}
            for setting in kind.settings
        ],
        "OptionGroupOptionVersions": [],
    }
