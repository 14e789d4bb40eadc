"""Result dict -> RDS response XML, and RdsError -> ErrorResponse, by the shapes.

Keys a result leaves out (or sets to None) are not written: RDS omits what it has no value for.
The output is well-formed whatever it is given: a character XML 1.0 forbids becomes U+FFFD.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from emulator.protocol.errors import RdsError
from emulator.protocol.shapes import RDS, Operation, Shape

NAMESPACE = RDS.namespace
# An API version a client may ask for: older SDKs and tools send theirs (2013-05-15, 2009-10-16...).
VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
# What XML 1.0 does not allow in a document, even escaped.
FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def forbidden_in(value: str) -> bool:
    # printable ASCII (nearly every string) is settled by two C-level tests, far cheaper than the regex
    return not (value.isascii() and value.isprintable()) and FORBIDDEN.search(value) is not None


def text(value: str) -> str:
    """A string as element content: escaped, and never ill-formed."""
    if value.isascii() and value.isprintable():
        return escape(value) if "&" in value or "<" in value or ">" in value else value
    return escape(FORBIDDEN.sub("\ufffd", value))


def namespace(version: str | None) -> str:
    """The namespace of the API version a request asked for, when it is one RDS can have published (none
    later than ours); the current one otherwise. The elements are the current version's either way: older
    parsers find theirs by name, and skip what they do not know."""
    if version and VERSION.fullmatch(version) and version <= RDS.api_version:
        return f"http://rds.amazonaws.com/doc/{version}/"
    return NAMESPACE


def response(operation: Operation, result: dict[str, Any] | None, request_id: str,
             namespace: str = NAMESPACE) -> str:
    name = operation.name
    parts = [f'<{name}Response xmlns="{namespace}">']
    if operation.output is not None and operation.result_wrapper:
        parts.append(f"<{operation.result_wrapper}>")
        _serialize_members(operation.output, result or {}, parts)
        parts.append(f"</{operation.result_wrapper}>")
    parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>")
    return "".join(parts)


def error_response(error: RdsError, request_id: str, namespace: str = NAMESPACE) -> str:
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{error.fault}</Type>'
        f"<Code>{text(error.code)}</Code><Message>{text(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )


def timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as RDS writes it: 2009-11-06T02:19:59.160Z."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Constant(dict):
    """A structure that never changes once made (the default DB subnet group every instance reports): its
    XML is worked out once and reused, which matters on a 100-instance Describe page."""


class Written(str):
    """A structure's members as `written` wrote them, for a caller that keeps what it wrote and knows when it
    no longer holds (see emulator/written.py): given in its place, it is written as it is."""


def written(shape: Shape, value: dict[str, Any]) -> Written:
    parts: list[str] = []
    _serialize_members(shape, value, parts)
    return Written("".join(parts))


_CONSTANTS: dict[tuple[int, int], str] = {}
Writer = Callable[[Any, list[str]], None]


def _serialize_structure(shape: Shape, value: dict[str, Any], parts: list[str]) -> None:
    if type(value) is Written:
        parts.append(value)
        return
    if type(value) is Constant:
        key = (id(shape), id(value))
        written = _CONSTANTS.get(key)
        if written is None:
            inner: list[str] = []
            _serialize_members(shape, value, inner)
            # the constant is kept alive by whoever made it (a cache), so its id is never reused
            written = _CONSTANTS[key] = "".join(inner)
        parts.append(written)
        return
    _serialize_members(shape, value, parts)


def _serialize_members(shape: Shape, value: dict[str, Any], parts: list[str]) -> None:
    # Walk the value, not the shape: a DBInstance shape has ~100 members and a result fills about half.
    plan = _PLANS.get(id(shape)) or _plan(shape)
    for name, item in value.items():
        if item is not None:
            plan[name](item, parts)


def _serialize_list(shape: Shape, value: list[Any], parts: list[str]) -> None:
    assert shape.member is not None
    write = _writer(shape.member, shape.member_name)
    for item in value:
        write(item, parts)


_PLANS: dict[int, dict[str, Writer]] = {}


def _plan(shape: Shape) -> dict[str, Writer]:
    """Each member's writer, worked out once per shape."""
    plan = _PLANS[id(shape)] = {name: _writer(member, location) for name, (member, location) in shape.members.items()}
    return plan


_WRITERS: dict[tuple[int, str], Writer] = {}


def _writer(shape: Shape, element: str) -> Writer:
    """What writes one value of `shape` as <element>...</element>: a scalar in one piece."""
    key = (id(shape), element)
    write = _WRITERS.get(key)
    if write is not None:
        return write
    opening, closing = f"<{element}>", f"</{element}>"
    if shape.type == "string":
        def write(item: str, parts: list[str]) -> None:
            parts.append(opening + text(item) + closing)
    elif shape.type == "boolean":
        yes, no = f"{opening}true{closing}", f"{opening}false{closing}"

        def write(item: bool, parts: list[str]) -> None:
            parts.append(yes if item else no)
    elif shape.type in ("integer", "long", "double"):
        def write(item: Any, parts: list[str]) -> None:
            parts.append(f"{opening}{item}{closing}")
    elif shape.type == "timestamp":
        def write(item: datetime, parts: list[str]) -> None:
            parts.append(opening + timestamp(item) + closing)
    else:
        serialize = _SERIALIZERS[shape.type]

        def write(item: Any, parts: list[str]) -> None:
            parts.append(opening)
            serialize(shape, item, parts)
            parts.append(closing)
    _WRITERS[key] = write
    return write


_SERIALIZERS: dict[str, Callable[[Shape, Any, list[str]], None]] = {
    "structure": _serialize_structure,
    "list": _serialize_list,
}
