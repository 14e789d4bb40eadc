"""The records the store hands out: plain data, no behaviour."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Task:
    id: int
    resource_type: str
    resource_id: str
    kind: str
    params: dict[str, Any]
    state: str
    attempts: int


@dataclass(frozen=True)
class Event:
    date: datetime
    source_type: str
    source_id: str
    source_arn: str
    message: str
    categories: list[str]


@dataclass(frozen=True)
class SubnetGroup:
    name: str
    description: str
    subnets: list[dict[str, str]]
    created_at: datetime


@dataclass
class SecurityGroup:
    name: str
    description: str
    created_at: datetime


@dataclass
class IngressRule:
    group_name: str
    kind: str  # cidr | ec2
    value: str  # the CIDR range, or the EC2 security group's name
    owner_id: str | None
    status: str  # authorizing | authorized | revoking



@dataclass(frozen=True)
class ParameterGroup:
    name: str
    family: str
    description: str
    created_at: datetime


@dataclass(frozen=True)
class GroupValue:
    value: str
    method: str


@dataclass(frozen=True)
class Surroundings:
    """What an instance's wire form needs besides its own row, read with it: its tags, the values users set in
    its parameter group (none in a default one), its DB subnet group (None: the default one)."""

    tags: list[dict[str, str]]
    values: dict[str, GroupValue]
    subnet_group: SubnetGroup | None
