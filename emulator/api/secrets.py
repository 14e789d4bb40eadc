"""Secrets Manager, for the secrets RDS manages here (managed master passwords): read them as a client of
Secrets Manager does. Every other action is refused by name: this is not a Secrets Manager for other secrets."""

import base64
import binascii
from typing import Any

from emulator.context import Context
from emulator.model import secrets
from emulator.model.instance import Instance
from emulator.model.secrets import MasterSecret
from emulator.protocol.json_wire import JsonError
from emulator.work import master_secrets

FILTERS = ("description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all")
LARGEST_PAGE = 100


def get_value(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance, secret = _find(ctx, request["SecretId"])
    version, stage = request.get("VersionId"), request.get("VersionStage")
    if version is None:
        stage = stage or secrets.CURRENT
        version = next((v for v, stages in secret.versions().items() if stage in stages), None)
        if version is None:
            raise _not_found(f"Secrets Manager can't find the specified secret value for staging label: {stage[:64]}")
    stages = secret.stage_of(version)
    if stages is None or (stage is not None and stage not in stages):
        raise _not_found(f"Secrets Manager can't find the specified secret value for VersionId: {version[:64]}")
    value = secrets.secret_string(instance.master_username, master_secrets.password(ctx, secret, version))
    return {"ARN": secret.arn, "Name": secret.name, "VersionId": version, "SecretString": value,
            "VersionStages": stages, "CreatedDate": secret.rotated_at if version == secret.current else None}


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    instance, secret = _find(ctx, request["SecretId"])
    return {**secret.described(ctx.instance_arn(instance.identifier)), "VersionIdsToStages": secret.versions()}


def list_versions(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    _, secret = _find(ctx, request["SecretId"])
    versions = [{"VersionId": version, "VersionStages": stages,
                 "CreatedDate": secret.rotated_at if version == secret.current else None}
                for version, stages in secret.versions().items()]
    return {"ARN": secret.arn, "Name": secret.name, "Versions": versions}


def list_secrets(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    entries = [{**secret.described(ctx.instance_arn(instance.identifier)),
                "SecretVersionsToStages": secret.versions()} for instance, secret in _managed(ctx)]
    for item in request.get("Filters", []):
        entries = [entry for entry in entries if _matches(entry, item)]
    entries.sort(key=lambda entry: (entry["CreatedDate"], entry["ARN"]),
                 reverse=request.get("SortOrder") == "desc")
    largest = request.get("MaxResults", LARGEST_PAGE)
    if not 1 <= largest <= LARGEST_PAGE:
        raise JsonError("InvalidParameterException", f"MaxResults must be from 1 to {LARGEST_PAGE}.")
    start = _position(request.get("NextToken"))
    chosen = entries[start:start + largest]
    more = start + largest < len(entries)
    return {"SecretList": chosen, "NextToken": _token(start + largest) if more else None}


def refuse(ctx: Context, action: str, request: dict[str, Any]) -> dict[str, Any]:
    if isinstance(request.get("SecretId"), str):
        _, secret = _find(ctx, request["SecretId"])
        raise JsonError("InvalidRequestException", f"You can't perform {action} on secret {secret.name}: it is "
                        "managed by RDS. Change it through RDS (ModifyDBInstance).")
    raise JsonError("InvalidRequestException", f"RDS Emulator's Secrets Manager serves only the secrets RDS "
                    f"manages (managed master passwords); {action} is not served.")


def _managed(ctx: Context) -> list[tuple[Instance, MasterSecret]]:
    return [(instance, MasterSecret.of(instance.master_secret)) for instance in ctx.store.list_instances()
            if instance.master_secret is not None]


def _find(ctx: Context, secret_id: str) -> tuple[Instance, MasterSecret]:
    """A secret by its ARN, its name, or its ARN without Secrets Manager's random suffix."""
    for instance, secret in _managed(ctx):
        if secret_id in (secret.arn, secret.name, secret.arn[:-7]):
            return instance, secret
    raise _not_found("Secrets Manager can't find the specified secret.")


def _matches(entry: dict[str, Any], item: dict[str, Any]) -> bool:
    key, values = item.get("Key"), item.get("Values") or []
    if key not in FILTERS:
        raise JsonError("InvalidParameterException", f"Filter key {str(key)[:64]} is not one of "
                        f"{', '.join(FILTERS)}.")
    fields = {
        "description": [entry["Description"]], "name": [entry["Name"]],
        "tag-key": [tag["Key"] for tag in entry["Tags"]], "tag-value": [tag["Value"] for tag in entry["Tags"]],
        "primary-region": [], "owning-service": [entry["OwningService"]],
    }
    candidates = [text for texts in fields.values() for text in texts] if key == "all" else fields[key]
    # Secrets Manager matches a value as a prefix, a leading "!" negating it
    return any(
        not any(text.startswith(value[1:]) for text in candidates) if value.startswith("!")
        else any(text.startswith(value) for text in candidates)
        for value in values
    )


def _position(token: str | None) -> int:
    if token is None:
        return 0
    try:
        position = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, UnicodeError, ValueError):
        position = -1
    if position < 0:
        raise JsonError("InvalidNextTokenException", "The NextToken is not one this endpoint gave.")
    return position


def _token(position: int) -> str:
    return base64.urlsafe_b64encode(str(position).encode()).decode()


def _not_found(message: str) -> JsonError:
    return JsonError("ResourceNotFoundException", message)


SERVED = {
    "GetSecretValue": get_value,
    "DescribeSecret": describe,
    "ListSecrets": list_secrets,
    "ListSecretVersionIds": list_versions,
}
