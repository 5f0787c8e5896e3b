"""Founding a store: its first administrator, the log key and the master key, and their files.

The founding record is signed by the first administrator's new key. The key files are written only
once the record is stored, and removed again if anything fails, so a failed ``init`` leaves neither
a store without keys nor keys without a store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from governance.application import WatchlistApp
from governance.domain.officer import check_officer_id
from governance.domain.vocabulary import Rank
from governance.errors import Conflict
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.storage.settings import StoreSettings


def found_store(
    settings: StoreSettings,
    open_store: Callable[[], WatchlistApp],
    origin: str,
    admin: str,
    name: str,
    rank: Rank,
    passphrase: Callable[[], str],
) -> None:
    """Create the store at ``settings`` with its first administrator ``admin``.

    ``passphrase`` is asked for only once the request is known to be valid; it encrypts the
    administrator's key and the log key.
    """
    check_officer_id(admin, "admin")
    key_path = settings.officer_key_path(admin)
    existing = [
        p for p in (key_path, settings.master_key_path, settings.log_key_path) if p.exists()
    ]
    if existing or (settings.backend == "sqlite" and settings.sqlite_path.exists()):
        raise Conflict(f"store: {settings.home} already holds a watchlist store or its keys")
    secret = passphrase()
    admin_key, log_key = keys.generate(), keys.generate()
    written: list[Path] = []
    try:
        open_store().officers.found(
            origin, name, rank, Signer(admin, admin_key), keys.public_b64(log_key.public_key())
        )
        keys.write_private_key(key_path, admin_key, secret)
        written.append(key_path)
        keys.write_private_key(settings.log_key_path, log_key, secret)
        written.append(settings.log_key_path)
        MasterKey.create(settings.master_key_path)
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
