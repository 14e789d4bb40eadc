"""Encryption at rest, as each flavor's server does it: MariaDB's file key management plugin with its
tablespaces, redo log, temporary files and binary log encrypted. The key file holds the instance's data key
(owner-only, beside the data directory, never in it), as RDS's storage holds a key KMS gives it."""

import os
import pathlib

KEY_FILE = "encryption-keys"
# the flavors whose servers this emulator can encrypt (MySQL's keyring component needs files in its tree)
FLAVORS = frozenset({"MariaDB"})


def write_key_file(folder: pathlib.Path, data_key: str) -> str:
    """The key file in `folder` (owner-only, written aside and renamed into place), in file_key_management's
    format: key id 1, the key in hex; its path."""
    path = folder / KEY_FILE
    staging = path.with_name(path.name + ".new")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(f"1;{data_key}\n")
    staging.replace(path)
    return str(path)


def cnf_lines(key_file: str) -> list[str]:
    """The server encrypts every table (background threads encrypt the tablespaces a ready data directory
    brought), its redo log, temporary tables and files, Aria tables and its binary log."""
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
    path = folder / PASS_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(data_key + "\n")
    return str(path)


def seal(pass_file: str, source: str) -> list[str]:
    """`source` sealed, to standard output."""
    return ["openssl", *_CIPHER, "-salt", "-pass", f"file:{pass_file}", "-in", source]


def unseal(pass_file: str, target: str) -> list[str]:
    """Standard input unsealed into `target`."""
    return ["openssl", *_CIPHER, "-d", "-pass", f"file:{pass_file}", "-out", target]
