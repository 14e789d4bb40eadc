"""The access keys the emulator takes signed requests from. A data directory has its own pair, made at its
first start: both halves are derived from a random key kept in the data directory (owner-only), so that no
secret is stored. More pairs can be configured (RDS_EMULATOR_ACCESS_KEYS="AKID:SECRET,..."): they stay in
the environment, never in a file of ours."""

import base64
import hashlib
import hmac
import pathlib

from emulator.host import key_file

KEY_FILE = "access.key"


def data_dir_pair(data_dir: pathlib.Path) -> tuple[str, str]:
    """The data directory's own access key id and secret (its key made now, if it has none yet)."""
    key = key_file.ensure(data_dir / KEY_FILE)
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
