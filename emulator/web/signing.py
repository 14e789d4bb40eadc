"""SigV4 on every route: the Query endpoint's requests and the operator's are checked alike."""

import functools
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from wsgiref.types import WSGIEnvironment

from emulator.protocol import sigv4

# The two headers WSGI keeps under names of their own
UNPREFIXED = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def check(access_keys: dict[str, str] | None, environ: WSGIEnvironment, method: str, body: bytes) -> None:
    """RdsError with AWS's code (403) unless the request is signed with one of `access_keys`; None lets any
    request in."""
    if access_keys is not None:
        request = sigv4.Request(method, environ.get("PATH_INFO") or "/", environ.get("QUERY_STRING", ""),
                                EnvironHeaders(environ), body)
        sigv4.verify(request, access_keys.get, datetime.now(UTC))


@functools.lru_cache(maxsize=256)
def _environ_key(name: str) -> str:
    return UNPREFIXED.get(name) or "HTTP_" + name.upper().replace("-", "_")


class EnvironHeaders(Mapping[str, str]):
    """A request's headers by lower-case name, read from the WSGI environ as the check asks for them: it asks
    for a few, the signed ones, and copying all of them cost a fifth of the check."""

    def __init__(self, environ: WSGIEnvironment):
        self.environ = environ

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        value = self.environ.get(_environ_key(name))
        if not isinstance(value, str) or (not value and name in UNPREFIXED):
            return default
        return value

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        for key, value in self.environ.items():
            if key.startswith("HTTP_") and isinstance(value, str):
                yield key[5:].replace("_", "-").lower()
        yield from (name for name, key in UNPREFIXED.items() if self.environ.get(key))

    def __len__(self) -> int:
        return sum(1 for _ in self)
