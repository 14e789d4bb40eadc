"""The one pager behind every Describe*: MaxRecords and an opaque Marker that names the last key returned."""

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

from emulator.model import validation
from emulator.protocol.errors import invalid, shown

T = TypeVar("T")


def page(
    fetch: Callable[[str | None, int], list[T]],
    key: Callable[[T], str],
    request: dict,
    largest: int = 100,
) -> tuple[list[T], str | None]:
    """fetch(after, n) returns up to n items whose key sorts after `after`, in key order."""
    limit = validation.max_records(request.get("MaxRecords"), largest)
    after = decode(request["Marker"]) if request.get("Marker") else None
    items = fetch(after, limit + 1)
    if len(items) > limit:
        return items[:limit], encode(key(items[limit - 1]))
    return items, None


def page_sequence(items: Sequence[T], request: dict, largest: int = 100) -> tuple[list[T], str | None]:
    """The pager over a list held in memory: keys are positions."""

    def fetch(after: str | None, n: int) -> list[T]:
        start = number(after) + 1 if after is not None else 0
        return list(items[start : start + n])

    positions = {id(item): str(i) for i, item in enumerate(items)}
    return page(fetch, lambda item: positions[id(item)], request, largest)


def number(key: str | None) -> int:
    """A marker's key that names a position or a row id; missing is 0."""
    if key is None:
        return 0
    if not (key.isascii() and key.isdigit() and len(key) <= 18):
        raise invalid("The marker is not valid: use a Marker from an earlier response.")
    return int(key)


PREFIX = "after:"


def encode(key: str) -> str:
    return base64.urlsafe_b64encode((PREFIX + key).encode()).decode()


def decode(marker: str) -> str:
    try:
        text = base64.b64decode(marker.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(PREFIX):
        raise invalid(f"The marker {shown(marker)} is not valid: use a Marker from an earlier response.")
    return text.removeprefix(PREFIX)
