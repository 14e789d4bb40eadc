"""The Query endpoint: a Flask blueprint that reads the Query fields, checks the signature, dispatches on
Action and answers XML. The view works on the WSGI environ Flask already holds, and parses the form itself
(with the bounds below): werkzeug's form parser and a full Request per call cost more than the rest of a
lookup by identifier (docs/benchmarks.md)."""

import logging
from urllib.parse import parse_qsl
from wsgiref.types import WSGIEnvironment

from flask import Blueprint, Response, request

from emulator.api import ACTIONS
from emulator.context import Context
from emulator.model import ids, quotas
from emulator.protocol import json_wire, query, xml
from emulator.protocol.errors import RdsError, invalid, shown
from emulator.store.errors import QuotaReached, StoreFull
from emulator.web import secrets_manager, signing
from emulator.web.bodies import body_of

log = logging.getLogger(__name__)
# The largest real requests (a 20-parameter ModifyDBParameterGroup, 50 tags) have a few hundred fields: this
# bound leaves room for them and none for a body that only costs us memory (the body's own: bodies.py).
MAX_FIELDS = 1000
METHODS = ("GET", "HEAD", "POST")
# Every method reaches the view, so that the others get RDS's 405 in XML rather than Flask's page.
ROUTED = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
XML = "text/xml; charset=utf-8"


def blueprint(ctx: Context, access_keys: dict[str, str] | None) -> Blueprint:
    """`access_keys` (id -> secret) are those a request must be signed with (SigV4); None lets any request in.
    The SDKs post to `/`; any other path is answered the same way, as before Flask."""
    endpoint = Blueprint("query", __name__)

    @endpoint.route("/", methods=ROUTED, provide_automatic_options=False)
    @endpoint.route("/<path:_path>", methods=ROUTED, provide_automatic_options=False)
    def answer(_path: str = "") -> Response:
        if secrets_manager.asked(request.environ):
            with ctx.foreground:
                content, code, request_id = secrets_manager.respond(ctx, request.environ, access_keys)
            return Response(content, code, [("Content-Type", json_wire.CONTENT_TYPE),
                                            ("x-amzn-RequestId", request_id)])
        with ctx.foreground:
            body, status, request_id = respond(ctx, request.environ, access_keys)
        return Response(body, status, [("Content-Type", XML), ("x-amzn-RequestId", request_id)])

    return endpoint


def respond(ctx: Context, environ: WSGIEnvironment,
            access_keys: dict[str, str] | None) -> tuple[str, int, str]:
    """The XML answer to one Query request, its HTTP status and its request id."""
    request_id = ids.request_id()
    namespace = xml.NAMESPACE
    try:
        method, content, fields = _read(environ)
        namespace = xml.namespace(fields.get("Version"))
        signing.check(access_keys, environ, method, content)
        return _answer(ctx, fields, namespace, request_id), 200, request_id
    except RdsError as error:
        return xml.error_response(error, request_id, namespace), error.status, request_id
    except QuotaReached as reached:
        error = quotas.exceeded(reached.quota)
        return xml.error_response(error, request_id, namespace), error.status, request_id
    except StoreFull:
        log.error("request %s: the disk holding the data directory is full", request_id)
        full = RdsError("InsufficientStorageClusterCapacity", "There is insufficient storage available for the "
                        "current action: the disk holding the emulator's data directory is full.")
        return xml.error_response(full, request_id, namespace), full.status, request_id
    except Exception:
        log.exception("internal failure in request %s", request_id)
        failure = RdsError("InternalFailure", "The request processing has failed because of an unknown error.")
        return xml.error_response(failure, request_id, namespace), failure.status, request_id


def method_not_allowed(_error: Exception) -> Response:
    """A method no route takes at all (Flask's own 405): RDS's error, in XML."""
    failure = _not_allowed()
    request_id = ids.request_id()
    return Response(xml.error_response(failure, request_id, xml.NAMESPACE), failure.status,
                    [("Content-Type", XML), ("x-amzn-RequestId", request_id)])


def _read(environ: WSGIEnvironment) -> tuple[str, bytes, dict[str, str]]:
    """The request's method, body and Query fields."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in METHODS:
        raise _not_allowed()
    body = body_of(environ) if method == "POST" else b""
    return method, body, _fields(environ, body)


def _answer(ctx: Context, fields: dict[str, str], namespace: str, request_id: str) -> str:
    operation = query.operation_of(fields)
    handler = ACTIONS.get(operation.name)
    if handler is None:
        raise RdsError(
            "UnsupportedOperation",
            f"The action {operation.name} is an RDS action that RDS Emulator does not support yet.",
        )
    return xml.response(operation, handler(ctx, query.parse_input(operation, fields)), request_id, namespace)


def _fields(environ: WSGIEnvironment, body: bytes) -> dict[str, str]:
    """Query-string fields, then form-body fields (which win); bounded, UTF-8, and nothing XML forbids."""
    try:
        query_string = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8")
        pairs = parse_qsl(query_string, keep_blank_values=True, max_num_fields=MAX_FIELDS) if query_string else []
        if body:
            pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except UnicodeError:
        raise RdsError("MalformedQueryString", "The request is not valid UTF-8.") from None
    except ValueError:
        raise RdsError("InvalidQueryParameter", f"The request has more than {MAX_FIELDS} fields.") from None
    if len(pairs) > MAX_FIELDS:
        raise RdsError("InvalidQueryParameter", f"The request has more than {MAX_FIELDS} fields.")
    for key, value in pairs:
        if xml.forbidden_in(key) or xml.forbidden_in(value):
            raise invalid(f"The parameter {shown(key)} contains a character that is not allowed in RDS requests.")
    return dict(pairs)


def _not_allowed() -> RdsError:
    failure = RdsError("MalformedQueryString", "405 Method Not Allowed: send GET or POST to /.")
    failure.status = 405
    return failure
