"""Where a store lives: its home directory (keys, embedded database) and its database.

``WATCHLIST_HOME`` (default: the user's data directory) holds the key files and, unless
``WATCHLIST_DATABASE_URL`` selects PostgreSQL, the embedded SQLite file. The URL is mapped onto the
eventsourcing library's ``POSTGRES_*`` settings; ``?schema=NAME`` selects a schema.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from governance.errors import InvalidInput

SQLITE_FILE = "watchlist.sqlite"


@dataclass(frozen=True)
class StoreSettings:
    """Resolved location of one store."""

    home: Path
    database_url: str | None = None

    @classmethod
    def from_environment(
        cls, home: str | Path | None = None, environ: Mapping[str, str] | None = None
    ) -> StoreSettings:
        """Settings from an explicit home or ``WATCHLIST_HOME``, and ``WATCHLIST_DATABASE_URL``."""
        env = os.environ if environ is None else environ
        chosen = home or env.get("WATCHLIST_HOME") or default_home()
        url = env.get("WATCHLIST_DATABASE_URL") or None
        return cls(Path(chosen).expanduser().resolve(), url)

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    def officer_key_path(self, officer_id: str) -> Path:
        """Default location of an officer's encrypted private key."""
        return self.keys_dir / f"{officer_id}.pem"

    @property
    def master_key_path(self) -> Path:
        return self.home / "master.key"

    @property
    def log_key_path(self) -> Path:
        return self.home / "log-key.pem"

    @property
    def sqlite_path(self) -> Path:
        return self.home / SQLITE_FILE

    @property
    def backend(self) -> str:
        """``postgresql`` or ``sqlite``."""
        return "postgresql" if self.database_url else "sqlite"

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library settings for this store."""
        if self.database_url:
            return {
                **postgres_env(self.database_url),
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "APPLICATION_RECORDER_TOPIC": "governance.storage.postgres_recorder:PostgresRecorder",
            }
        return {
            "PERSISTENCE_MODULE": "governance.storage.sqlite_pool:SQLiteStoreFactory",
            "SQLITE_DBNAME": str(self.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": "governance.storage.sqlite_recorder:SQLiteRecorder",
        }

    def postgres_connection(self) -> dict[str, str]:
        """Keyword arguments for ``psycopg.connect`` to this store's database."""
        env = postgres_env(self.database_url or "")
        return {
            "dbname": env["POSTGRES_DBNAME"],
            "host": env["POSTGRES_HOST"],
            "port": env["POSTGRES_PORT"],
            "user": env["POSTGRES_USER"],
            "password": env["POSTGRES_PASSWORD"],
        }

    def postgres_schema(self) -> str:
        """The store's PostgreSQL schema (``public`` unless the URL names one)."""
        return postgres_env(self.database_url or "").get("POSTGRES_SCHEMA", "public")

    def describe(self) -> str:
        """Where the events are, without any password."""
        if self.database_url:
            parts = urlsplit(self.database_url)
            return f"postgresql://{parts.hostname}:{parts.port or 5432}{parts.path}"
        return str(self.sqlite_path)


def default_home() -> str:
    """The user's data directory for watchlist (platformdirs is imported only when it is needed)."""
    import platformdirs  # noqa: PLC0415

    return platformdirs.user_data_dir("watchlist")


def postgres_env(url: str) -> dict[str, str]:
    """Map ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?schema=S]`` to ``POSTGRES_*``."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise InvalidInput("WATCHLIST_DATABASE_URL: must start with postgresql://")
    dbname = parts.path.lstrip("/")
    if not parts.hostname or not dbname or not parts.username:
        raise InvalidInput("WATCHLIST_DATABASE_URL: needs a user, a host and a database name")
    query = parse_qs(parts.query)
    env = {
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "4",
        "POSTGRES_LOCK_TIMEOUT": "30",
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    return env
