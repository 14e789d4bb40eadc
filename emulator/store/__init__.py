"""Persistence: the one source of truth. SQLAlchemy Core over a SQLite file by default.

Instances, subnet groups, parameter groups, tags, events, snapshots and durable tasks, a module each. Every
method is one short transaction; callers never hold a connection. The invariants live here, in constraints and
conditional writes, not in callers' reads: one task under way per resource, one instance per identifier and
per endpoint, 50 tags a resource, no instance in a group that is gone.
The schema is made and upgraded by the Alembic migrations in store/migrations, at start-up.
"""

from emulator.store.events import Events
from emulator.store.groups import Groups
from emulator.store.instances import Instances
from emulator.store.option_groups import OptionGroups
from emulator.store.snapshots import Snapshots
from emulator.store.tags import Tags
from emulator.store.tasks import Tasks
from emulator.store.views import Views


class Store(Instances, Views, Tasks, Groups, OptionGroups, Snapshots, Tags, Events):
    """The store's parts, over one engine (store/base.py)."""
