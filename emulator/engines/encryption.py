"""Encryption at rest, as each flavor's server does it, with tablespaces, redo and undo logs, temporary files
and the binary log encrypted:
- MariaDB: the file key management plugin, whose key file holds the instance's data key (owner-only, beside
  the data directory, never in it), as RDS's storage holds a key KMS gives it;
- MySQL: the keyring component (component_keyring_file), loaded by a manifest in the data directory that its
  tree's global manifest lets it read; the server makes its own master key, in a keyring file beside the data
  directory. A backup carries that keyring sealed with the data key, so that a restore (or a replica, or a
  standby) reads the pages it wrapped."""

import os
import pathlib

from emulator.engines import tools

KEY_FILE = "encryption-keys"
FLAVORS = frozenset({"MariaDB", "MySQL"})
# MySQL: the keyring beside the data directory, and its sealed copy inside a backup
KEYRING = "keyring"
SEALED_KEYRING = "rds-keyring.sealed"


def write_key_file(folder: pathlib.Path, data_key: str) -> str:
    """The key file in `folder` (owner-only, written aside and renamed into place), in file_key_management's
    format: key id 1, the key in hex; its path."""
    return _owner_only(folder / KEY_FILE, f"1;{data_key}\n")


def cnf_lines(key_file: str, flavor: str = "MariaDB") -> list[str]:
    """The server encrypts every table (MariaDB's background threads encrypt the tablespaces a ready data
    directory brought), its redo and undo logs, temporary tables and files, and its binary log."""
    if flavor == "MySQL":
        return ["default_table_encryption=ON", "table_encryption_privilege_check=OFF", "binlog_encryption=ON",
                "innodb_redo_log_encrypt=ON", "innodb_undo_log_encrypt=ON"]
    return [
        "plugin_load_add=file_key_management",
        f"file_key_management_filename={key_file}",
        "file_key_management_encryption_algorithm=AES_CTR",
        "innodb_encrypt_tables=ON",
        "innodb_encrypt_log=ON",
        "innodb_encrypt_temporary_tables=ON",
        "innodb_encryption_threads=2",
        "encrypt_tmp_disk_tables=ON",
        "encrypt_tmp_files=ON",
        "encrypt_binlog=ON",
        "aria_encrypt_tables=ON",
    ]


def point_backup_at(target: pathlib.Path, key_file: str) -> None:
    """An unpacked backup of an encrypted server, made ready for mariadb-backup --prepare, which loads the key
    plugin as its backup-my.cnf says: that names the backed-up server's key file, and the key is read here
    from the new server's (the same key: the same data)."""
    cnf = target / "backup-my.cnf"
    lines = [f"file_key_management_filename={key_file}" if line.startswith("file_key_management_filename=")
             else line for line in cnf.read_text().splitlines()]
    cnf.write_text("\n".join(lines) + "\n")


# What the emulator itself keeps of an encrypted instance's data outside its server (the binary logs archived
# for point-in-time restore) is sealed with the same data key: AES-256 in CTR mode, by openssl. The data key
# is random, so the key derivation's iterations add nothing; the pass file keeps it off the command line.
PASS_FILE = "data-key"
_CIPHER = ["enc", "-aes-256-ctr", "-pbkdf2", "-iter", "1"]


def write_pass_file(folder: pathlib.Path, data_key: str) -> str:
    """The data key as openssl reads a pass phrase, owner-only, in a work folder that goes with the work."""
    return _owner_only(folder / PASS_FILE, data_key + "\n")


def _owner_only(path: pathlib.Path, text: str) -> str:
    """`text` in a file only its owner reads, written aside and renamed into place; its path."""
    staging = path.with_name(path.name + ".new")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    staging.replace(path)
    return str(path)


def seal(pass_file: str, source: str) -> list[str]:
    """`source` sealed, to standard output."""
    return ["openssl", *_CIPHER, "-salt", "-pass", f"file:{pass_file}", "-in", source]


def unseal(pass_file: str, target: str) -> list[str]:
    """Standard input unsealed into `target`."""
    return ["openssl", *_CIPHER, "-d", "-pass", f"file:{pass_file}", "-out", target]


def global_manifests(tree: pathlib.Path, daemon: str) -> None:
    """A MySQL tree's server reads the manifest and keyring configuration each data directory has (none: no
    component), read-only as the server wants them."""
    for path, text in ((tree / (daemon + ".my")), '{"read_local_manifest": true}\n'), \
            ((tree / "usr/lib/mysql/plugin/component_keyring_file.cnf"), '{"read_local_config": true}\n'):
        path.write_text(text)
        path.chmod(0o444)


def local_manifests(datadir: pathlib.Path, keyring: str) -> None:
    """A MySQL data directory's own manifest and keyring configuration: the keyring component, its file at
    `keyring`."""
    for name, text in (("mysqld.my", '{"components": "file://component_keyring_file"}\n'),
                       ("component_keyring_file.cnf", f'{{"path": "{keyring}", "read_only": false}}\n')):
        path = datadir / name
        if path.exists():
            path.chmod(0o644)
        path.write_text(text)
        path.chmod(0o444)


def prepared(flavor: str, home: pathlib.Path, data_key: str) -> str:
    """What an encrypted server needs beside its data directory (in `home`): MariaDB's key file, MySQL's
    manifests naming its keyring; the path of that key file or keyring."""
    if flavor == "MySQL":
        keyring = str(home / KEYRING)
        local_manifests(home / "data", keyring)
        return keyring
    return write_key_file(home, data_key)


def keep_keyring(home: pathlib.Path, clone: pathlib.Path, data_key: str) -> None:
    """A MySQL backup's copy of the keyring that wraps its pages' keys, sealed with the data key."""
    keyring = home / KEYRING
    if not keyring.exists():
        return
    pass_file = write_pass_file(clone.parent, data_key)
    (clone / SEALED_KEYRING).write_bytes(tools.run(seal(pass_file, str(keyring))))


def take_keyring(staging: pathlib.Path, home: pathlib.Path, data_key: str) -> None:
    """A restored MySQL backup's keyring, unsealed beside the data directory it becomes (owner-only)."""
    sealed = staging / SEALED_KEYRING
    if not sealed.exists():
        return
    pass_file = write_pass_file(home, data_key)
    target = home / KEYRING
    try:
        with open(sealed, "rb") as source:
            tools.run(unseal(pass_file, str(target)), stdin=source)
        target.chmod(0o600)
    finally:
        pathlib.Path(pass_file).unlink(missing_ok=True)
        sealed.unlink()
