"""The binary log files archived for point-in-time restore, kept in backup storage and taken out again: an
encrypted instance's are sealed with its data key (engines/encryption.py), as RDS encrypts its backups."""

import pathlib
import shutil
from typing import Any

from emulator.context import Context
from emulator.engines import encryption, tools
from emulator.engines.backup import CHUNK
from emulator.model.instance import Instance


def keep(ctx: Context, instance: Instance, path: pathlib.Path, key: str, size: int) -> None:
    """The file fetched into `path` (a work folder's), stored under `key`."""
    pass_file = _pass_file(ctx, instance, path.parent)
    with open(path, "rb") as source, ctx.backups.writer(key) as sink:
        if pass_file is None:
            shutil.copyfileobj(source, sink, CHUNK)
            return
        with open(path.with_name(path.name + ".seal.log"), "w+b") as log:
            tools.stream(encryption.seal(pass_file, str(path)), sink, log, lambda _: None, tools.for_bytes(size))


def take(ctx: Context, instance: Instance, item: dict[str, Any], work: pathlib.Path) -> pathlib.Path:
    """An archived file (a binlogs row) in the work folder, as its server wrote it, for the restored `instance`
    (whose data key is its source's: the same data)."""
    path = work / item["name"]
    pass_file = _pass_file(ctx, instance, work)
    with ctx.backups.reader(item["storage_key"]) as source:
        if pass_file is None:
            with open(path, "wb") as sink:
                shutil.copyfileobj(source, sink, CHUNK)
        else:
            tools.run(encryption.unseal(pass_file, str(path)), stdin=source, timeout=tools.for_bytes(item["size"]))
    return path


def _pass_file(ctx: Context, instance: Instance, work: pathlib.Path) -> str | None:
    if not instance.storage_encrypted:
        return None
    return encryption.write_pass_file(work, ctx.storage_keys.data_key(instance.data_key_name))
