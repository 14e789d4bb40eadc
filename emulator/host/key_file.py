"""A random key kept in a file, owner-only, that secrets are derived from (the data directory's access key,
guests' administrator passwords) so that no secret itself is stored."""

import os
import pathlib
import secrets


def ensure(path: pathlib.Path) -> bytes:
    """The key in `path`, made now if there is none: written aside and linked into place, so that a reader
    never sees half of one, and two starts at the same moment end with the same key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:
            os.link(staging, path)
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    return path.read_bytes()
