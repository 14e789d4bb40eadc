"""The declared wire: every operation's shapes and every error code, read from rds-shapes.json (see
tools/gen_shapes.py), which is botocore's RDS model without its documentation; and from
secretsmanager-shapes.json, Secrets Manager's, for the secrets RDS manages."""

import json
import pathlib
from dataclasses import dataclass, field


@dataclass(eq=False)
class Shape:
    name: str
    type: str
    required: tuple[str, ...] = ()
    enum: tuple[str, ...] = ()
    # structure: member name -> (its shape, its XML element name)
    members: dict[str, tuple["Shape", str]] = field(default_factory=dict)
    # list: the member shape and the name each member is wrapped in
    member: "Shape | None" = None
    member_name: str = "member"

    def __repr__(self) -> str:
        return f"Shape({self.name}, {self.type})"


@dataclass(frozen=True)
class Operation:
    name: str
    input: Shape
    output: Shape | None
    result_wrapper: str | None


@dataclass(frozen=True)
class ErrorCode:
    status: int
    sender: bool


@dataclass(frozen=True)
class ServiceShapes:
    api_version: str
    # the Query protocol's XML namespace (RDS), or the JSON protocol's X-Amz-Target prefix (Secrets Manager)
    namespace: str
    operations: dict[str, Operation]
    errors: dict[str, ErrorCode]
    botocore_version: str


def _link(raw: dict[str, dict]) -> dict[str, Shape]:
    shapes = {
        name: Shape(name, s["type"], tuple(s.get("required", ())), tuple(s.get("enum", ())))
        for name, s in raw.items()
    }
    for name, s in raw.items():
        shape = shapes[name]
        for member, ref in s.get("members", {}).items():
            shape.members[member] = (shapes[ref["shape"]], ref.get("locationName", member))
        if "member" in s:
            shape.member = shapes[s["member"]["shape"]]
            shape.member_name = s["member"].get("locationName", "member")
    return shapes


def load(path: pathlib.Path | None = None) -> ServiceShapes:
    path = path or pathlib.Path(__file__).with_name("rds-shapes.json")
    data = json.loads(path.read_text())
    shapes = _link(data["shapes"])
    operations = {
        name: Operation(
            name,
            shapes[op["input"]],
            shapes[op["output"]] if "output" in op else None,
            op.get("resultWrapper"),
        )
        for name, op in data["operations"].items()
    }
    errors = {code: ErrorCode(e["status"], e["sender"]) for code, e in data["errors"].items()}
    namespace = data.get("xmlNamespace") or data["targetPrefix"]
    return ServiceShapes(data["apiVersion"], namespace, operations, errors, data["botocoreVersion"])


RDS = load()
SECRETS_MANAGER = load(pathlib.Path(__file__).with_name("secretsmanager-shapes.json"))
