"""Shared fixtures: stores on SQLite and PostgreSQL, officers with in-memory keys, a frozen clock."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from governance import clock
from governance.application import WatchlistApp
from governance.domain.proposal import EntryProposal, parse_proposal
from governance.domain.vocabulary import Rank, Role
from governance.integrity import keys
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.storage.settings import StoreSettings

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PG_URL = os.environ.get("WATCHLIST_TEST_DATABASE_URL")


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    """The clock pinned at T0 (2026-11-26T09:00:00Z); ``advance`` moves it."""
    with clock.frozen(T0) as handle:
        yield handle


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema, dropped afterwards (skips without a server)."""
    if not PG_URL:
        pytest.skip("WATCHLIST_TEST_DATABASE_URL is not set")
    schema = f"wl_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{PG_URL}?schema={schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSettings:
    """Store settings on each backend, with a master key in the home."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    result = StoreSettings(tmp_path / "home", url)
    MasterKey.create(result.master_key_path)
    return result


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> StoreSettings:
    """Store settings on the embedded SQLite backend only."""
    result = StoreSettings(tmp_path / "home")
    MasterKey.create(result.master_key_path)
    return result


@dataclass
class World:
    """A founded store with one officer per role, all signing with in-memory keys."""

    app: WatchlistApp
    settings: StoreSettings
    admin: Signer
    custodian: Signer
    authoriser: Signer
    reviewer: Signer
    inspector: Signer
    legal: Signer

    def reopen(self) -> WatchlistApp:
        """A fresh application instance on the same store."""
        return WatchlistApp(self.settings)

    def proposed(self, **changes: Any) -> Any:
        """Propose an entry (as the custodian) and return it."""
        return self.app.entries.propose(self.custodian, proposal(**changes))

    def active(self, **changes: Any) -> Any:
        """Propose and authorise an entry."""
        entry = self.proposed(**changes)
        return self.app.entries.authorise(self.authoriser, entry.id, "Necessary and proportionate.")


def found_world(settings: StoreSettings) -> World:
    """Found a store on ``settings`` and enrol the standard officers."""
    app = WatchlistApp(settings)
    admin = Signer("ADMIN-01", keys.generate())
    app.officers.found(
        "test.example/watchlist",
        "Alex Admin",
        Rank.INSPECTOR,
        admin,
        keys.public_b64(keys.generate().public_key()),
    )
    signers = {}
    for officer_id, rank, roles in (
        ("PC-1001", Rank.CONSTABLE, {Role.CUSTODIAN}),
        ("SUPT-2001", Rank.SUPERINTENDENT, {Role.AUTHORISER, Role.CUSTODIAN}),
        ("INSP-3001", Rank.INSPECTOR, {Role.REVIEWER}),
        ("INSP-4001", Rank.INSPECTOR, {Role.AUTHORISER}),
        ("LEGAL-5001", Rank.CONSTABLE, {Role.LEGAL}),
    ):
        signer = Signer(officer_id, keys.generate())
        app.officers.enrol(
            admin, officer_id, f"Officer {officer_id}", rank, frozenset(roles), signer.public_key
        )
        signers[officer_id] = signer
    return World(
        app,
        settings,
        admin,
        signers["PC-1001"],
        signers["SUPT-2001"],
        signers["INSP-3001"],
        signers["INSP-4001"],
        signers["LEGAL-5001"],
    )


@pytest.fixture
def world(settings: StoreSettings, frozen: clock.FrozenClock) -> Iterator[World]:
    """A founded store on each backend, with the clock frozen at T0."""
    result = found_world(settings)
    yield result
    result.app.close()


@pytest.fixture
def sqlite_world(sqlite_settings: StoreSettings, frozen: clock.FrozenClock) -> Iterator[World]:
    """A founded store on SQLite only, with the clock frozen at T0."""
    result = found_world(sqlite_settings)
    yield result
    result.app.close()


def entry_document(**changes: Any) -> dict[str, Any]:
    """A valid ENTRY.json document relative to the current (frozen) clock, with changes applied."""
    now = clock.now()
    document: dict[str, Any] = {
        "subject": {
            "name": "Jane Example",
            "date_of_birth": "1990-04-01",
            "subject_ref": "NOMINAL-000123",
        },
        "category": "wanted_on_warrant",
        "source_record_ref": "WARRANT-2026-0042",
        "offence_ref": None,
        "objective": "Locate persons wanted on warrant for violent offences, Operation Example",
        "rationale": "Necessity and proportionality: wanted for a serious assault, recent image.",
        "image": {
            "legal_basis": "custody image, PACE s.64A",
            "source": "custody",
            "captured_on": "2026-01-15",
        },
        "vulnerable": False,
        "safeguarding_rationale": None,
        "review_by": (now + timedelta(days=60)).isoformat(),
        "expires_at": (now + timedelta(days=180)).isoformat(),
    }
    for key, value in changes.items():
        if value is REMOVE:
            document.pop(key, None)
        else:
            document[key] = value
    return document


REMOVE = object()


def proposal(**changes: Any) -> EntryProposal:
    """A validated proposal (see ``entry_document``)."""
    return parse_proposal(json.dumps(entry_document(**changes)))
