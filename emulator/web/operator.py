"""The operator's endpoints beside the RDS API, under /_emulator/: the clock.

GET /_emulator/clock tells the emulator's time. POST /_emulator/clock with a JSON body
{"advance_seconds": N} or {"to": "2026-11-28T03:05:00Z"} moves it forward, so that a backup or maintenance
window opens now instead of at its hour: only when the emulator was started with --allow-clock-moves.
"""

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO, Any

from flask import Blueprint, Response, jsonify, request

from emulator.context import Context

PREFIX = "/_emulator/"
# The store's name for how far the clock was moved ahead of the host's (seconds).
CLOCK_OFFSET = "clock_offset"
MAX_BODY = 4096


def blueprint(ctx: Context, clock_moved: Callable[[], None] | None) -> Blueprint:
    """`clock_moved` runs after the operator moved the clock: the work that became due is found at once."""
    operator = Blueprint("operator", __name__, url_prefix=PREFIX.rstrip("/"))

    @operator.route("/clock", methods=("GET", "POST", "PUT", "DELETE", "PATCH"))
    def clock() -> tuple[Response, int]:
        status, answer = _clock_request(ctx, request.method, request.stream, request.content_length, clock_moved)
        return jsonify(answer), status

    @operator.route("/", methods=("GET", "POST", "PUT", "DELETE", "PATCH"))
    @operator.route("/<path:_other>", methods=("GET", "POST", "PUT", "DELETE", "PATCH"))
    def other(_other: str = "") -> tuple[Response, int]:
        return jsonify({"error": "no such operator endpoint; there is /_emulator/clock"}), 404

    return operator


def _clock_request(ctx: Context, method: str, stream: IO[bytes], length: int | None,
                   clock_moved: Callable[[], None] | None) -> tuple[int, Any]:
    if method == "GET":
        return 200, _clock(ctx)
    if method != "POST":
        return 405, {"error": "send GET or POST"}
    if not ctx.settings.allow_clock:
        return 403, {"error": "moving the clock is off: start the emulator with --allow-clock-moves"}
    try:
        delta = _delta(ctx, _body(stream, length))
    except ValueError as error:
        return 400, {"error": str(error)}
    ctx.clock.advance(delta)
    ctx.store.set_state(CLOCK_OFFSET, str(ctx.clock.offset.total_seconds()))
    if clock_moved is not None:
        clock_moved()
    return 200, _clock(ctx)


def _clock(ctx: Context) -> dict[str, Any]:
    return {"now": ctx.clock.now().isoformat().replace("+00:00", "Z"),
            "offset_seconds": ctx.clock.offset.total_seconds()}


def _body(stream: IO[bytes], length: int | None) -> dict[str, Any]:
    try:
        body = json.loads(stream.read(min(length or 0, MAX_BODY)) or b"{}")
    except (ValueError, UnicodeError):
        raise ValueError('the body must be JSON: {"advance_seconds": N} or {"to": "ISO 8601 time"}') from None
    if not isinstance(body, dict):
        raise ValueError('the body must be a JSON object: {"advance_seconds": N} or {"to": "ISO 8601 time"}')
    return body


def _delta(ctx: Context, body: dict[str, Any]) -> timedelta:
    if "advance_seconds" in body:
        seconds = body["advance_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 10 * 365 * 86400:
            raise ValueError("advance_seconds must be a number of seconds from 0 to ten years")
        return timedelta(seconds=seconds)
    if "to" in body:
        try:
            target = datetime.fromisoformat(str(body["to"]).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("to must be an ISO 8601 time, such as 2026-11-28T03:05:00Z") from None
        if target.tzinfo is None:
            raise ValueError("to must name its zone, such as 2026-11-28T03:05:00Z")
        delta = target - ctx.clock.now()
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward: to is in the emulator's past")
        return delta
    raise ValueError('say how far: {"advance_seconds": N} or {"to": "ISO 8601 time"}')
