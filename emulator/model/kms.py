"""KMS keys as RDS takes them (an ARN, a key id, an alias name or alias ARN) and reports them (a key's ARN).
There is no KMS here: a key is a name the emulator keeps and derives its own keys under; an alias stands for
one key, the same each time it is named, and the AWS managed keys (aws/rds, aws/secretsmanager) are this
account's own."""

import re
import uuid

from emulator.protocol.errors import RdsError, shown

_KEY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$")
_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")
_ARN = re.compile(r"^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key/.+|alias/.+)$")
# the namespace alias keys are named in: an alias is one key id, here and after a restart
_ALIASES = uuid.UUID("6f1d0c52-3b8e-4d43-9a55-6b1f0a3e9c27")


def key_arn(value: str | None, default_alias: str, region: str, account: str) -> str:
    """The ARN of the key `value` names (the AWS managed `default_alias`, none given); KMSKeyNotAccessibleFault
    for what names no key of this account and region."""
    if not value:
        return _alias_key(default_alias, region, account)
    if _KEY_ID.match(value):
        return f"arn:aws:kms:{region}:{account}:key/{value}"
    if _ALIAS.match(value):
        return _alias_key(value, region, account)
    found = _ARN.match(value)
    if found and found.group(1) == region and found.group(2) == account:
        named = found.group(3)
        if named.startswith("key/") and _KEY_ID.match(named[4:]):
            return value
        if _ALIAS.match(named):
            return _alias_key(named, region, account)
    raise RdsError("KMSKeyNotAccessibleFault", f"The specified KMS key [{shown(value)}] does not exist, is not "
                   f"enabled or you do not have permissions to access it (this emulator's keys are named in "
                   f"region {region} of account {account}).")


def _alias_key(alias: str, region: str, account: str) -> str:
    key_id = uuid.uuid5(_ALIASES, f"{account}/{region}/{alias}")
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"
