"""Encryption at rest: each data key is derived from a random key kept in the data directory (owner-only), as
the access key is, and named by the instance that first wrote the data; so no data key is stored by the
emulator, and a restore, a replica or a standby of that data gets the same key again."""

import hashlib
import hmac
import pathlib

from emulator.host import key_file

KEY_FILE = "storage-encryption.key"


class StorageKeys:
    def __init__(self, data_dir: pathlib.Path):
        self._key = key_file.ensure(data_dir / KEY_FILE)

    def data_key(self, name: str) -> str:
        """The 256-bit data key of `name`, in hex (as the servers' key files hold it)."""
        return hmac.new(self._key, f"data key\n{name}".encode(), hashlib.sha256).hexdigest()
