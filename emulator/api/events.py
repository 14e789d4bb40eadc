"""DescribeEvents and DescribeEventCategories."""

from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.api.paging import number, page
from emulator.context import Context
from emulator.model.events import CATEGORIES, RETENTION
from emulator.model.records import Event
from emulator.protocol.errors import combination, invalid, shown

DEFAULT_SPAN = timedelta(minutes=60)
KNOWN_CATEGORIES = {name for names in CATEGORIES.values() for name in names}


def describe(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    source_type = request.get("SourceType")
    source_id = request.get("SourceIdentifier")
    if source_id and not source_type:
        raise combination("Cannot specify SourceIdentifier without specifying SourceType.")
    start, end = _span(ctx, request)
    categories = request.get("EventCategories") or None
    for name in categories or ():
        if name not in KNOWN_CATEGORIES:
            raise invalid(f"Invalid event category: {shown(name)}")

    def fetch(after: str | None, n: int) -> list[tuple[int, Event]]:
        return ctx.store.list_events(
            start=start,
            end=end,
            source_type=source_type,
            source_id=source_id.lower() if source_id else None,
            categories=categories,
            after_id=number(after),
            limit=n,
        )

    found, marker = page(fetch, lambda pair: str(pair[0]), request)
    return {"Events": [_wire(event) for _, event in found], "Marker": marker}


def describe_categories(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    wanted = request.get("SourceType")
    if wanted and wanted not in CATEGORIES:
        raise invalid(f"Invalid source type: {shown(wanted)}")
    return {
        "EventCategoriesMapList": [
            {"SourceType": kind, "EventCategories": names}
            for kind, names in CATEGORIES.items()
            if not wanted or kind == wanted
        ]
    }


def _span(ctx: Context, request: dict[str, Any]) -> tuple:
    now = ctx.clock.now()
    end = request.get("EndTime") or now
    if request.get("StartTime"):
        start = request["StartTime"]
    elif request.get("Duration") is not None:
        if request["Duration"] < 0:
            raise invalid("Duration must be a positive number of minutes.")
        # nothing older than the retention is kept, so a longer span means the same
        start = _before(end, min(timedelta(minutes=request["Duration"]), RETENTION))
    else:
        start = _before(end, DEFAULT_SPAN)
    if start > end:
        raise invalid("StartTime must be before EndTime.")
    return max(start, now - RETENTION), end


def _before(moment: datetime, span: timedelta) -> datetime:
    """moment - span, or the earliest time there is (an EndTime in year 1 has nothing before it)."""
    try:
        return moment - span
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _wire(event: Event) -> dict[str, Any]:
    return {
        "SourceIdentifier": event.source_id,
        "SourceType": event.source_type,
        "Message": event.message,
        "EventCategories": event.categories,
        "Date": event.date,
        "SourceArn": event.source_arn,
    }
