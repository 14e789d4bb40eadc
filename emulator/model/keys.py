"""The keys other rows name a resource by: the tags table's for groups and snapshots, a rule's task's."""

from emulator.model.records import IngressRule


def rule_key(rule: IngressRule) -> str:
    """A rule's task's resource id: group names hold no slash."""
    return f"{rule.group_name}/{rule.kind}/{rule.value}"



def security_group_key(name: str) -> str:
    return f"secgrp:{name}"


def subnet_group_key(name: str) -> str:
    """The tags table's key for a DB subnet group (an instance's is its DbiResourceId)."""
    return f"subgrp:{name}"


def snapshot_key(identifier: str) -> str:
    """The tags table's key for a DB snapshot."""
    return f"snapshot:{identifier}"


def option_group_key(name: str) -> str:
    """The tags table's key for an option group."""
    return f"og:{name}"


def parameter_group_key(name: str) -> str:
    """The tags table's key for a DB parameter group."""
    return f"pg:{name}"


