"""DB instances: their rows, the task under way and the tags, read in one statement."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from emulator.model.instance import Instance
from emulator.model.records import Event
from emulator.store.base import StoreBase
from emulator.store.checks import (
    check_group,
    check_option_group,
    check_security_groups,
    check_snapshot_available,
    check_source,
    deferred,
    insert_events,
    insert_task,
    upsert_tags,
)
from emulator.store.errors import NameTaken, PortTaken
from emulator.store.prepared import (
    BY_IDENTIFIER,
    BY_RESOURCE_ID,
    FAST_ADDRESS_HELD,
    FAST_ALL,
    FAST_ENDPOINT_HELD,
    FAST_FIRST_PAGE,
    FAST_HIGHEST_PORT,
    FAST_NEXT_PAGE,
    FAST_WITH_TAGS,
    INSERT_INSTANCE,
    INSTANCE_COLUMNS,
    INSTANCES,
    JOINED,
)
from emulator.store.schema import ACTIVE, instances, tags, tasks


class Instances(StoreBase):
    def add_instance(
        self, instance: Instance, pairs: list[tuple[str, str]], now: datetime,
        task: tuple[str, dict[str, Any]] = ("create", {}),
    ) -> None:
        """Insert the instance, its tags and the task that makes its server (create, or restore with its
        params); NameTaken or PortTaken when either is in use, SnapshotGone when the snapshot a restore starts
        from is no longer available."""
        try:
            with self._tx() as conn:
                check_group(conn, instance.parameter_group)
                check_security_groups(conn, instance.db_security_groups)
                check_option_group(conn, instance.option_group)
                if task[0] == "restore":
                    check_snapshot_available(conn, task[1]["snapshot"])
                if instance.replica_source is not None:
                    check_source(conn, instance.replica_source)
                conn.execute(INSERT_INSTANCE, instance.to_row())
                upsert_tags(conn, instance.resource_id, pairs)
                insert_task(conn, "db-instance", instance.resource_id, *task, now)
        except IntegrityError:
            if self.find_instance(instance.identifier) is not None:
                raise NameTaken(instance.identifier) from None
            raise PortTaken(instance.port) from None

    def endpoint_held(self, address: str, port: int) -> bool:
        return bool(FAST_ENDPOINT_HELD.raw(self._readers, address=address, port=port))

    def address_held(self, address: str) -> bool:
        return bool(FAST_ADDRESS_HELD.raw(self._readers, address=address))

    def highest_port(self, address: str, ports: range) -> int | None:
        """The highest port of `ports` an instance holds on the address."""
        found = FAST_HIGHEST_PORT.raw(self._readers, address=address, low=ports.start, high=ports.stop - 1)
        return found[0][0] if found else None

    def find_instance(self, identifier: str) -> Instance | None:
        with self._read() as conn:
            row = conn.execute(BY_IDENTIFIER, {"identifier": identifier}).first()
        return Instance(*row) if row else None

    def instance_rows(self, identifier: str) -> tuple[tuple, ...]:
        """One statement for the commonest call of all, DescribeDBInstances by identifier: the instance, its
        task under way and its tags (a row each), as SQLite holds them; none when there is no such instance.
        `instance_of` converts them."""
        return tuple(FAST_WITH_TAGS.raw(self._readers, identifier=identifier))

    @staticmethod
    def instance_of(raw: tuple[tuple, ...]) -> tuple[Instance, list[dict[str, str]]]:
        rows = FAST_WITH_TAGS.convert(raw)
        width = len(INSTANCE_COLUMNS) + len(JOINED)
        pairs = [{"Key": row[width], "Value": row[width + 1]} for row in rows if row[width] is not None]
        return Instance(*rows[0][:width]), pairs

    def get_instance(self, resource_id: str) -> Instance | None:
        with self._read() as conn:
            row = conn.execute(BY_RESOURCE_ID, {"resource_id": resource_id}).first()
        return Instance(*row) if row else None

    def list_instances(
        self,
        *,
        identifiers: Iterable[str] | None = None,
        resource_ids: Iterable[str] | None = None,
        engines: Iterable[str] | None = None,
        parameter_groups: Iterable[str] | None = None,
        option_groups: Iterable[str] | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Instance]:
        unfiltered = identifiers is None and resource_ids is None and engines is None and parameter_groups is None \
            and option_groups is None
        if unfiltered and after is None and limit is None:
            return [Instance(*row) for row in FAST_ALL.rows(self._readers)]
        if unfiltered and limit is not None:
            if after is None:
                return [Instance(*row) for row in FAST_FIRST_PAGE.rows(self._readers, limit=limit)]
            return [Instance(*row) for row in FAST_NEXT_PAGE.rows(self._readers, after=after, limit=limit)]
        query = INSTANCES
        conditions = []
        if identifiers is not None:
            conditions.append(instances.c.identifier.in_(list(identifiers)))
        if resource_ids is not None:
            conditions.append(instances.c.resource_id.in_(list(resource_ids)))
        if engines is not None:
            conditions.append(instances.c.engine.in_(list(engines)))
        if parameter_groups is not None:
            conditions.append(instances.c.parameter_group.in_(list(parameter_groups)))
        if option_groups is not None:
            conditions.append(instances.c.option_group.in_(list(option_groups)))
        if after is not None:
            conditions.append(instances.c.identifier > after)
        query = query.where(*conditions).order_by(instances.c.identifier).limit(limit)
        with self._read() as conn:
            return [Instance(*row) for row in conn.execute(query)]

    def record_applied(self, resource_id: str, applied: dict[str, str | None], failed: dict[str, str]) -> None:
        """Parameters the server now runs with (None: back to its default) and values it refused, merged
        into what the instance has in one transaction: appliers running side by side lose nothing."""
        with self._tx() as conn:
            row = conn.execute(
                select(instances.c.server_parameters, instances.c.parameter_failures)
                .where(instances.c.resource_id == resource_id)
            ).first()
            if row is None:
                return
            running = {**row.server_parameters, **applied}
            failures = {name: value for name, value in {**row.parameter_failures, **failed}.items()
                        if name not in applied}
            conn.execute(
                update(instances).where(instances.c.resource_id == resource_id).values(
                    server_parameters={k: v for k, v in running.items() if v is not None},
                    parameter_failures=failures,
                )
            )

    def start_log_hours(self, hour: datetime) -> None:
        """Instances whose logs no hour covers yet: their current files cover this one, from now on."""
        with self._tx() as conn:
            conn.execute(update(instances).where(instances.c.logs_rotated_at.is_(None)).values(logs_rotated_at=hour))

    def claim_rotation(self, resource_id: str, previous: datetime, hour: datetime) -> bool:
        """Move the instance's log hour from `previous` to `hour`; False when someone else already did."""
        unchanged = instances.c.logs_rotated_at == previous
        with self._tx() as conn:
            return bool(conn.execute(
                update(instances).where(instances.c.resource_id == resource_id, unchanged).values(logs_rotated_at=hour)
            ).rowcount)

    def update_instance(self, resource_id: str, events: Iterable[Event] = (), **values: Any) -> None:
        """Change the instance and write the events that tell of it, in one transaction. NameTaken when a
        rename meets another instance's identifier."""
        try:
            with self._tx() as conn:
                if values:
                    conn.execute(update(instances).where(instances.c.resource_id == resource_id).values(**values))
                insert_events(conn, events)
        except IntegrityError:
            raise NameTaken(values.get("identifier")) from None

    def set_restorable(self, times: dict[str, datetime]) -> None:
        """Instances restorable up to these times, by resource id, in one transaction: never back to an
        earlier time than an archiving recorded meanwhile (its logs reach the later one)."""
        if not times:
            return
        with self._tx() as conn:
            conn.execute(update(instances).where(instances.c.resource_id == bindparam("rid"),
                                                 or_(instances.c.restorable_until.is_(None),
                                                     instances.c.restorable_until < bindparam("until")))
                         .values(restorable_until=bindparam("until")),
                         [{"rid": rid, "until": until} for rid, until in times.items()])

    def update_instance_when(
        self, resource_id: str, observed: Iterable[str], defer: tuple[dict[str, Any], datetime] | None = None,
        also: Iterable[tuple[str, str, str, dict[str, Any], datetime]] = (), **values: Any,
    ) -> bool:
        """Update the instance only while it has no task under way and its observed state is one of
        `observed`; False when it had not. `defer` (changes, now): the changes join those waiting for the
        maintenance window; `also`: other resources' tasks the change asks for (resource type, id, kind,
        params, now), queued with it. NameTaken as update_instance."""
        idle = ~select(tasks.c.id).where(tasks.c.resource_id == resource_id, tasks.c.state.in_(ACTIVE)).exists()
        try:
            with self._tx() as conn:
                check_group(conn, values.get("parameter_group"))
                check_security_groups(conn, values.get("db_security_groups"))
                if defer:
                    values |= deferred(conn, resource_id, *defer)
                changed = conn.execute(
                    update(instances)
                    .where(instances.c.resource_id == resource_id, instances.c.observed.in_(list(observed)), idle)
                    .values(**values)
                ).rowcount
                if changed:
                    for task in also:
                        insert_task(conn, *task)
                return bool(changed)
        except IntegrityError:
            raise NameTaken(values.get("identifier")) from None

    def defer_instance(self, resource_id: str, changes: dict[str, Any], now: datetime) -> None:
        """The changes join those the instance waits to apply in its maintenance window, whatever it does now."""
        with self._tx() as conn:
            values = deferred(conn, resource_id, changes, now)
            if values:
                conn.execute(update(instances).where(instances.c.resource_id == resource_id).values(**values))

    def join_option_group(self, resource_id: str, name: str | None) -> None:
        """The instance in the group (None: its default one); OptionGroupGone when it was deleted meanwhile."""
        with self._tx() as conn:
            check_option_group(conn, name)
            conn.execute(update(instances).where(instances.c.resource_id == resource_id).values(option_group=name))

    def record_options(self, resource_id: str, variables: dict[str, str]) -> None:
        """What the server now runs of its option group; no change of the group waits for it any more."""
        with self._tx() as conn:
            row = conn.execute(select(instances.c.pending).where(instances.c.resource_id == resource_id)).first()
            if row is None:
                return
            pending = {name: value for name, value in (row.pending or {}).items() if name != "options"}
            conn.execute(update(instances).where(instances.c.resource_id == resource_id)
                         .values(server_options=variables, pending=pending,
                                 **({} if pending else {"pending_since": None})))

    def remove_instance(self, resource_id: str) -> None:
        with self._tx() as conn:
            conn.execute(delete(instances).where(instances.c.resource_id == resource_id))
            conn.execute(delete(tags).where(tags.c.resource_id == resource_id))

