"""Amazon Resource Names of our resources."""

import re

from emulator.protocol.errors import invalid, shown

_ARN = re.compile(r"^arn:aws:rds:([a-z0-9-]+):(\d{12}):(db|og|pg|secgrp|snapshot|subgrp):(.+)$")


def resource_arn(region: str, account: str, kind: str, name: str) -> str:
    return f"arn:aws:rds:{region}:{account}:{kind}:{name}"


def instance_arn(region: str, account: str, identifier: str) -> str:
    return resource_arn(region, account, "db", identifier)


def parse(arn: str) -> tuple[str, str]:
    """ARN -> (resource type, name); anything else is the client's error."""
    match = _ARN.match(arn)
    if not match:
        raise invalid(f"The specified resource name does not match an RDS resource in this region: {shown(arn)}")
    return match.group(3), match.group(4)


def name_of(value: str, kind: str, noun: str) -> str:
    """A resource's name as given, or from its ARN, which must be of `kind` (what `noun` names); lower case."""
    if value.startswith("arn:"):
        found, name = parse(value)
        if found != kind:
            raise invalid(f"The ARN {shown(value)} does not name a {noun}.")
        return name.lower()
    return value.lower()
