"""The VPC every instance lives in, as RDS reports it: one VPC a region, a subnet in each availability
zone, the VPC's default security group, and DB subnet groups over those subnets. Identifiers are derived
from the account and region, so they are the same on every start and on every machine.
"""

import functools
import hashlib
import itertools
from typing import Any

from emulator.model import arn, catalogue
from emulator.protocol.xml import Constant

DEFAULT_SUBNET_GROUP = "default"
DEFAULT_DESCRIPTION = "default"


def _id(prefix: str, *parts: str) -> str:
    return f"{prefix}-" + hashlib.sha256(":".join(parts).encode()).hexdigest()[:17]


def vpc_id(region: str, account: str) -> str:
    return _id("vpc", account, region)


@functools.cache
def default_security_group(region: str, account: str) -> str:
    return _id("sg", account, region, "default")


def default_subnets(region: str, account: str) -> list[dict[str, str]]:
    return [{"id": _id("subnet", account, zone), "zone": zone} for zone in catalogue.availability_zones(region)]


def place_subnets(region: str, account: str, subnet_ids: list[str]) -> list[dict[str, str]]:
    """Subnets by id with their zones: the default subnets keep theirs; a subnet this VPC does not know (made
    in some other tool's VPC) is put in the zones in turn, so that a group of several spans several zones."""
    known = {subnet["id"]: subnet["zone"] for subnet in default_subnets(region, account)}
    spare = itertools.cycle(catalogue.availability_zones(region))
    return [{"id": subnet_id, "zone": known.get(subnet_id) or next(spare)} for subnet_id in dict.fromkeys(subnet_ids)]


def subnet_group_wire(
    name: str, description: str, subnets: list[dict[str, str]], region: str, account: str
) -> dict[str, Any]:
    return {
        "DBSubnetGroupName": name,
        "DBSubnetGroupDescription": description,
        "VpcId": vpc_id(region, account),
        "SubnetGroupStatus": "Complete",
        "Subnets": [
            {
                "SubnetIdentifier": subnet["id"],
                "SubnetAvailabilityZone": {"Name": subnet["zone"]},
                "SubnetOutpost": {},
                "SubnetStatus": "Active",
            }
            for subnet in subnets
        ],
        "DBSubnetGroupArn": arn.resource_arn(region, account, "subgrp", name),
        "SupportedNetworkTypes": ["IPV4"],
    }


@functools.cache
def default_subnet_group_wire(region: str, account: str) -> dict[str, Any]:
    """Made once, and written once: every instance in the default group reports the very same group."""
    return Constant(subnet_group_wire(
        DEFAULT_SUBNET_GROUP, DEFAULT_DESCRIPTION, default_subnets(region, account), region, account
    ))
