"""What an ingress rule's task does: the firewall is made to match the store, and then an `authorizing` rule
becomes `authorized`, a `revoking` one is gone, with an event. Each change to a rule comes with its own task,
queued in the change's transaction, so none is missed and none waits for another."""

import logging
from datetime import datetime

from emulator.context import Context
from emulator.host.firewall import Guard
from emulator.model import ids
from emulator.model.records import IngressRule, Task
from emulator.work.runner import ResourceWork

log = logging.getLogger(__name__)


def apply(ctx: Context, rule: IngressRule, task: Task) -> None:
    enforce(ctx)
    if ctx.store.settle_rule(rule, task.id):
        verb = "Revoked" if rule.status == "revoking" else "Authorized"
        _event(ctx, rule.group_name, f"{verb} ingress from {_source(rule)}", "configuration change")


def fail(ctx: Context, rule: IngressRule, reason: str) -> None:
    log.error("applying an ingress rule of DB security group %s failed: %s", rule.group_name, reason)
    _event(ctx, rule.group_name, f"Could not apply the ingress from {_source(rule)}: {reason}", "failure")


def enforce(ctx: Context) -> None:
    """The firewall as the store has it now: every instance in DB security groups guarded (firewall.py).
    FirewallError."""
    ctx.firewall.sync(lambda: [Guard(address or ctx.settings.server_host, port, tuple(cidrs))
                               for address, port, cidrs in ctx.store.guarded_endpoints()])


def firewall_sync(ctx: Context, resource_id: str) -> tuple[str, str, str, dict, datetime]:
    """The task that makes the firewall follow an instance's new DB security groups, to be queued with the
    change: each change has its own (so that none reads the store before the change it follows)."""
    return ("firewall", f"{resource_id}:{ids.token()[:12]}", "sync", {"resource_id": resource_id},
            ctx.clock.now())


def sync(ctx: Context, _key: str, task: Task) -> None:
    enforce(ctx)


def sync_failed(ctx: Context, _key: str, reason: str) -> None:
    """The change stays made, and the next change to any group (or the next start) tries again."""
    instance = ctx.store.get_instance(_key.partition(":")[0])
    if instance is not None:
        ctx.instance_event(instance.identifier, f"Could not apply the DB security groups: {reason}", "failure")


def _source(rule: IngressRule) -> str:
    return rule.value if rule.kind == "cidr" else f"EC2 security group {rule.value} (owner {rule.owner_id})"


def _event(ctx: Context, name: str, message: str, category: str) -> None:
    ctx.event("db-security-group", name, ctx.arn("secgrp", name), message, category)


RULE_WORK = ResourceWork(load=lambda ctx, key: ctx.store.get_rule(key), work={"apply": apply}, fail=fail)
FIREWALL_WORK = ResourceWork(load=lambda ctx, key: key, work={"sync": sync}, fail=sync_failed)
