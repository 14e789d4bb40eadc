"""Tags, of every kind of resource, keyed by its resource id."""

from collections.abc import Iterable

from sqlalchemy import delete

from emulator.store.base import StoreBase
from emulator.store.checks import upsert_tags
from emulator.store.prepared import TAGS_OF
from emulator.store.schema import tags


class Tags(StoreBase):
    def tags_of(self, resource_ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
        found: dict[str, list[dict[str, str]]] = {}
        with self._read() as conn:
            for row in conn.execute(TAGS_OF, {"ids": list(resource_ids)}):
                found.setdefault(row.resource_id, []).append({"Key": row.key, "Value": row.value})
        return found

    def tags_for(self, resource_id: str) -> list[dict[str, str]]:
        return self.tags_of([resource_id]).get(resource_id, [])

    def set_tags(self, resource_id: str, pairs: list[tuple[str, str]]) -> None:
        """TooManyTags, with nothing changed, when the resource would end with more than MAX_TAGS."""
        with self._tx() as conn:
            upsert_tags(conn, resource_id, pairs)

    def remove_tags(self, resource_id: str, keys: list[str]) -> None:
        with self._tx() as conn:
            conn.execute(delete(tags).where(tags.c.resource_id == resource_id, tags.c.key.in_(keys)))

