"""The JSON 1.1 protocol, Secrets Manager's: an X-Amz-Target and a JSON body -> (operation, request dict),
a result dict -> JSON body, by the shapes, as query.py and xml.py do for RDS's Query protocol."""

import json
import math
from datetime import datetime
from typing import Any

from emulator.protocol.shapes import SECRETS_MANAGER, Operation, ServiceShapes, Shape

CONTENT_TYPE = "application/x-amz-json-1.1"


class JsonError(Exception):
    """A failure the client caused, answered as `{"__type": code, "message": ...}`."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


def operation_of(target: str, service: ServiceShapes = SECRETS_MANAGER) -> Operation:
    prefix, _, action = target.partition(".")
    operation = service.operations.get(action) if prefix == service.namespace else None
    if operation is None:
        raise JsonError("UnknownOperationException", f"The operation {target[:64]} is not known to "
                        f"{service.namespace}.")
    return operation


def parse_input(operation: Operation, body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise JsonError("SerializationException", "The request body is not valid JSON.") from None
    return _parse(operation.input, value, operation.input.name)


def _parse(shape: Shape, value: Any, path: str) -> Any:
    kind = shape.type
    if kind == "structure":
        if not isinstance(value, dict):
            raise _wrong(path, "an object")
        missing = [name for name in shape.required if value.get(name) is None]
        if missing:
            raise JsonError("InvalidParameterException", f"The member {path}.{missing[0]} is required.")
        return {name: _parse(shape.members[name][0], item, f"{path}.{name}")
                for name, item in value.items() if name in shape.members and item is not None}
    if kind == "list":
        if not isinstance(value, list):
            raise _wrong(path, "a list")
        return [_parse(shape.member, item, f"{path}[{i}]") for i, item in enumerate(value)]  # type: ignore[arg-type]
    if kind == "map":  # the shapes keep no map's key and value types: none of the served inputs has one
        if not isinstance(value, dict):
            raise _wrong(path, "an object")
        return value
    expected = _SCALARS.get(kind, str)
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        raise _wrong(path, kind)
    if isinstance(value, float) and not math.isfinite(value):
        raise _wrong(path, kind)
    return value


_SCALARS: dict[str, Any] = {"boolean": bool, "integer": int, "long": int, "timestamp": (int, float),
                            "double": (int, float), "float": (int, float), "string": str, "blob": str}


def _wrong(path: str, expected: str) -> JsonError:
    return JsonError("SerializationException", f"The member {path} must be {expected}.")


def response(operation: Operation, result: dict[str, Any]) -> bytes:
    written = _write(operation.output, result) if operation.output is not None else {}
    return json.dumps(written, separators=(",", ":")).encode()


def _write(shape: Shape, value: Any) -> Any:
    if shape.type == "structure":
        return {name: _write(shape.members[name][0], item) for name, item in value.items()
                if item is not None and name in shape.members}
    if shape.type == "list":
        return [_write(shape.member, item) for item in value]  # type: ignore[arg-type]
    if shape.type == "map":  # plain JSON already (VersionIdsToStages: id -> stage names)
        return value
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    return value


def error_body(error: JsonError) -> bytes:
    return json.dumps({"__type": error.code, "message": error.message}).encode()
