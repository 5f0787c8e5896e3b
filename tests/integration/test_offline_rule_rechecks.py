"""The offline verifier re-checks the write-time rules too (issue 13, section 2).

A store holds events that no command would write, each appended through the recorder and signed
with the signer's own registered key (``tests.tamper.test_rule_rechecks.forge``); the exported
bundle must fail the offline verifier at each of them, from the registry and policies it replays
from the bundle alone, never from what an event claims.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest

from governance import clock
from governance.domain.officer import officer_stream
from governance.domain.policy import PolicyDocument
from governance.domain.vocabulary import Rank, RemovalReason
from governance.offline.bundle import main
from governance.services.export import export_bundle
from tests.conftest import World, proposal
from tests.integration.test_offline_verifier import forge as forge_row
from tests.integration.test_offline_verifier import rows, where
from tests.tamper.test_rule_rechecks import AUTHORISED, REMOVED, forge, removal


def offline_failures(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    bundle = tmp_path / "bundle"
    export_bundle(world.app, bundle, [], [])
    capsys.readouterr()
    code = main([str(bundle)])
    err = capsys.readouterr().err
    assert code != 0
    return err


def at(stream: object, version: int, position: int) -> str:
    return f"stream {stream} version {version} position {position}"


def test_an_honest_store_has_no_rule_failures(
    sqlite_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = sqlite_world
    world.app.policies.publish(
        world.admin, PolicyDocument(min_authoriser_rank=Rank.INSPECTOR), None
    )
    entry = world.proposed()
    world.app.entries.authorise(world.inspector, entry.id, "Necessary and proportionate.")
    world.app.entries.remove(
        world.custodian,
        entry.id,
        RemovalReason.CASE_CLOSED,
        clock.now() - timedelta(days=100),
        None,
        "Found late.",
        "CASE-1",
    )
    world.app.entries.confirm(world.authoriser, entry.id, 3, "Checked the case file.")
    bundle = tmp_path / "bundle"
    export_bundle(world.app, bundle, [], [])
    capsys.readouterr()
    main([str(bundle)])
    assert "FAILED" not in capsys.readouterr().err


def test_each_forged_rule_breach_fails_offline(
    sqlite_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = sqlite_world
    claimed = world.proposed()
    rank = forge(
        world.app, claimed.id, AUTHORISED, world.inspector, rationale="F.", rank="superintendent"
    )
    own = world.app.entries.propose(world.authoriser, proposal())
    self_authorised = forge(
        world.app, own.id, AUTHORISED, world.authoriser, rationale="F.", rank="superintendent"
    )
    late = world.active()
    backdated = forge(
        world.app,
        late.id,
        REMOVED,
        world.custodian,
        effective_at=clock.now() - timedelta(days=3),
        **removal(),
    )
    lines = offline_failures(world, tmp_path, capsys).splitlines()

    def failed(where: str, phrase: str) -> None:
        assert any(where in line and phrase in line for line in lines), (where, phrase, lines)

    failed(
        at(claimed.id, 2, rank),
        "rank_claim_mismatch: the event claims rank 'superintendent' but the officer registry "
        "holds rank inspector for INSP-4001",
    )
    failed(at(claimed.id, 2, rank), "authoriser_rank_too_low")
    failed(at(own.id, 2, self_authorised), "authorised_by_proposer")
    failed(at(late.id, 3, backdated), "without a reason and a source reference")


def test_a_key_enrolled_for_a_second_officer_fails_offline(
    sqlite_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store refuses to export a registry with a shared key, so the enrolment is appended to
    the exported bundle, signed by the administrator's real key."""
    world = sqlite_world
    bundle = tmp_path / "bundle"
    export_bundle(world.app, bundle, [], [])
    last = rows(bundle)[-1]
    previous = json.loads(json.loads(base64.b64decode(last["state"]))["statement"])
    twin = "SUPT-9001"
    row = forge_row(
        bundle,
        world.admin,
        "watchlist:Officer.Enrolled",
        stream=str(officer_stream(twin)),
        recorded_at=previous["recorded_at"],
        effective_at=previous["effective_at"],
        payload={
            "originator_topic": "watchlist:Officer",
            "officer_id": twin,
            "name": "Second Identity",
            "rank": "superintendent",
            "roles": ["authoriser"],
            "public_key": world.custodian.public_key,
            "key_id": world.custodian.key_id,
        },
    )
    capsys.readouterr()
    assert main([str(bundle)]) != 0
    lines = capsys.readouterr().err.splitlines()
    phrase = f"key {world.custodian.key_id} of officer {twin} is also registered to PC-1001"
    assert any(where(row) in line and phrase in line for line in lines), lines
