"""DB parameters as RDS presents them, over the installed server's own variables (engines/variables.py):
the few things the server cannot tell (what RDS does not let users change, what it sets itself, formulas)
are curated here, and nothing else is typed by hand."""

import re
from dataclasses import dataclass
from typing import Any

from emulator.model.server import Variable
from emulator.protocol.errors import combination, invalid, shown

# What RDS keeps for itself: where the server's files are, how it is reached, what it is.
NOT_MODIFIABLE = frozenset({
    "basedir", "bind_address", "character_sets_dir", "datadir", "general_log_file", "init_file",
    "innodb_data_home_dir", "innodb_log_group_home_dir", "innodb_undo_directory", "innodb_tmpdir",
    "innodb_page_size", "lc_messages_dir", "log_basename", "log_bin", "log_bin_basename", "log_bin_index",
    "log_error", "pid_file", "plugin_dir", "port", "relay_log", "relay_log_basename", "relay_log_index",
    "secure_file_priv", "server_id", "skip_external_locking", "skip_name_resolve", "skip_networking",
    "slow_query_log_file", "socket", "tmpdir", "user", "version", "version_comment",
    "version_compile_machine", "version_compile_os", "extra_port", "core_file", "log_slow_query_file",
    # MySQL: point-in-time restore goes by GTIDs; its own port for X Protocol, which stays off; the CLONE plugin
    "gtid_mode", "enforce_gtid_consistency", "mysqlx", "mysqlx_port", "mysqlx_socket", "plugin_load_add",
})
# What every server here runs with unless its parameter group says otherwise: small servers, so that many
# fit on one machine. DescribeDBParameters reports them with Source `system`, as RDS reports what it sets itself.
SYSTEM = {
    "innodb_buffer_pool_size": "16777216",
    "innodb_log_file_size": "8388608",
    "max_connections": "100",
    "performance_schema": "0",
    # as on RDS: the slow and general logs, once on, go to mysql.slow_log and mysql.general_log
    "log_output": "TABLE",
    # as on RDS: a committed transaction is in the binary log on disk, which crash recovery goes by (a guest
    # killed takes its page cache with it)
    "sync_binlog": "1",
}
# MySQL sizes its redo log as one capacity (since 8.0.30), and has no innodb_log_file_size any more
MYSQL_SYSTEM = {**{name: value for name, value in SYSTEM.items() if name != "innodb_log_file_size"},
                "innodb_redo_log_capacity": "8388608"}


def system(flavor: str) -> dict[str, str]:
    """What every server of the flavor ("MySQL", "MariaDB") runs with, unless its group says otherwise."""
    return MYSQL_SYSTEM if flavor == "MySQL" else SYSTEM
# RDS's variables in formula values, e.g. {DBInstanceClassMemory*3/4}
_FORMULA = re.compile(r"^\{(DBInstanceClassMemory|AllocatedStorage)((?:[*/]\d+)*)\}$")
_TERM = re.compile(r"([*/])(\d+)")
_TRUE, _FALSE = ("1", "on", "true"), ("0", "off", "false")
_INTEGER = re.compile(r"^-?[0-9]{1,20}$")
_FLOAT = re.compile(r"^-?[0-9]{1,20}(\.[0-9]{1,12})?$")
APPLY_METHODS = ("immediate", "pending-reboot")
MOST_PER_CALL = 20


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    data_type: str  # as RDS names them: boolean, integer, float, string, list
    allowed: str | None
    dynamic: bool
    modifiable: bool
    default: str | None


def catalogue(variables: list[Variable]) -> dict[str, Parameter]:
    return {
        v.name: Parameter(v.name, v.comment, _data_type(v.type), _allowed(v), v.dynamic,
                          v.name not in NOT_MODIFIABLE, v.default)
        for v in variables
    }


def _data_type(kind: str) -> str:
    if kind == "BOOLEAN":
        return "boolean"
    if "INT" in kind:
        return "integer"
    if kind == "DOUBLE":
        return "float"
    return "list" if kind in ("SET", "FLAGSET") else "string"


def _allowed(v: Variable) -> str | None:
    if v.type == "BOOLEAN":
        return "0,1"
    if v.minimum is not None and v.maximum is not None:
        return f"{v.minimum}-{v.maximum}"
    return v.choices or None


def wire(parameter: Parameter, value: str | None, source: str, method: str | None,
         engine_version: str) -> dict[str, Any]:
    return {
        "ParameterName": parameter.name,
        "ParameterValue": value,
        "Description": parameter.description,
        "Source": source,
        "ApplyType": "dynamic" if parameter.dynamic else "static",
        "DataType": parameter.data_type,
        "AllowedValues": parameter.allowed,
        "IsModifiable": parameter.modifiable,
        "MinimumEngineVersion": engine_version,
        "ApplyMethod": method or "pending-reboot",
    }


def checked(known: dict[str, Parameter], change: dict[str, Any]) -> tuple[str, str, str]:
    """One member of a ModifyDBParameterGroup's Parameters, checked: (name, value, apply method)."""
    name = change.get("ParameterName") or ""
    parameter = known.get(name)
    if parameter is None:
        raise invalid(f"Could not find parameter with name: {shown(name)}")
    if not parameter.modifiable:
        raise invalid(f"The parameter {name} cannot be modified.")
    method = change.get("ApplyMethod")
    if method is None:
        raise invalid(f"ApplyMethod is required for parameter {name}: immediate or pending-reboot.")
    if method not in APPLY_METHODS:
        raise invalid(f"Invalid apply method {shown(method)} for parameter {name}: immediate or pending-reboot.")
    if method == "immediate" and not parameter.dynamic:
        raise combination("cannot use immediate apply method for static parameter")
    value = change.get("ParameterValue")
    if value is None:
        raise invalid(f"A value is required for parameter {name}.")
    _check_value(parameter, value)
    return name, value, method


def _check_value(parameter: Parameter, value: str) -> None:
    if any(ord(char) < 32 or char == '"' for char in value):
        raise invalid(f"The value of parameter {parameter.name} may not contain control characters or double quotes.")
    outside = invalid(f"Value: {shown(value)} is outside of range: {parameter.allowed} for parameter: {parameter.name}")
    kind = parameter.data_type
    if kind == "boolean":
        if value.lower() not in _TRUE + _FALSE:
            raise outside
    elif kind in ("integer", "float"):
        if kind == "integer" and _FORMULA.match(value):
            return
        if not (_INTEGER if kind == "integer" else _FLOAT).match(value):
            raise invalid(f"Invalid parameter value: {shown(value)} for parameter: {parameter.name}")
        number = int(value) if kind == "integer" else float(value)
        low, _, high = (parameter.allowed or "").partition("-")
        if low and high and not float(low) <= number <= float(high):
            raise outside
    elif parameter.allowed:
        choices = {choice.lower() for choice in parameter.allowed.split(",")}
        items = [value] if kind == "string" else [item.split("=")[0] for item in value.split(",") if item]
        if any(item.lower() not in choices for item in items):
            raise outside
    if len(value) > 4096:
        raise invalid(f"The value of parameter {parameter.name} is longer than 4096 characters.")


def evaluate(value: str, memory_bytes: int, storage_gib: int) -> str:
    """A formula value worked out for one instance; any other value as it is."""
    match = _FORMULA.match(value)
    if not match:
        return value
    result = memory_bytes if match.group(1) == "DBInstanceClassMemory" else storage_gib * 1024**3
    for operator, operand in _TERM.findall(match.group(2)):
        result = result * int(operand) if operator == "*" else result // max(int(operand), 1)
    return str(result)


def apply_status(group_changed: bool, wanted: dict[str, str], running: dict[str, str],
                 immediate: set[str], failed: dict[str, str]) -> str:
    """ParameterApplyStatus, from what the group says and what the server has: the one place it is decided.

    `wanted`: the group's values; `running`: what the server runs with (both evaluated for the instance);
    `immediate`: names whose change is to be applied at once; `failed`: values the server refused."""
    if group_changed:
        return "pending-reboot"
    differing = {name for name in wanted.keys() | running.keys() if wanted.get(name) != running.get(name)}
    if not differing:
        return "in-sync"
    if any(name in failed and failed[name] == wanted.get(name) for name in differing):
        return "failed-to-apply"
    return "applying" if differing & immediate else "pending-reboot"
