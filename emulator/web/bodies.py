"""A request's body, read from the WSGI environ and bounded: the Query endpoint's and Secrets Manager's."""

from wsgiref.types import WSGIEnvironment

from emulator.protocol.errors import RdsError

# The largest real requests (a 20-parameter ModifyDBParameterGroup, 50 tags) are a few tens of kB.
MAX_BODY = 1024 * 1024


def body_of(environ: WSGIEnvironment) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > MAX_BODY:
        raise _too_large()
    stream = environ["wsgi.input"]
    if length >= 0:
        return stream.read(length)
    # No length (a chunked body): a server that ends the input stream lets us read to its end, bounded;
    # otherwise there is no body, as WSGI says.
    body = stream.read(MAX_BODY + 1) if environ.get("wsgi.input_terminated") else b""
    if len(body) > MAX_BODY:
        raise _too_large()
    return body


def _too_large() -> RdsError:
    return RdsError("InvalidQueryParameter", f"The request body is larger than {MAX_BODY} bytes.")
