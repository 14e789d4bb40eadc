"""AWS Signature Version 4, as pure functions: the canonical request and the signature (compat/ signs with
them), and the check of a signed request against the secrets a server knows, in the header form
(`Authorization: AWS4-HMAC-SHA256 ...`) and the query-string form (`X-Amz-Signature=...`).

A request is checked over the scope its client chose: an old SDK derives the region and service from the
host name, which for 127.0.0.1 gives nonsense, and that alone refuses nothing. Times are the host's: the
emulator's own clock may have been moved forward (operator_api.py), a client's has not."""

import functools
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote, unquote

from emulator.protocol.errors import RdsError

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# How far a request's time may be from the host's, either way, as AWS allows.
SKEW = timedelta(minutes=5)
# The longest a query-string signature may be valid for (X-Amz-Expires), as AWS allows.
LONGEST_EXPIRY = 604800
TIME_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Request:
    """What a signature covers: header names lower-case; the query string raw, as it came."""

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes


class Signed(NamedTuple):
    """What a request says of its own signature (a NamedTuple: made on every request, and a frozen dataclass
    costs a microsecond a field)."""

    access_key: str
    date: str  # YYYYMMDD, the scope's
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    time: datetime
    amz_time: str  # the time, as signed: YYYYMMDDTHHMMSSZ
    expires: int | None  # seconds, the query-string form's
    query_form: bool

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def verify(request: Request, secret_of: Callable[[str], str | None], now: datetime) -> str:
    """The access key the request is signed with; RdsError with AWS's code when it is not signed right."""
    signed = _signed(request)
    secret = secret_of(signed.access_key)
    if secret is None:
        raise RdsError("InvalidClientTokenId", "The security token included in the request is invalid.")
    _check_time(signed, now)
    body_hash = _payload_hash(request.body)
    payload = request.headers.get("x-amz-content-sha256") or body_hash
    if payload not in (UNSIGNED_PAYLOAD, body_hash):
        raise RdsError("SignatureDoesNotMatch", "The provided x-amz-content-sha256 header does not match what "
                                                "was computed.")
    query = request.query_string
    if signed.query_form:
        query = "&".join(pair for pair in query.split("&") if not pair.startswith("X-Amz-Signature="))
    # a presigned GET covers no payload: botocore signs those UNSIGNED-PAYLOAD when no header says otherwise
    candidates = [payload] + ([UNSIGNED_PAYLOAD] if signed.query_form and payload != UNSIGNED_PAYLOAD else [])
    for candidate in candidates:
        canonical = canonical_request(request.method, request.path, query, request.headers,
                                      signed.signed_headers, candidate)
        expected = signature(secret, signed.amz_time, signed.scope, canonical)
        if hmac.compare_digest(expected, signed.signature):
            return signed.access_key
    raise RdsError("SignatureDoesNotMatch",
                   "The request signature we calculated does not match the signature you provided. Check your "
                   "AWS Secret Access Key and signing method. Consult the service documentation for details.")


def canonical_request(method: str, path: str, query_string: str, headers: Mapping[str, str],
                      signed_headers: list[str], payload_hash: str) -> str:
    values = [headers.get(name) for name in signed_headers]
    if None in values:
        missing = signed_headers[values.index(None)]
        raise RdsError("IncompleteSignature", f"The request does not have the signed header {missing}.")
    lines = [f"{name}:{' '.join(value.split())}\n" for name, value in zip(signed_headers, values, strict=True)]
    return "\n".join([method.upper(), quote(path or "/", safe="/~"), canonical_query(query_string),
                      "".join(lines), ";".join(signed_headers), payload_hash])


def canonical_query(query_string: str) -> str:
    """Each name and value as RFC 3986 encodes it, sorted by name, then value."""
    pairs = []
    for pair in query_string.split("&") if query_string else []:
        name, _, value = pair.partition("=")
        pairs.append((_encode(unquote(name)), _encode(unquote(value))))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def signature(secret: str, amz_time: str, scope: str, canonical: str) -> str:
    date, region, service, _ = scope.split("/")
    to_sign = f"{ALGORITHM}\n{amz_time}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.digest(_signing_key(secret, date, region, service), to_sign.encode(), "sha256").hex()


def sign(request: Request, access_key: str, secret: str, region: str, service: str, now: datetime) -> dict[str, str]:
    """The headers that sign `request` (header form): its own must hold `host`; all of them are signed."""
    amz_time = now.strftime(TIME_FORMAT)
    headers = {**request.headers, "x-amz-date": amz_time}
    names = sorted(headers)
    scope = f"{amz_time[:8]}/{region}/{service}/aws4_request"
    canonical = canonical_request(request.method, request.path, request.query_string, headers, names,
                                  _payload_hash(request.body))
    signed = signature(secret, amz_time, scope, canonical)
    return {"X-Amz-Date": amz_time,
            "Authorization": f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, "
                             f"Signature={signed}"}


@functools.lru_cache(maxsize=256)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _signed(request: Request) -> Signed:
    header = request.headers.get("authorization")
    if header is not None:
        return _from_header(header, request.headers)
    fields = dict(pair.partition("=")[::2] for pair in request.query_string.split("&") if pair)
    if "X-Amz-Signature" in fields or "X-Amz-Algorithm" in fields:
        return _from_query({name: unquote(value) for name, value in fields.items()})
    raise RdsError("MissingAuthenticationToken", "Request is missing Authentication Token")


def _from_header(header: str, headers: Mapping[str, str]) -> Signed:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise RdsError("IncompleteSignature", f"Unsupported AWS 'algorithm': '{algorithm[:64]}'.")
    parts = {}
    for item in rest.split(","):
        name, equals, value = item.strip().partition("=")
        if not equals:
            raise RdsError("IncompleteSignature", f"'{item.strip()[:64]}' not a valid key=value pair (missing equal-"
                                                  "sign) in Authorization header.")
        parts[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in parts]
    if missing:
        raise RdsError("IncompleteSignature", " ".join(f"Authorization header requires '{name}' parameter."
                                                       for name in missing))
    stamp = headers.get("x-amz-date") or headers.get("date")
    if stamp is None:
        raise RdsError("IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' "
                                              "or a 'Date' header.")
    return _parsed(parts["Credential"], parts["SignedHeaders"], parts["Signature"], stamp, None, False)


def _from_query(fields: dict[str, str]) -> Signed:
    missing = [name for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                                 "X-Amz-Signature") if name not in fields]
    if missing:
        raise RdsError("IncompleteSignature", f"The query-string signature lacks {', '.join(missing)}.")
    if fields["X-Amz-Algorithm"] != ALGORITHM:
        raise RdsError("IncompleteSignature", f"Unsupported AWS 'algorithm': '{fields['X-Amz-Algorithm'][:64]}'.")
    expires = fields.get("X-Amz-Expires")
    if expires is not None and not (expires.isdigit() and 0 < int(expires) <= LONGEST_EXPIRY):
        raise RdsError("IncompleteSignature", f"X-Amz-Expires must be a whole number of seconds from 1 to "
                                              f"{LONGEST_EXPIRY}.")
    return _parsed(fields["X-Amz-Credential"], fields["X-Amz-SignedHeaders"], fields["X-Amz-Signature"],
                   fields["X-Amz-Date"], int(expires) if expires else None, True)


def _parsed(credential: str, signed_headers: str, signed: str, stamp: str, expires: int | None,
            query_form: bool) -> Signed:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise RdsError("IncompleteSignature", f"Credential should be scoped to a valid region, service and "
                                              f"date: '{credential[:128]}'.")
    access_key, date, region, service, _ = parts
    when = _time(stamp)
    amz_time = when.strftime(TIME_FORMAT) if len(stamp) != len("YYYYMMDDTHHMMSSZ") else stamp
    if amz_time[:8] != date:
        raise RdsError("SignatureDoesNotMatch", f"Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                                f"version of date from HTTP: '{date[:16]}' != '{amz_time[:8]}'.")
    names = signed_headers.split(";")
    if "host" not in names or names != sorted(names) or any(name != name.lower() for name in names):
        raise RdsError("IncompleteSignature", "SignedHeaders must be sorted, lower-case names that include host.")
    return Signed(access_key, date, region, service, names, signed, when, amz_time, expires, query_form)


def _time(stamp: str) -> datetime:
    try:
        if len(stamp) == 16 and stamp[8] == "T" and stamp[15] == "Z":  # the usual form: strptime costs 20 µs
            return datetime(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]), int(stamp[9:11]), int(stamp[11:13]),
                            int(stamp[13:15]), tzinfo=UTC)
        return datetime.strptime(stamp.strip(), "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    except ValueError:
        raise RdsError("IncompleteSignature", f"Date must be in ISO-8601 'basic format': '{stamp[:32]}'.") from None


def _check_time(signed: Signed, now: datetime) -> None:
    if signed.query_form and signed.expires is not None:
        if not signed.time - SKEW <= now <= signed.time + timedelta(seconds=signed.expires):
            raise RdsError("RequestExpired", "Request has expired.")
    elif abs(now - signed.time) > SKEW:
        raise RdsError("RequestExpired", f"Request has expired: its time {signed.time:{TIME_FORMAT}} is more than "
                                         f"5 minutes from the server's {now:{TIME_FORMAT}}.")
