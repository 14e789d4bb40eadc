"""Events, kept for RETENTION and listed by source and category."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select

from emulator.model.records import Event
from emulator.store.base import StoreBase
from emulator.store.checks import insert_events
from emulator.store.schema import events


class Events(StoreBase):
    def add_event(self, event_: Event) -> None:
        self.add_events([event_])

    def add_events(self, events: Iterable[Event]) -> None:
        with self._tx() as conn:
            insert_events(conn, events)

    def list_events(
        self,
        *,
        start: datetime,
        end: datetime,
        source_type: str | None = None,
        source_id: str | None = None,
        categories: list[str] | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[tuple[int, Event]]:
        query = select(events).where(events.c.date >= start, events.c.date <= end, events.c.id > after_id)
        if source_type:
            query = query.where(events.c.source_type == source_type)
        if source_id:
            query = query.where(events.c.source_id == source_id)
        if categories:
            query = query.where(or_(*(events.c.categories.like(f"%,{name},%") for name in categories)))
        with self._read() as conn:
            rows = conn.execute(query.order_by(events.c.id).limit(limit))
            return [(row.id, _event(row)) for row in rows]

    def purge_events(self, before: datetime) -> int:
        with self._tx() as conn:
            return conn.execute(delete(events).where(events.c.date < before)).rowcount



def _event(row: Any) -> Event:
    return Event(
        row.date, row.source_type, row.source_id, row.source_arn, row.message, row.categories.strip(",").split(",")
    )


