"""Writes emulator/protocol/rds-shapes.json: the structure of botocore's whole RDS model; and
secretsmanager-shapes.json, the same of its Secrets Manager model (the JSON endpoint for the secrets RDS manages).

The authority on names, nesting, list member names and error codes is botocore's RDS service model. This
tool keeps the structure of every operation and every error shape (no documentation text), and records the
botocore version it came from, so that the server reads its wire from data and never imports botocore.
It runs with the pinned botocore: `make lock` refreshes the lock and then this file; by hand,
`.venv/bin/python tools/gen_shapes.py`.
"""

import json
import pathlib

import botocore
import botocore.loaders

KEPT_MEMBER_KEYS = ("shape", "locationName")
KEPT_SHAPE_KEYS = ("type", "required", "min", "max", "enum")
OUT = pathlib.Path(__file__).resolve().parent.parent / "emulator" / "protocol" / "rds-shapes.json"
SECRETS_OUT = OUT.with_name("secretsmanager-shapes.json")

# The errors every AWS Query service answers, which a service model does not list: code -> HTTP status,
# from the AWS API reference's "Common Errors" page (the RDS edition).
COMMON_ERRORS = {
    "AccessDeniedException": 400,
    "IncompleteSignature": 400,
    "InternalFailure": 500,
    "InvalidAction": 400,
    "InvalidClientTokenId": 403,
    "InvalidParameterCombination": 400,
    "InvalidParameterValue": 400,
    "InvalidQueryParameter": 400,
    "MalformedQueryString": 404,
    "MissingAction": 400,
    "MissingAuthenticationToken": 403,
    "MissingParameter": 400,
    "NotAuthorized": 400,
    "OptInRequired": 403,
    "RequestExpired": 400,
    "ServiceUnavailable": 503,
    "SignatureDoesNotMatch": 403,
    "Throttling": 400,
    "ThrottlingException": 400,
    "ValidationError": 400,
}
# The one code of our own: an action RDS has and RDS Emulator does not serve yet (docs/compatibility.md).
EMULATOR_ERRORS = {"UnsupportedOperation": 400}
RECEIVER_FAULTS = ("InternalFailure", "ServiceUnavailable")


def strip_shape(shape: dict) -> dict:
    kept = {k: shape[k] for k in KEPT_SHAPE_KEYS if k in shape}
    if "members" in shape:
        kept["members"] = {
            name: {k: m[k] for k in KEPT_MEMBER_KEYS if k in m} for name, m in shape["members"].items()
        }
    if "member" in shape:
        kept["member"] = {k: shape["member"][k] for k in KEPT_MEMBER_KEYS if k in shape["member"]}
    return kept


def errors(model: dict) -> dict[str, dict]:
    """Wire code -> HTTP status and fault, from the model's error shapes, then the common ones."""
    found = {}
    for name, shape in model["shapes"].items():
        if "error" in shape or shape.get("exception"):
            error = shape.get("error", {})
            found[error.get("code", name)] = {
                "status": error.get("httpStatusCode", 400),
                "sender": error.get("senderFault", True),
            }
    for code, status in (COMMON_ERRORS | EMULATOR_ERRORS).items():
        found.setdefault(code, {"status": status, "sender": code not in RECEIVER_FAULTS})
    return dict(sorted(found.items()))


def build(model: dict, version: str) -> dict:
    operations = {}
    for action, op in sorted(model["operations"].items()):
        entry = {"input": op["input"]["shape"]}
        if "output" in op:
            entry["output"] = op["output"]["shape"]
            entry["resultWrapper"] = op["output"]["resultWrapper"]
        operations[action] = entry
    return {
        "botocoreVersion": version,
        "apiVersion": model["metadata"]["apiVersion"],
        "xmlNamespace": model["metadata"]["xmlNamespace"],
        "operations": operations,
        "errors": errors(model),
        "shapes": {name: strip_shape(shape) for name, shape in sorted(model["shapes"].items())},
    }


def build_json(model: dict, version: str) -> dict:
    """A JSON-protocol model (Secrets Manager's): its target prefix instead of a namespace, no result wrappers,
    and its error shapes' own names as codes."""
    operations = {}
    for action, op in sorted(model["operations"].items()):
        entry = {"input": op["input"]["shape"]}
        if "output" in op:
            entry["output"] = op["output"]["shape"]
        operations[action] = entry
    found = {name: {"status": 400, "sender": not name.startswith("Internal")}
             for name, shape in model["shapes"].items() if shape.get("exception")}
    return {
        "botocoreVersion": version,
        "apiVersion": model["metadata"]["apiVersion"],
        "targetPrefix": model["metadata"]["targetPrefix"],
        "operations": operations,
        "errors": dict(sorted(found.items())),
        "shapes": {name: strip_shape(shape) for name, shape in sorted(model["shapes"].items())},
    }


def installed_model(service: str = "rds") -> dict:
    return botocore.loaders.Loader().load_service_model(service, "service-2")


def main() -> None:
    for out, data in ((OUT, build(installed_model(), botocore.__version__)),
                      (SECRETS_OUT, build_json(installed_model("secretsmanager"), botocore.__version__))):
        out.write_text(json.dumps(data, indent=0, separators=(",", ":")) + "\n")
        print(f"wrote {out} from botocore {botocore.__version__}: {len(data['operations'])} operations, "
              f"{len(data['shapes'])} shapes, {len(data['errors'])} error codes")


if __name__ == "__main__":
    main()
