"""Flat Query fields (form body or query string) -> (operation, nested request dict), by the shapes.

Lists arrive as `Name.member.N` or `Name.<MemberLocationName>.N`, N from 1; an empty list as `Name=`.
Every failure here is an RdsError with a 4xx code: the client's input, never our bug.
"""

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from emulator.protocol.errors import RdsError, invalid, shown
from emulator.protocol.shapes import RDS, Operation, ServiceShapes, Shape

Node = str | dict[str, "Node"]
# No real list has a million members: a longer index is refused before int() is asked to read it.
INDEX_DIGITS = 6


def parse(params: Mapping[str, str], service: ServiceShapes = RDS) -> tuple[Operation, dict[str, Any]]:
    operation = operation_of(params, service)
    return operation, parse_input(operation, params)


def operation_of(params: Mapping[str, str], service: ServiceShapes = RDS) -> Operation:
    action = params.get("Action")
    if not action:
        raise RdsError("MissingAction", "The request must contain the parameter Action.")
    operation = service.operations.get(action)
    if operation is None:
        raise RdsError("InvalidAction", f"The action {shown(action)} is not valid for this web service.")
    return operation


def parse_input(operation: Operation, params: Mapping[str, str]) -> dict[str, Any]:
    return _in_current_terms(operation, params.get("Version"), _parse_structure(operation.input, _tree(params), ""))


# API versions from before default VPCs, which the old command line toolkit and boto 2 send (2013-05-15 and
# earlier): an instance they create naming no network is an EC2-Classic one, in the DB security group
# `default`, as RDS made it then. Later versions leave it in the VPC's default security group.
CLASSIC_UNTIL = "2014-09-01"
_NETWORK = ("DBSecurityGroups", "VpcSecurityGroupIds", "DBSubnetGroupName")


def _in_current_terms(operation: Operation, version: str | None, request: dict[str, Any]) -> dict[str, Any]:
    """The request as the current API version says it."""
    classic = version is not None and version < CLASSIC_UNTIL
    if classic and operation.name == "CreateDBInstance" and not any(request.get(name) for name in _NETWORK):
        return {**request, "DBSecurityGroups": ["default"]}
    return request


def _tree(params: Mapping[str, str]) -> dict[str, Node]:
    """`A.member.1.B=x` -> {"A": {"member": {"1": {"B": "x"}}}}; a key that is also a prefix keeps its children."""
    root: dict[str, Node] = {}
    for key, value in params.items():
        node = root
        *path, last = key.split(".")
        for part in path:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if not isinstance(node.get(last), dict):
            node[last] = value
    return root


def _parse(shape: Shape, node: Node, path: str) -> Any:
    return _PARSERS.get(shape.type, _parse_string)(shape, node, path)


def _parse_structure(shape: Shape, node: Node, path: str) -> dict[str, Any]:
    if not isinstance(node, dict):
        if node == "":
            node = {}
        else:
            raise invalid(f"The parameter {path} must be a structure, not a single value.")
    result = {}
    for name, (member, location) in shape.members.items():
        if location in node:
            result[name] = _parse(member, node[location], _join(path, location))
    for name in shape.required:
        if name not in result:
            raise RdsError("MissingParameter", f"The request must contain the parameter {_join(path, name)}")
    return result


def _parse_list(shape: Shape, node: Node, path: str) -> list[Any]:
    if node == "":
        return []
    if not isinstance(node, dict):
        raise invalid(f"The parameter {path} must be a list: use {path}.member.N.")
    items = {**_as_dict(node.get(shape.member_name)), **_as_dict(node.get("member"))}
    if not items:
        raise invalid(f"The parameter {path} must be a list: use {path}.member.N.")
    indexed = []
    for index, value in items.items():
        if not (index.isascii() and index.isdigit() and len(index) <= INDEX_DIGITS) or int(index) < 1:
            raise invalid(f"The list index {shown(index)!r} in {path} must be a whole number from 1.")
        indexed.append((int(index), value))
    indexed.sort(key=lambda pair: pair[0])
    assert shape.member is not None
    return [_parse(shape.member, value, f"{path}.member.{i}") for i, value in indexed]


def _as_dict(node: Node | None) -> dict[str, Node]:
    return node if isinstance(node, dict) else {}


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _scalar(node: Node, path: str) -> str:
    if isinstance(node, dict):
        raise invalid(f"The parameter {path} must be a single value.")
    return node


def _parse_string(shape: Shape, node: Node, path: str) -> str:
    text = _scalar(node, path)
    if shape.enum and text not in shape.enum:
        raise invalid(f"Invalid value '{shown(text)}' for parameter {path}: expected one of {', '.join(shape.enum)}.")
    return text


_INTEGER_BITS = {"integer": 31, "long": 63}
# ASCII digits only, and few enough that int() never meets Python's limit on long numbers.
_INTEGER = re.compile(r"^[+-]?[0-9]{1,20}\Z")


def _parse_integer(shape: Shape, node: Node, path: str) -> int:
    text = _scalar(node, path).strip()
    if not _INTEGER.match(text):
        raise invalid(f"Invalid value '{shown(text)}' for parameter {path}: expected an integer.")
    number = int(text)
    bound = 1 << _INTEGER_BITS[shape.type]
    if not -bound <= number < bound:
        raise invalid(f"Invalid value '{shown(text)}' for parameter {path}: the number is out of range.")
    return number


def _parse_double(shape: Shape, node: Node, path: str) -> float:
    text = _scalar(node, path).strip()
    try:
        number = float(text) if len(text) <= 64 and text.isascii() else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise invalid(f"Invalid value '{shown(text)}' for parameter {path}: expected a number.")
    return number


def _parse_boolean(shape: Shape, node: Node, path: str) -> bool:
    text = _scalar(node, path).strip().lower()
    if text not in ("true", "false"):
        raise invalid(f"Invalid value '{shown(text)}' for parameter {path}: expected true or false.")
    return text == "true"


def _parse_timestamp(shape: Shape, node: Node, path: str) -> datetime:
    text = _scalar(node, path).strip()
    try:
        if len(text) > 64 or not text.isascii():
            raise ValueError(text)
        moment = datetime.fromtimestamp(float(text), UTC) if _is_number(text) else datetime.fromisoformat(text)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise invalid(
            f"Invalid value '{shown(text)}' for parameter {path}: expected an ISO 8601 timestamp."
        ) from None
    return moment


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_PARSERS: dict[str, Callable[[Shape, Node, str], Any]] = {
    "structure": _parse_structure,
    "list": _parse_list,
    "string": _parse_string,
    "integer": _parse_integer,
    "long": _parse_integer,
    "double": _parse_double,
    "boolean": _parse_boolean,
    "timestamp": _parse_timestamp,
}
