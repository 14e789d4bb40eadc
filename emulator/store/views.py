"""What an instance's wire form reads besides its row, for one instance or a page of them, in one read."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.engine import Connection

from emulator.model.instance import Instance
from emulator.model.network import DEFAULT_SUBNET_GROUP
from emulator.model.records import GroupValue, SubnetGroup, Surroundings
from emulator.store.base import StoreBase
from emulator.store.prepared import TAGS_OF
from emulator.store.schema import group_parameters, subnet_groups


class Views(StoreBase):
    def surroundings(self, found: list[Instance],
                     tags: dict[str, list[dict[str, str]]] | None = None) -> dict[str, Surroundings]:
        """Each instance's tags (unless given), its parameter group's values and its subnet group, by resource
        id, from one consistent read; instances in default groups with their tags given need no read at all."""
        groups = {i.parameter_group for i in found if not i.parameter_group.startswith("default.")}
        subnets = {i.subnet_group for i in found if i.subnet_group != DEFAULT_SUBNET_GROUP}
        values: dict[str, dict[str, GroupValue]] = {name: {} for name in groups}
        named: dict[str, SubnetGroup] = {}
        if tags is None or groups or subnets:
            with self._snapshot() as conn:
                if tags is None:
                    tags = {}
                    for row in conn.execute(TAGS_OF, {"ids": [i.resource_id for i in found]}):
                        tags.setdefault(row.resource_id, []).append({"Key": row.key, "Value": row.value})
                if groups:
                    query = select(group_parameters).where(group_parameters.c.group_name.in_(list(groups)))
                    for row in conn.execute(query):
                        values[row.group_name][row.name] = GroupValue(row.value, row.method)
                if subnets:
                    query = select(subnet_groups).where(subnet_groups.c.name.in_(list(subnets)))
                    named = {row.name: SubnetGroup(*row) for row in conn.execute(query)}
        return {i.resource_id: Surroundings(tags.get(i.resource_id, []), values.get(i.parameter_group, {}),
                                            named.get(i.subnet_group)) for i in found}

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """Reads that see one state of the store: a read transaction (SQLite's snapshot, under WAL)."""
        with self._read() as conn:
            conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                conn.exec_driver_sql("COMMIT")
