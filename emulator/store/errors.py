"""What the store refuses, as it writes."""


class GroupMissing(Exception):
    """The DB security group named is not there (any more)."""


class RuleTaken(Exception):
    """The group already lets that ingress in."""


class TaskConflict(Exception):
    """The resource already has a task under way."""


class StateConflict(Exception):
    """The resource is not in a state that allows the task."""


class NameTaken(Exception):
    """Another resource of the kind already has this name."""


class PortTaken(Exception):
    """Another instance already has this endpoint."""


class TooManyTags(Exception):
    """The resource would have more than MAX_TAGS tags."""


class GroupGone(Exception):
    """The DB parameter group an instance was to use does not exist (any more)."""


class StoreFull(Exception):
    """The filesystem holding the store has no room for a write; reads go on."""


class SnapshotGone(Exception):
    """The snapshot a copy or a restore is to read is not there (any more), or not available."""


class SnapshotInUse(Exception):
    """A copy or a restore is reading the snapshot: its bytes must stay until it is done."""


class OptionGroupGone(Exception):
    """The option group an instance was to join does not exist (any more)."""


class QuotaReached(Exception):
    """The account already has as many of the kind as its quota allows (model/quotas.py names it)."""

    def __init__(self, quota: str):
        super().__init__(quota)
        self.quota = quota


class SourceRefused(Exception):
    """The instance a read replica is to follow cannot take another: gone, not running or busy, or at its
    limit of read replicas."""

    def __init__(self, reason: str, limit: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


class HasReplicas(Exception):
    """The instance is a read replica, or the source of one: neither may be stopped."""
