"""Per-invocation context: which store, which officer, which key, which passphrase.

Global options come before the command (``watchlist --home DIR --as ID --key FILE entry ...``); each
falls back to its environment variable. Passphrases come only from the environment or a hidden
prompt, never from a command-line argument.

The store and the keys are imported inside the methods that use them: this module is loaded to
build the CLI, and ``watchlist --help`` should not pay for the event store.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import typer

from governance.errors import InvalidInput, KeyUnlockFailed, NotFound, PermissionDenied

if TYPE_CHECKING:
    from governance.application import WatchlistApp
    from governance.integrity.signing import Signer
    from governance.storage.settings import StoreSettings


@dataclass
class Session:
    """What the global options and environment say about this invocation."""

    home: str | None = None
    officer_id: str | None = None
    key_file: Path | None = None
    _app: WatchlistApp | None = field(default=None, repr=False)

    @property
    def settings(self) -> StoreSettings:
        from governance.storage.settings import StoreSettings

        return StoreSettings.from_environment(self.home)

    def app(self, *, create: bool = False) -> WatchlistApp:
        """The store, refusing to create an empty one unless ``create``."""
        if self._app is None:
            from governance.application import WatchlistApp

            settings = self.settings
            if settings.backend == "sqlite" and not create and not settings.sqlite_path.exists():
                raise NotFound(
                    f"store: no watchlist store at {settings.home}; run 'watchlist init' first "
                    "or set --home / WATCHLIST_HOME"
                )
            if create:
                settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._app = WatchlistApp(settings)
        return self._app

    def acting_officer(self) -> str:
        """The officer id from ``--as`` or ``WATCHLIST_OFFICER``."""
        officer_id = self.officer_id or os.environ.get("WATCHLIST_OFFICER")
        if not officer_id:
            raise InvalidInput(
                "--as: this command is signed, so name the acting officer with --as or WATCHLIST_OFFICER"
            )
        return officer_id

    def key_path(self, officer_id: str) -> Path:
        """``--key``, ``WATCHLIST_KEY``, or the officer's key file in the home."""
        chosen = self.key_file or os.environ.get("WATCHLIST_KEY")
        return Path(chosen) if chosen else self.settings.officer_key_path(officer_id)

    def signer(self) -> Signer:
        """Unlock the acting officer's key."""
        from governance.integrity import keys
        from governance.integrity.signing import Signer

        officer_id = self.acting_officer()
        path = self.key_path(officer_id)
        if not path.exists():
            if not self.app().officers.is_enrolled(officer_id):
                raise PermissionDenied(f"officer: {officer_id} is not enrolled in this store")
            raise KeyUnlockFailed(f"key: cannot sign as {officer_id}: no key file at {path}")
        passphrase = passphrase_from("WATCHLIST_PASSPHRASE", f"Passphrase for {officer_id}'s key")
        return Signer(officer_id, keys.read_private_key(path, passphrase))

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


def passphrase_from(variable: str, prompt: str, *, confirm: bool = False) -> str:
    """A passphrase from ``variable`` or a hidden prompt on a terminal."""
    value = os.environ.get(variable)
    if value:
        return value
    if not sys.stdin.isatty():
        raise InvalidInput(f"passphrase: set {variable} or run in a terminal to be prompted")
    entered: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return entered


def read_input(path: Path, option: str) -> bytes:
    """The bytes of a file named on the command line, or one clear InvalidInput line."""
    try:
        return path.read_bytes()
    except OSError:
        raise InvalidInput(f"{option}: cannot read {path}") from None


def read_text_input(path: Path, option: str) -> str:
    """The UTF-8 text of a file named on the command line, or one clear InvalidInput line."""
    try:
        return read_input(path, option).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{option}: {path} is not UTF-8 text") from None


def entry_id(text: str) -> UUID:
    """Parse an entry id argument."""
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput(f"entry_id: '{text[:60]}' is not an entry id (a UUID)") from None


def deployment_id(text: str) -> UUID:
    """Parse a deployment id argument."""
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput(
            f"deployment_id: '{text[:60]}' is not a deployment id (a UUID)"
        ) from None


def session_of(ctx: typer.Context) -> Session:
    """The session stored on the root context by the global options."""
    session = ctx.find_root().obj
    assert isinstance(session, Session)
    return session
