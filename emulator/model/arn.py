"""Amazon Resource Names of our resources."""

import re

from emulator.protocol.errors import invalid, shown

_ARN = re.compile(r"^arn:aws:rds:([a-z0-9-]+):(\d{12}):(db|pg|secgrp|snapshot|subgrp):(.+)$")


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
