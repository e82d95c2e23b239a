"""The SSH server's host key: given, or an Ed25519 key made on first start in
the data directory (db/embedded.py's data_home: the user data directory, or
/var/lib/backoffice for root), readable by its owner only."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from core.errors import OperatorError
from db.embedded import data_home

HOST_KEY_NAME = "ssh_host_ed25519_key"


@dataclass(frozen=True)
class HostKey:
    key: asyncssh.SSHKey
    path: Path
    created: bool  # made now: its fingerprint is printed for the operators' known_hosts

    @property
    def fingerprint(self) -> str:
        return self.key.get_fingerprint("sha256")


def default_host_key_path() -> Path:
    return data_home() / "ssh" / HOST_KEY_NAME


def load_or_create(path: Path | None) -> HostKey:
    """The key at `path` (which must exist), or the default one, made when missing."""
    if path is not None:
        return HostKey(_read(path), path, created=False)
    path = default_host_key_path()
    if path.exists():
        return HostKey(_read(path), path, created=False)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="backoffice ssh host key")
    # O_EXCL with mode 0600: the key is never readable by others, not even for an instant.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key.export_private_key())
    return HostKey(key, path, created=True)


def _read(path: Path) -> asyncssh.SSHKey:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise OperatorError(f"the host key {path} is readable by others (mode {mode:o}): chmod 600 it")
        return asyncssh.read_private_key(path)
    except OSError as error:
        raise OperatorError(f"cannot read the host key {path}: {error.strerror or error}") from None
    except (asyncssh.KeyImportError, ValueError):
        raise OperatorError(
            f"the host key {path} is not a private key asyncssh can read (unencrypted OpenSSH or PEM)"
        ) from None
