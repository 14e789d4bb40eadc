"""Identifiers made on the request path: request ids and resource ids.

They need to be unique, not secret, so they come from the process's own generator (seeded from the kernel
at start) rather than from os.urandom: a read of the kernel's randomness lets go of the GIL, and under
background work the request then waits up to a switch interval (5 ms) to get it back. That wait was the
largest part of a CreateDBInstance."""

import random

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def request_id() -> str:
    """A random (version 4) UUID, as RDS's request ids are."""
    value = random.getrandbits(128)
    value = value & ~(0xF << 76) | 0x4 << 76  # the version, 4
    value = value & ~(0x3 << 62) | 0x2 << 62  # the variant, RFC 4122's
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def resource_id() -> str:
    """An instance's DbiResourceId, as RDS writes them: `db-` and 26 characters of base32."""
    value = random.getrandbits(130)
    return "db-" + "".join(BASE32[(value >> (5 * i)) & 31] for i in range(26))


def token() -> str:
    """32 hex digits, for names that only need to differ (a backup's file, a sync's run-once key)."""
    return f"{random.getrandbits(128):032x}"
