"""Result dict -> RDS response XML, and RdsError -> ErrorResponse, by the shapes.

Keys a result leaves out (or sets to None) are not written: RDS omits what it has no value for.
The output is well-formed whatever it is given: a character XML 1.0 forbids becomes U+FFFD.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from .errors import RdsError
from .shapes import RDS, Operation, Shape

# What XML 1.0 does not allow in a document, even escaped.
_FORBIDDEN = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
FORBIDDEN = re.compile(_FORBIDDEN)
# Anything that needs work: most strings have none, and are written as they are after one search.
_SPECIAL = re.compile(f"[&<>]|{_FORBIDDEN}")


def text(value: str) -> str:
    """A string as element content: escaped, and never ill-formed."""
    if _SPECIAL.search(value) is None:
        return value
    return escape(FORBIDDEN.sub("\ufffd", value))


def response(operation: Operation, result: dict[str, Any] | None, request_id: str) -> str:
    name = operation.name
    parts = [f'<{name}Response xmlns="{RDS.namespace}">']
    if operation.output is not None and operation.result_wrapper:
        parts.append(f"<{operation.result_wrapper}>")
        _serialize_members(operation.output, result or {}, parts)
        parts.append(f"</{operation.result_wrapper}>")
    parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>")
    return "".join(parts)


def error_response(error: RdsError, request_id: str) -> str:
    return (
        f'<ErrorResponse xmlns="{RDS.namespace}"><Error><Type>{error.fault}</Type>'
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


_CONSTANTS: dict[tuple[int, int], str] = {}


def _serialize_structure(shape: Shape, value: dict[str, Any], parts: list[str]) -> None:
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
    plan = _plan(shape)
    for name, item in value.items():
        if item is not None:
            opening, closing, serialize, member = plan[name]
            parts.append(opening)
            serialize(member, item, parts)
            parts.append(closing)


def _serialize_list(shape: Shape, value: list[Any], parts: list[str]) -> None:
    assert shape.member is not None
    member = shape.member
    opening, closing = f"<{shape.member_name}>", f"</{shape.member_name}>"
    serialize = _SERIALIZERS[member.type]
    for item in value:
        parts.append(opening)
        serialize(member, item, parts)
        parts.append(closing)


_PLANS: dict[int, dict[str, tuple[str, str, Callable[[Shape, Any, list[str]], None], Shape]]] = {}


def _plan(shape: Shape) -> dict[str, tuple[str, str, Callable[[Shape, Any, list[str]], None], Shape]]:
    """Each member's tags and serializer, worked out once per shape."""
    plan = _PLANS.get(id(shape))
    if plan is None:
        plan = _PLANS[id(shape)] = {
            name: (f"<{location}>", f"</{location}>", _SERIALIZERS[member.type], member)
            for name, (member, location) in shape.members.items()
        }
    return plan


def _serialize_string(shape: Shape, value: str, parts: list[str]) -> None:
    # text(), inlined: this runs for every string of every response
    parts.append(value if _SPECIAL.search(value) is None else escape(FORBIDDEN.sub("\ufffd", value)))


def _serialize_number(shape: Shape, value: Any, parts: list[str]) -> None:
    parts.append(str(value))


def _serialize_boolean(shape: Shape, value: bool, parts: list[str]) -> None:
    parts.append("true" if value else "false")


def _serialize_timestamp(shape: Shape, value: datetime, parts: list[str]) -> None:
    parts.append(timestamp(value))


_SERIALIZERS: dict[str, Callable[[Shape, Any, list[str]], None]] = {
    "structure": _serialize_structure,
    "list": _serialize_list,
    "string": _serialize_string,
    "integer": _serialize_number,
    "long": _serialize_number,
    "double": _serialize_number,
    "boolean": _serialize_boolean,
    "timestamp": _serialize_timestamp,
}
