"""Writes emulator/protocol/rds-shapes.json: the wire shapes of the actions we serve.

The authority on names, nesting and list member names is botocore's RDS service model. This tool keeps
the structure of the actions listed below (no documentation text) so that the server reads its shapes
from data and never imports botocore. Run it when an action is added:  .venv/bin/python tools/gen_shapes.py
"""

import json
import pathlib

import botocore.loaders

ACTIONS = [
    "AddTagsToResource",
    "CreateDBInstance",
    "DeleteDBInstance",
    "DescribeDBEngineVersions",
    "DescribeDBInstances",
    "DescribeEventCategories",
    "DescribeEvents",
    "DescribeOrderableDBInstanceOptions",
    "ListTagsForResource",
    "ModifyDBInstance",
    "RebootDBInstance",
    "RemoveTagsFromResource",
    "StartDBInstance",
    "StopDBInstance",
]
KEPT_MEMBER_KEYS = ("shape", "locationName")
KEPT_SHAPE_KEYS = ("type", "required", "min", "max", "enum")
OUT = pathlib.Path(__file__).resolve().parent.parent / "emulator" / "protocol" / "rds-shapes.json"


def strip_shape(shape: dict) -> dict:
    kept = {k: shape[k] for k in KEPT_SHAPE_KEYS if k in shape}
    if "members" in shape:
        kept["members"] = {
            name: {k: m[k] for k in KEPT_MEMBER_KEYS if k in m} for name, m in shape["members"].items()
        }
    if "member" in shape:
        kept["member"] = {k: shape["member"][k] for k in KEPT_MEMBER_KEYS if k in shape["member"]}
    return kept


def collect(model: dict, name: str, into: dict) -> None:
    if name in into:
        return
    shape = strip_shape(model["shapes"][name])
    into[name] = shape
    children = [m["shape"] for m in shape.get("members", {}).values()]
    if "member" in shape:
        children.append(shape["member"]["shape"])
    for child in children:
        collect(model, child, into)


def main() -> None:
    model = botocore.loaders.Loader().load_service_model("rds", "service-2")
    shapes: dict = {}
    operations = {}
    for action in ACTIONS:
        op = model["operations"][action]
        entry = {"input": op["input"]["shape"]}
        collect(model, op["input"]["shape"], shapes)
        if "output" in op:
            entry["output"] = op["output"]["shape"]
            entry["resultWrapper"] = op["output"]["resultWrapper"]
            collect(model, op["output"]["shape"], shapes)
        operations[action] = entry
    data = {
        "apiVersion": model["metadata"]["apiVersion"],
        "xmlNamespace": model["metadata"]["xmlNamespace"],
        "operations": operations,
        "shapes": dict(sorted(shapes.items())),
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT} ({len(operations)} actions, {len(shapes)} shapes)")


if __name__ == "__main__":
    main()
