"""The Flask app factory: one route that reads the Query fields, dispatches on Action, and answers XML."""

import logging
import uuid
from urllib.parse import parse_qsl

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from emulator.api import ACTIONS
from emulator.context import Context
from emulator.protocol import query, xml
from emulator.protocol.errors import RdsError, invalid, shown

log = logging.getLogger(__name__)
# The largest real requests (a 20-parameter ModifyDBParameterGroup, 50 tags) are a few tens of kB and a
# few hundred fields: these bounds leave room for them and none for a body that only costs us memory.
MAX_BODY = 1024 * 1024
MAX_FIELDS = 1000


def create_app(ctx: Context) -> Flask:
    app = Flask("rds-emulator")

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def endpoint(path: str) -> Response:
        request_id = str(uuid.uuid4())
        try:
            fields = _fields()
            operation = query.operation_of(fields)
            handler = ACTIONS.get(operation.name)
            if handler is None:
                raise RdsError(
                    "UnsupportedOperation",
                    f"The action {operation.name} is an RDS action that RDS Emulator does not support yet.",
                )
            result = handler(ctx, query.parse_input(operation, fields))
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
    """Query-string fields, then form-body fields (which win); bounded, UTF-8, and nothing XML forbids."""
    req = request._get_current_object()  # the proxy, resolved once: this runs on every request
    if (req.content_length or 0) > MAX_BODY:
        raise RdsError("InvalidQueryParameter", f"The request body is larger than {MAX_BODY} bytes.")
    try:
        query_string = req.query_string.decode("utf-8")
        pairs = parse_qsl(query_string, keep_blank_values=True, max_num_fields=MAX_FIELDS) if query_string else []
        if req.method == "POST":
            body = req.stream.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise RdsError("InvalidQueryParameter", f"The request body is larger than {MAX_BODY} bytes.")
            pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise RdsError("MalformedQueryString", "The request is not valid UTF-8.") from None
    except ValueError:
        raise RdsError("InvalidQueryParameter", f"The request has more than {MAX_FIELDS} fields.") from None
    if len(pairs) > MAX_FIELDS:
        raise RdsError("InvalidQueryParameter", f"The request has more than {MAX_FIELDS} fields.")
    for key, value in pairs:
        if xml.forbidden_in(key) or xml.forbidden_in(value):
            raise invalid(f"The parameter {shown(key)} contains a character that is not allowed in RDS requests.")
    return dict(pairs)


def _xml(body: str, status: int, request_id: str) -> Response:
    return Response(body, status=status, content_type="text/xml", headers={"x-amzn-RequestId": request_id})
