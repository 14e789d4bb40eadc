"""How the legacy tools print what an action returns: one record a line, its type first (`DBINSTANCE ...`),
the records that belong to it (`SECGROUP`, `PARAMGRP`) indented under it. Each type's columns are data:
their header, and the path to the value in the response. The table form (the default) aligns each type's
columns across the lines printed, two spaces apart; the long form (--show-long) gives every column, empty
ones too, joined by the delimiter."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

INDENT = "      "


@dataclass(frozen=True)
class Column:
    header: str
    path: str  # dotted, in the record's dict: "Endpoint.Address"
    short: bool = True  # shown without --show-long
    yes_no: bool = False  # a boolean the old tool printed y or n


@dataclass(frozen=True)
class Layout:
    name: str  # the type word that starts the line; "" for events, which the old tool printed bare
    columns: tuple[Column, ...]
    # records under this one: (layout name, path to their list, the list's member name)
    children: tuple[tuple[str, str, str], ...] = ()


# By the name commands give them; a layout's own name is the word its lines start with.
LAYOUTS = {layout.name or "EVENT": layout for layout in (
    Layout("DBINSTANCE", (
        Column("DBInstanceId", "DBInstanceIdentifier"), Column("Created", "InstanceCreateTime"),
        Column("Class", "DBInstanceClass"), Column("Engine", "Engine"), Column("Storage", "AllocatedStorage"),
        Column("Master Username", "MasterUsername"), Column("Status", "DBInstanceStatus"),
        Column("Endpoint Address", "Endpoint.Address"), Column("Port", "Endpoint.Port"),
        Column("AZ", "AvailabilityZone"), Column("Backup Retention", "BackupRetentionPeriod"),
        Column("Multi-AZ", "MultiAZ", False, True), Column("Version", "EngineVersion", False),
        Column("Storage Type", "StorageType", False), Column("Maintenance Window", "PreferredMaintenanceWindow",
                                                             False),
        Column("Backup Window", "PreferredBackupWindow", False),
        Column("Latest Restorable Time", "LatestRestorableTime", False),
    ), (("SECGROUP", "DBSecurityGroups", "DBSecurityGroup"),
        ("VPCSECGROUP", "VpcSecurityGroups", "VpcSecurityGroupMembership"),
        ("PARAMGRP", "DBParameterGroups", "DBParameterGroup"))),
    Layout("SECGROUP", (Column("Name", "DBSecurityGroupName"), Column("Status", "Status"))),
    Layout("VPCSECGROUP", (Column("Id", "VpcSecurityGroupId"), Column("Status", "Status"))),
    Layout("PARAMGRP", (Column("Group Name", "DBParameterGroupName"), Column("Apply Status", "ParameterApplyStatus"))),
    Layout("DBPARAMGRP", (Column("Group Name", "DBParameterGroupName"),
                          Column("Parameter Group Family", "DBParameterGroupFamily"),
                          Column("Description", "Description"))),
    Layout("DBPARAMETER", (
        Column("Parameter Name", "ParameterName"), Column("Parameter Value", "ParameterValue"),
        Column("Source", "Source"), Column("Data Type", "DataType"), Column("Apply Type", "ApplyType"),
        Column("Is Modifiable", "IsModifiable"), Column("Allowed Values", "AllowedValues", False),
        Column("Description", "Description", False),
    )),
    Layout("", (Column("Source Type", "SourceType"), Column("Date", "Date"),
                Column("Source Identifier", "SourceIdentifier"), Column("Message", "Message"))),
    Layout("DBSNAPSHOT", (
        Column("DBSnapshotId", "DBSnapshotIdentifier"), Column("Created", "SnapshotCreateTime"),
        Column("DBInstanceId", "DBInstanceIdentifier"), Column("Instance Created", "InstanceCreateTime"),
        Column("Engine", "Engine"), Column("Storage", "AllocatedStorage"), Column("Status", "Status"),
        Column("Port", "Port"), Column("AZ", "AvailabilityZone"), Column("Master Username", "MasterUsername"),
        Column("Type", "SnapshotType", False), Column("Version", "EngineVersion", False),
        Column("Progress", "PercentProgress", False),
    )),
    Layout("IP-RANGE", (Column("CIDR", "CIDRIP"), Column("Status", "Status"))),
    Layout("EC2-SECGROUP", (Column("Name", "EC2SecurityGroupName"), Column("Owner Id", "EC2SecurityGroupOwnerId"),
                            Column("Status", "Status"))),
    Layout("VERSION", (
        Column("Engine", "Engine"), Column("Engine Version", "EngineVersion"),
        Column("Parameter Group Family", "DBParameterGroupFamily"),
        Column("Engine Description", "DBEngineDescription"),
        Column("Engine Version Description", "DBEngineVersionDescription"),
    )),
    Layout("DBLOGFILE", (Column("Log File Name", "LogFileName"), Column("Last Written", "LastWritten"),
                         Column("Size", "Size"))),
)}
# A DB security group itself (its membership in an instance is SECGROUP above), with its rules under it.
LAYOUTS["DBSECURITYGROUP"] = Layout(
    "SECGROUP", (Column("Name", "DBSecurityGroupName"), Column("Description", "DBSecurityGroupDescription")),
    (("IP-RANGE", "IPRanges", "IPRange"), ("EC2-SECGROUP", "EC2SecurityGroups", "EC2SecurityGroup")))


def listed(value: Any) -> list[Any]:
    """A list member as xmltodict gives it: absent, one dict, or a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def lines(record: str, items: list[dict[str, Any]], long: bool, headers: bool, delimiter: str) -> list[str]:
    """The printed lines of `items`, records of type `record`, and those under each."""
    rows = [row for item in items for row in _rows(record, item, 0, long)]
    if headers:
        rows = _headed(rows, long)
    if long:
        return [INDENT * depth + delimiter.join(_typed(name, cells)) for depth, name, cells in rows]
    widths: dict[str, list[int]] = {}
    for _, name, cells in rows:
        current = widths.setdefault(name, [0] * len(cells))
        widths[name] = [max(width, len(cell)) for width, cell in zip(current, cells, strict=True)]
    return [INDENT * depth + "  ".join(_typed(name, [cell.ljust(width) for cell, width in
                                                     zip(cells, widths[name], strict=True)])).rstrip()
            for depth, name, cells in rows]


def _rows(record: str, item: dict[str, Any], depth: int, long: bool) -> Iterator[tuple[int, str, list[str]]]:
    yield depth, record, [_cell(_at(item, column.path), column.yes_no) for column in _columns(record, long)]
    for name, path, member in LAYOUTS[record].children:
        for child in listed((item.get(path) or {}).get(member)):
            yield from _rows(name, child, depth + 1, long)


def _headed(rows: list[tuple[int, str, list[str]]], long: bool) -> list[tuple[int, str, list[str]]]:
    """Each type's header line before its first record."""
    shown: set[str] = set()
    out = []
    for depth, name, cells in rows:
        if name not in shown:
            shown.add(name)
            out.append((depth, name, [column.header for column in _columns(name, long)]))
        out.append((depth, name, cells))
    return out


def _columns(name: str, long: bool) -> list[Column]:
    return [column for column in LAYOUTS[name].columns if long or column.short]


def _typed(name: str, cells: list[str]) -> list[str]:
    word = LAYOUTS[name].name
    return [word, *cells] if word else cells


def _at(item: dict[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value: Any, yes_no: bool) -> str:
    if value is None:
        return ""
    if yes_no:
        return "y" if value == "true" else "n"
    return str(value)
