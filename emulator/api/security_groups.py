"""DB security groups (the EC2-Classic kind that the old tools and SDKs manage): CreateDBSecurityGroup,
AuthorizeDBSecurityGroupIngress, RevokeDBSecurityGroupIngress, DescribeDBSecurityGroups,
DeleteDBSecurityGroup. The `default` group exists from the start and may not be deleted; a group an instance
is in may not be deleted. A rule is `authorizing` (or `revoking`) until the group's task has applied it, then
`authorized` (or gone): security_groups.py."""

import ipaddress
import re
from typing import Any

from emulator.api import common
from emulator.api.paging import page
from emulator.context import Context
from emulator.model import validation
from emulator.model.records import IngressRule, SecurityGroup
from emulator.protocol.errors import RdsError, combination, invalid, shown
from emulator.store.errors import GroupMissing, NameTaken, RuleTaken

DEFAULT = "default"
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
LONGEST_NAME = 255
LONGEST_DESCRIPTION = 255
_EC2_OWNER = re.compile(r"^\d{12}$")


def create(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = _valid_name(request["DBSecurityGroupName"])
    description = request["DBSecurityGroupDescription"]
    if not description.strip() or len(description) > LONGEST_DESCRIPTION:
        raise invalid(f"The parameter DBSecurityGroupDescription must be 1 to {LONGEST_DESCRIPTION} characters.")
    group = SecurityGroup(name, description, ctx.clock.now())
    try:
        ctx.store.add_security_group(group, validation.tags(request.get("Tags", [])))
    except NameTaken:
        raise RdsError("DBSecurityGroupAlreadyExists", f"A DB security group named {name} already exists.") \
            from None
    return {"DBSecurityGroup": wire(ctx, group, [])}


def authorize(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    rule = _ingress(ctx, request)
    try:
        ctx.store.add_rule(rule, ctx.clock.now())
    except GroupMissing:
        raise common.security_group_not_found(rule.group_name) from None
    except RuleTaken:
        raise RdsError("AuthorizationAlreadyExists", f"The ingress {rule.value} is already authorized for DB "
                                                     f"security group {rule.group_name}.") from None
    ctx.kick()  # the store queued the rule's task with it
    return _answer(ctx, rule, "authorizing")


def revoke(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    rule = _ingress(ctx, request)
    before = ctx.store.revoke_rule(rule, ctx.clock.now())
    if before is None:
        common.existing_security_group(ctx, rule.group_name)
        raise RdsError("AuthorizationNotFound", f"DB security group {rule.group_name} does not authorize the "
                                                f"ingress {rule.value}.")
    if before != "authorized":
        raise RdsError("InvalidDBSecurityGroupState", f"The ingress {rule.value} of DB security group "
                                                      f"{rule.group_name} is {before}: revoke it once it is "
                                                      "authorized.")
    ctx.kick()
    return _answer(ctx, rule, "revoking")


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("Filters"):
        raise invalid("DescribeDBSecurityGroups does not support filters yet.")
    if request.get("DBSecurityGroupName"):
        return {"DBSecurityGroups": [_current(ctx, request["DBSecurityGroupName"])]}

    def fetch(after: str | None, n: int) -> list[dict[str, Any]]:
        return [wire(ctx, group, rules) for group, rules in ctx.store.list_security_groups(after=after, limit=n)]

    found, marker = page(fetch, lambda group: group["DBSecurityGroupName"], request)
    return {"DBSecurityGroups": found, "Marker": marker}


def delete(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = common.existing_security_group(ctx, request["DBSecurityGroupName"])[0].name
    if name == DEFAULT:
        raise RdsError("InvalidDBSecurityGroupState", "The default DB security group cannot be deleted.")
    if not ctx.store.remove_security_group(name):
        raise RdsError("InvalidDBSecurityGroupState", f"DB security group {name} cannot be deleted: a DB instance "
                                                      "is in it.")
    return {}


def wire(ctx: Context, group: SecurityGroup, rules: list[IngressRule]) -> dict[str, Any]:
    return {
        "OwnerId": ctx.settings.account_id,
        "DBSecurityGroupName": group.name,
        "DBSecurityGroupDescription": group.description,
        "EC2SecurityGroups": [{"Status": rule.status, "EC2SecurityGroupName": rule.value,
                               "EC2SecurityGroupOwnerId": rule.owner_id} for rule in rules if rule.kind == "ec2"],
        "IPRanges": [{"Status": rule.status, "CIDRIP": rule.value} for rule in rules if rule.kind == "cidr"],
        "DBSecurityGroupArn": ctx.arn("secgrp", group.name),
    }


def _current(ctx: Context, name: str) -> dict[str, Any]:
    return wire(ctx, *common.existing_security_group(ctx, name))


def _answer(ctx: Context, changed: IngressRule, status: str) -> dict[str, Any]:
    """The group, with the rule just changed as the request left it (its task may have settled it since)."""
    group, rules = common.existing_security_group(ctx, changed.group_name)
    same = (changed.kind, changed.value)
    shown_rules = [rule for rule in rules if (rule.kind, rule.value) != same]
    return {"DBSecurityGroup": wire(ctx, group, [*shown_rules, IngressRule(
        changed.group_name, changed.kind, changed.value, changed.owner_id, status)])}


def _ingress(ctx: Context, request: dict[str, Any]) -> IngressRule:
    """The group, and the ingress a request names: a CIDR range, or an EC2 security group (by name, with its
    owner's account; an id alone names no group the emulator can know)."""
    name = request["DBSecurityGroupName"].lower()
    cidr, ec2_name = request.get("CIDRIP"), request.get("EC2SecurityGroupName")
    if cidr and (ec2_name or request.get("EC2SecurityGroupId")):
        raise combination("Give either CIDRIP or an EC2 security group, not both.")
    if cidr:
        return IngressRule(name, "cidr", _cidr(cidr), None, "")
    if ec2_name:
        owner = request.get("EC2SecurityGroupOwnerId") or ctx.settings.account_id
        if not _EC2_OWNER.match(owner):
            raise invalid(f"EC2SecurityGroupOwnerId must be a 12-digit AWS account number, not {shown(owner)}.")
        return IngressRule(name, "ec2", ec2_name, owner, "")
    if request.get("EC2SecurityGroupId"):
        raise invalid("Name the EC2 security group (EC2SecurityGroupName and EC2SecurityGroupOwnerId): its id "
                      "alone is not enough here.")
    raise RdsError("MissingParameter", "Give CIDRIP, or EC2SecurityGroupName and EC2SecurityGroupOwnerId.")


def _cidr(text: str) -> str:
    try:
        network = ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        raise invalid(f"CIDRIP {shown(text)} is not a valid IPv4 CIDR range, such as 203.0.113.0/24.") from None
    if "/" not in text:
        raise invalid(f"CIDRIP {shown(text)} needs its prefix length: {text}/32 for one address.")
    return str(network)


def _valid_name(text: str) -> str:
    name = text.lower()
    if name == DEFAULT:
        raise RdsError("DBSecurityGroupAlreadyExists", "A DB security group named default already exists.")
    if len(name) > LONGEST_NAME or not _NAME.match(name):
        raise invalid(f"The parameter DBSecurityGroupName is not a valid identifier: {shown(text)}. It must be 1 "
                      f"to {LONGEST_NAME} letters, digits or hyphens, begin with a letter, and not end with a "
                      "hyphen or hold two in a row.")
    return name
