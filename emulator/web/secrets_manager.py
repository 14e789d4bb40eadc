"""Secrets Manager's JSON endpoint, on the same port as RDS's: a POST to / with `X-Amz-Target:
secretsmanager.<Action>`, signed (service `secretsmanager`) with the same access keys."""

import logging
from wsgiref.types import WSGIEnvironment

from emulator.api import secrets
from emulator.context import Context
from emulator.model import ids
from emulator.protocol import json_wire
from emulator.protocol.errors import RdsError
from emulator.protocol.json_wire import JsonError
from emulator.store.errors import StoreFull
from emulator.web import signing
from emulator.web.bodies import body_of

log = logging.getLogger(__name__)
TARGET = "HTTP_X_AMZ_TARGET"
# The signature errors' names in a JSON service, as Secrets Manager answers them
SIGNING_CODES = {"SignatureDoesNotMatch": "InvalidSignatureException",
                 "InvalidClientTokenId": "UnrecognizedClientException",
                 "MissingAuthenticationToken": "MissingAuthenticationTokenException",
                 "IncompleteSignature": "IncompleteSignatureException",
                 "RequestExpired": "InvalidSignatureException",
                 "InvalidQueryParameter": "SerializationException"}


def asked(environ: WSGIEnvironment) -> bool:
    return bool(environ.get(TARGET))


def respond(ctx: Context, environ: WSGIEnvironment,
            access_keys: dict[str, str] | None) -> tuple[bytes, int, str]:
    """The JSON answer to one request, its HTTP status and its request id."""
    request_id = ids.request_id()
    try:
        method = environ.get("REQUEST_METHOD", "GET")
        if method != "POST":
            raise JsonError("UnknownOperationException", "Secrets Manager takes POST requests only.")
        body = body_of(environ)
        signing.check(access_keys, environ, method, body)
        operation = json_wire.operation_of(environ[TARGET])
        request = json_wire.parse_input(operation, body)
        handler = secrets.SERVED.get(operation.name)
        result = handler(ctx, request) if handler else secrets.refuse(ctx, operation.name, request)
        return json_wire.response(operation, result), 200, request_id
    except RdsError as error:  # the signature's, or the body's bounds
        failure = JsonError(SIGNING_CODES.get(error.code, error.code), error.message, error.status)
        return json_wire.error_body(failure), failure.status, request_id
    except JsonError as error:
        return json_wire.error_body(error), error.status, request_id
    except StoreFull:
        log.error("request %s: the disk holding the data directory is full", request_id)
        failure = JsonError("InternalServiceError", "The emulator's data directory is full.", 500)
        return json_wire.error_body(failure), failure.status, request_id
    except Exception:
        log.exception("internal failure in request %s", request_id)
        failure = JsonError("InternalServiceError", "The request processing has failed because of an unknown "
                            "error.", 500)
        return json_wire.error_body(failure), failure.status, request_id
