"""The access keys the emulator takes signed requests from. A data directory has its own pair, made at its
first start: both halves are derived from a random key kept in the data directory (owner-only), so that no
secret is stored. More pairs can be configured (RDS_EMULATOR_ACCESS_KEYS="AKID:SECRET,..."): they stay in
the environment, never in a file of ours."""

import base64
import hashlib
import hmac
import os
import pathlib
import secrets

KEY_FILE = "access.key"


def data_dir_pair(data_dir: pathlib.Path) -> tuple[str, str]:
    """The data directory's own access key id and secret (its key made now, if it has none yet)."""
    key = _key(data_dir / KEY_FILE)
    digest = hmac.new(key, b"access key id", hashlib.sha256).digest()
    access_key = "AKIA" + base64.b32encode(digest).decode()[:16]
    secret = base64.b64encode(hmac.new(key, access_key.encode(), hashlib.sha256).digest()).decode()[:40]
    return access_key, secret


def configured(text: str | None) -> dict[str, str]:
    """`AKID:SECRET,AKID2:SECRET2` as a map; ValueError, naming no secret, when it reads otherwise."""
    pairs = {}
    for item in (text or "").split(","):
        access_key, colon, secret = item.strip().partition(":")
        if not item.strip():
            continue
        if not colon or not access_key or not secret:
            raise ValueError(f"an access key reads AKID:SECRET (the one after {len(pairs)} good ones does not)")
        pairs[access_key] = secret
    return pairs


def exports(access_key: str, secret: str, region: str) -> str:
    return (f"export AWS_ACCESS_KEY_ID={access_key}\nexport AWS_SECRET_ACCESS_KEY={secret}\n"
            f"export AWS_DEFAULT_REGION={region}\n")


def _key(path: pathlib.Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:  # whole or not at all; a start at the same moment may have made it first, and then it is that one
            os.link(staging, path)
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    return path.read_bytes()
