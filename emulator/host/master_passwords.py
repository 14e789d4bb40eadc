"""Managed master passwords, derived from a random key kept in the data directory (owner-only), as the access
key is: a secret's version names its password, so that no password is stored anywhere (docs/secrets.md)."""

import hashlib
import hmac
import pathlib

from emulator.host import key_file

KEY_FILE = "master-passwords.key"
LENGTH = 28
# printable ASCII but what RDS forbids in a master password (/ @ " and space) and what a shell or a
# connection string would read as its own (' ` \)
ALPHABET = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "/@\"'`\\")


class MasterPasswords:
    def __init__(self, data_dir: pathlib.Path):
        self._key = key_file.ensure(data_dir / KEY_FILE)

    def password(self, secret_arn: str, version: str) -> str:
        """The password of one version of a secret: the same for as long as the key is kept."""
        stream = b""
        counter = 0
        while len(stream) < LENGTH * 2:
            stream += hmac.new(self._key, f"{secret_arn}\n{version}\n{counter}".encode(), hashlib.sha256).digest()
            counter += 1
        # two bytes a character: the alphabet's 88 letters are then as good as evenly drawn
        return "".join(ALPHABET[int.from_bytes(stream[i:i + 2]) % len(ALPHABET)] for i in range(0, LENGTH * 2, 2))
