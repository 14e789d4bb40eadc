"""Managed master passwords' secrets: a version's password and its hash, and the rotation RDS makes every
seven days (the secret's NextRotationDate), queued as the reset-credentials task that sets it on the server."""

from typing import Any

from emulator.context import Context
from emulator.engines.server import password_hash
from emulator.model.instance import Instance
from emulator.model.secrets import MasterSecret
from emulator.store.errors import StateConflict, TaskConflict


def password(ctx: Context, secret: MasterSecret, version: str | None = None) -> str:
    return ctx.passwords.password(secret.arn, version or secret.current)


def managed(ctx: Context, secret: MasterSecret, flavor: str) -> dict[str, Any]:
    """An instance's password_hash and master_secret for the secret's current version."""
    return {"password_hash": password_hash(flavor, password(ctx, secret)), "master_secret": secret.to_row()}


def rotate_if_due(ctx: Context, instance: Instance) -> bool:
    """Queue the scheduled rotation of the instance's secret, once per version (the task's key names it);
    False when none is due or the instance is busy (the next look tries again)."""
    if instance.master_secret is None or instance.task is not None or instance.observed != "running":
        return False
    secret = MasterSecret.of(instance.master_secret)
    now = ctx.clock.now()
    if now < secret.next_rotation:
        return False
    try:
        ctx.queue("db-instance", instance.resource_id, "reset-credentials", {"password": True},
                  observed=("running",), key=f"rotate-secret:{instance.resource_id}:{secret.current}",
                  **managed(ctx, secret.rotated(now), ctx.flavor(instance)))
    except (TaskConflict, StateConflict):
        return False
    return True
