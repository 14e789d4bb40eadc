"""SigV4 on every route: the Query endpoint's requests and the operator's are checked alike."""

from datetime import UTC, datetime
from wsgiref.types import WSGIEnvironment

from emulator.protocol import sigv4


def check(access_keys: dict[str, str] | None, environ: WSGIEnvironment, method: str, body: bytes) -> None:
    """RdsError with AWS's code (403) unless the request is signed with one of `access_keys`; None lets any
    request in."""
    if access_keys is not None:
        sigv4.verify(_signed_request(environ, method, body), access_keys.get, datetime.now(UTC))


def _signed_request(environ: WSGIEnvironment, method: str, body: bytes) -> sigv4.Request:
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
               if key.startswith("HTTP_") and isinstance(value, str)}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return sigv4.Request(method, environ.get("PATH_INFO") or "/", environ.get("QUERY_STRING", ""), headers, body)
