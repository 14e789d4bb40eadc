"""Option groups: the ones users made, their options, and which instances use them."""

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from emulator.model.keys import option_group_key
from emulator.model.options import OptionGroup
from emulator.store.base import StoreBase
from emulator.store.checks import check_quota, upsert_tags
from emulator.store.errors import NameTaken
from emulator.store.schema import instances, option_groups, snapshots, tags

Options = dict[str, dict[str, str]]


class OptionGroups(StoreBase):
    def add_option_group(self, group: OptionGroup, pairs: list[tuple[str, str]]) -> None:
        """The group and its tags; NameTaken when the name is in use, QuotaReached past the quota."""
        try:
            with self._tx() as conn:
                check_quota(conn, "OptionGroups", option_groups)
                conn.execute(insert(option_groups).values(group.__dict__))
                upsert_tags(conn, option_group_key(group.name), pairs)
        except IntegrityError:
            raise NameTaken(group.name) from None

    def get_option_group(self, name: str) -> OptionGroup | None:
        with self._read() as conn:
            row = conn.execute(select(option_groups).where(option_groups.c.name == name)).first()
        return OptionGroup(*row) if row else None

    def list_option_groups(self, *, after: str | None = None, limit: int | None = None,
                           engine: str | None = None, major: str | None = None) -> list[OptionGroup]:
        query = select(option_groups).order_by(option_groups.c.name).limit(limit)
        if after is not None:
            query = query.where(option_groups.c.name > after)
        if engine is not None:
            query = query.where(option_groups.c.engine == engine)
        if major is not None:
            query = query.where(option_groups.c.major == major)
        with self._read() as conn:
            return [OptionGroup(*row) for row in conn.execute(query)]

    def change_options(self, name: str, change: Callable[[Options], Options]) -> OptionGroup | None:
        """The group with its options changed by `change` (which sees them as they are inside the write's
        transaction, so that changes made at once each see the other's, and may raise to change nothing); None
        when the group is gone."""
        with self._tx() as conn:
            row = conn.execute(select(option_groups).where(option_groups.c.name == name)).first()
            if row is None:
                return None
            group = OptionGroup(*row)
            options = change(group.options)
            conn.execute(update(option_groups).where(option_groups.c.name == name).values(options=options))
        return replace(group, options=options)

    def option_group_members(self, name: str) -> list[str]:
        """The resource ids of the instances in the group."""
        with self._read() as conn:
            return [row[0] for row in conn.execute(select(instances.c.resource_id)
                                                   .where(instances.c.option_group == name))]

    def remove_option_group(self, name: str) -> bool:
        """False, with nothing removed, while an instance or a snapshot names the group."""
        with self._tx() as conn:
            for table in (instances, snapshots):
                if conn.scalar(select(table.c.option_group).where(table.c.option_group == name).limit(1)):
                    return False
            conn.execute(delete(option_groups).where(option_groups.c.name == name))
            conn.execute(delete(tags).where(tags.c.resource_id == option_group_key(name)))
        return True
