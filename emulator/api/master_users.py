"""The master user's password, shared by create, modify and the restores: the user's own (MasterUserPassword),
or one RDS manages in a secret (ManageMasterUserPassword), made, rotated and given up as on RDS."""

from dataclasses import replace
from typing import Any

from emulator.context import Context
from emulator.engines.server import password_hash
from emulator.model import kms, secrets, validation
from emulator.model.instance import Instance
from emulator.model.secrets import MasterSecret
from emulator.protocol.errors import combination
from emulator.work import master_secrets

MEMBERS = {"ManageMasterUserPassword", "MasterUserSecretKmsKeyId"}
MODIFY_MEMBERS = MEMBERS | {"RotateMasterUserPassword"}


def for_new(ctx: Context, request: dict[str, Any], flavor: str, inherited: str | None = None) -> dict[str, Any]:
    """A new instance's password_hash and master_secret: the request's password, a managed one, or (a
    restore's) the `inherited` hash its snapshot holds."""
    if request.get("ManageMasterUserPassword"):
        if "MasterUserPassword" in request:
            raise _both()
        return master_secrets.managed(ctx, _new_secret(ctx, request), flavor)
    if request.get("MasterUserSecretKmsKeyId"):
        raise _key_alone()
    if inherited is not None:
        return {"password_hash": inherited, "master_secret": None}
    return {"password_hash": password_hash(flavor, validation.master_password(request.get("MasterUserPassword"))),
            "master_secret": None}


def for_modify(ctx: Context, instance: Instance, request: dict[str, Any], flavor: str) -> dict[str, Any]:
    """The changes a ModifyDBInstance makes to the master password (password_hash, master_secret; none
    asked: empty), set on the server by the task that follows."""
    managed = instance.master_secret is not None
    manage = request.get("ManageMasterUserPassword", managed)
    given = "MasterUserPassword" in request
    if request.get("RotateMasterUserPassword"):
        if not (managed and manage):
            raise combination("RotateMasterUserPassword requires the master user password to be managed in "
                              "Secrets Manager (ManageMasterUserPassword).")
        if not request.get("ApplyImmediately"):
            raise combination("RotateMasterUserPassword must be applied immediately: set ApplyImmediately.")
    if manage and given:
        raise _both()
    if request.get("MasterUserSecretKmsKeyId") and not manage:
        raise _key_alone()
    if not manage:
        if managed and not given:
            raise combination("MasterUserPassword is required when ManageMasterUserPassword is turned off.")
        if not given:
            return {}
        new_password = validation.master_password(request["MasterUserPassword"])
        return {"password_hash": password_hash(flavor, new_password), "master_secret": None}
    if not managed:
        return master_secrets.managed(ctx, _new_secret(ctx, request), flavor)
    secret = MasterSecret.of(instance.master_secret or {})
    if request.get("MasterUserSecretKmsKeyId"):
        secret = replace(secret, kms_key_id=_key(ctx, request))
    if request.get("RotateMasterUserPassword"):
        return master_secrets.managed(ctx, secret.rotated(ctx.clock.now()), flavor)
    return {"master_secret": secret.to_row()} if secret.to_row() != instance.master_secret else {}


def _new_secret(ctx: Context, request: dict[str, Any]) -> MasterSecret:
    secret = secrets.new(ctx.settings.region, ctx.settings.account_id, _key(ctx, request), ctx.clock.now())
    return replace(secret, status="creating")


def _key(ctx: Context, request: dict[str, Any]) -> str:
    return kms.key_arn(request.get("MasterUserSecretKmsKeyId"), secrets.DEFAULT_KEY_ALIAS, ctx.settings.region,
                       ctx.settings.account_id)


def _both() -> Exception:
    return combination("ManageMasterUserPassword and MasterUserPassword cannot both be given: with "
                       "ManageMasterUserPassword, RDS makes the password and keeps it in Secrets Manager.")


def _key_alone() -> Exception:
    return combination("MasterUserSecretKmsKeyId can only be given with ManageMasterUserPassword.")
