"""The Flask app factory: one route that reads the Query fields, dispatches on Action, and answers XML."""

import logging
import uuid
from urllib.parse import parse_qsl

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from emulator.api import ACTIONS
from emulator.context import Context
from emulator.protocol import query, xml
from emulator.protocol.errors import RdsError

log = logging.getLogger(__name__)


def create_app(ctx: Context) -> Flask:
    app = Flask("rds-emulator")

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def endpoint(path: str) -> Response:
        request_id = str(uuid.uuid4())
        try:
            operation, parsed = query.parse(_fields())
            result = ACTIONS[operation.name](ctx, parsed)
            return _xml(xml.response(operation, result, request_id), 200, request_id)
        except RdsError as error:
            return _xml(xml.error_response(error, request_id), error.status, request_id)
        except Exception:
            log.exception("internal failure in request %s", request_id)
            failure = RdsError("InternalFailure", "The request processing has failed because of an unknown error.")
            return _xml(xml.error_response(failure, request_id), failure.status, request_id)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        request_id = str(uuid.uuid4())
        failure = RdsError("MalformedQueryString", f"{error.code} {error.name}: send GET or POST to /.")
        failure.status = error.code or 400
        return _xml(xml.error_response(failure, request_id), failure.status, request_id)

    return app


def _fields() -> dict[str, str]:
    """Query-string fields, then form-body fields (which win)."""
    try:
        fields = dict(parse_qsl(request.query_string.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        if request.method == "POST":
            body = request.get_data(cache=False).decode("utf-8")
            fields.update(parse_qsl(body, keep_blank_values=True))
    except UnicodeDecodeError:
        raise RdsError("MalformedQueryString", "The request is not valid UTF-8.") from None
    return fields


def _xml(body: str, status: int, request_id: str) -> Response:
    return Response(body, status=status, content_type="text/xml", headers={"x-amzn-RequestId": request_id})
