"""The operator's endpoints beside the RDS API, under /_emulator/: the clock.

GET /_emulator/clock tells the emulator's time. POST /_emulator/clock with a JSON body
{"advance_seconds": N} or {"to": "2026-11-28T03:05:00Z"} moves it forward, so that a backup or maintenance
window opens now instead of at its hour: only when the emulator was started with --allow-clock-moves.

When requests must be signed (--auth sigv4, the default), these must be too, with the same keys: an unsigned
POST would move every instance's backups and logs out of their retention.
"""

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from emulator.context import Context
from emulator.protocol.errors import RdsError
from emulator.web import signing

PREFIX = "/_emulator/"
# The store's name for how far the clock was moved ahead of the host's (seconds).
CLOCK_OFFSET = "clock_offset"
MAX_BODY = 4096


def blueprint(ctx: Context, clock_moved: Callable[[], None] | None,
              access_keys: dict[str, str] | None) -> Blueprint:
    """`clock_moved` runs after the operator moved the clock: the work that became due is found at once.
    `access_keys`: as for the Query endpoint, every request here must be signed with one (None: any)."""
    operator = Blueprint("operator", __name__, url_prefix=PREFIX.rstrip("/"))

    @operator.before_request
    def signed() -> tuple[Response, int] | None:
        body = request.stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return jsonify({"error": f"the body is over {MAX_BODY} bytes"}), 413
        try:
            signing.check(access_keys, request.environ, request.method, body)
        except RdsError as error:
            return jsonify({"error": error.message, "code": error.code}), error.status
        g.body = body
        return None

    @operator.route("/clock", methods=("GET", "POST", "PUT", "DELETE", "PATCH"))
    def clock() -> tuple[Response, int]:
        status, answer = _clock_request(ctx, request.method, g.body, clock_moved)
        return jsonify(answer), status

    @operator.route("/", methods=("GET", "POST", "PUT", "DELETE", "PATCH"))
    @operator.route("/<path:_other>", methods=("GET", "POST", "PUT", "DELETE", "PATCH"))
    def other(_other: str = "") -> tuple[Response, int]:
        return jsonify({"error": "no such operator endpoint; there is /_emulator/clock"}), 404

    return operator


def _clock_request(ctx: Context, method: str, body: bytes,
                   clock_moved: Callable[[], None] | None) -> tuple[int, Any]:
    if method == "GET":
        return 200, _clock(ctx)
    if method != "POST":
        return 405, {"error": "send GET or POST"}
    if not ctx.settings.allow_clock:
        return 403, {"error": "moving the clock is off: start the emulator with --allow-clock-moves"}
    try:
        delta = _delta(ctx, _json(body))
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


def _json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
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
