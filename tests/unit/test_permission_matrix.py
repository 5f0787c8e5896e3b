"""The role-by-action matrix, cell by cell, through the governance calls that take each action.

For every ``Action`` and every ``Role`` an officer holding exactly that one role (at the most senior
rank, so rank rules never interfere) attempts the call that takes the action, against state set up
so that an allowed call succeeds. The call must be refused with ``PermissionDenied`` naming the
roles needed exactly when the role is not in ``ALLOWED[action]``, and a refusal must write nothing;
an allowed call must record events signed by that officer whose actions the role may take.

The same table is enforced again on stored events (``governance.integrity.verifier``): events forged with
the signature of an officer who lacks the role are reported by ``verify_store``.

One SQLite store is shared by the module (a frozen clock, a fresh officer, entry or deployment per
cell), so the whole matrix runs in a few seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from governance import clock
from governance.application import WatchlistApp
from governance.domain.deployment import Deployment, UseCase
from governance.domain.entry import Entry
from governance.domain.officer import Officer, officer_stream
from governance.domain.origin import Origin
from governance.domain.permissions import ACTION_OF_TOPIC, ALLOWED, Action
from governance.domain.policy import PolicyDocument, policy_stream
from governance.domain.vocabulary import (
    Category,
    Rank,
    RemovalReason,
    ReviewOutcome,
    Role,
    SourceStatus,
)
from governance.errors import IntegrityFailure, PermissionDenied
from governance.integrity import keys
from governance.integrity.envelope import GENESIS_PREV, EnvelopeCodec, state_hash
from governance.integrity.sealing import MasterKey
from governance.integrity.signing import Signer
from governance.services.reconstruction import reconstruct_deployment
from governance.services.store_audit import verify_store
from governance.storage.settings import StoreSettings
from tests.conftest import T0, World, found_world, proposal

SENIOR = Rank.ASSISTANT_COMMISSIONER
#: Actions that only read: the gate is ``authenticate`` (as the CLI calls it) and nothing is written.
READS = frozenset({Action.RECONSTRUCT_DEPLOYMENT, Action.READ_ACCESS_LOG})


@dataclass
class Bench:
    """The module's store: setup officers of every role, and a fresh-id counter."""

    world: World
    clock: clock.FrozenClock
    scheduler: Signer
    numbers: Iterator[int] = field(default_factory=itertools.count)

    @property
    def app(self) -> WatchlistApp:
        return self.world.app

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self.numbers):04d}"

    def enrol(self, roles: frozenset[Role], rank: Rank = SENIOR, prefix: str = "CELL") -> Signer:
        """Enrol a fresh officer (by the setup administrator) and return their signer."""
        signer = Signer(self.new_id(prefix), keys.generate())
        self.app.officers.enrol(
            self.world.admin,
            signer.officer_id,
            f"Officer {signer.officer_id}",
            rank,
            roles,
            signer.public_key,
        )
        return signer

    def proposed(self, **changes: Any) -> Entry:
        entry: Entry = self.world.proposed(**changes)
        return entry

    def active(self) -> Entry:
        entry: Entry = self.world.active()
        return entry

    def deployment(self) -> Deployment:
        """A deployment authorised by the setup authoriser (a superintendent), starting in an hour."""
        start = clock.now() + timedelta(hours=1)
        return self.app.deployments.authorise(
            self.world.authoriser,
            "Central station concourse",
            "People wanted on warrant are known to travel through it",
            "Locate people wanted on warrant for violent offences",
            UseCase.HOTSPOT,
            [Category.WANTED_ON_WARRANT],
            start,
            start + timedelta(hours=6),
        )


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    home = tmp_path_factory.mktemp("matrix") / "home"
    settings = StoreSettings(home)
    MasterKey.create(settings.master_key_path)
    with clock.frozen(T0) as handle:
        world = found_world(settings)
        scheduler = Signer("SCHED-0001", keys.generate())
        world.app.officers.enrol(
            world.admin,
            scheduler.officer_id,
            "Retention scheduler",
            Rank.CONSTABLE,
            frozenset({Role.SCHEDULER}),
            scheduler.public_key,
        )
        yield Bench(world, handle, scheduler)
        world.app.close()


# -- one attempt per governance call: set up, then return the call to make as the cell's officer ----

Attempt = Callable[[], object]
Setup = Callable[[Bench, Signer], Attempt]


def _enrol(b: Bench, s: Signer) -> Attempt:
    new_id, key = b.new_id("NEW"), keys.public_b64(keys.generate().public_key())
    return lambda: b.app.officers.enrol(
        s, new_id, "New Officer", Rank.CONSTABLE, frozenset({Role.CUSTODIAN}), key
    )


def _revoke(b: Bench, s: Signer) -> Attempt:
    target = b.enrol(frozenset({Role.CUSTODIAN}), Rank.CONSTABLE, "TARGET")
    return lambda: b.app.officers.revoke(s, target.officer_id, "Left the force")


def _change_rank(b: Bench, s: Signer) -> Attempt:
    target = b.enrol(frozenset({Role.CUSTODIAN}), Rank.CONSTABLE, "TARGET")
    return lambda: b.app.officers.change_rank(s, target.officer_id, Rank.SERGEANT, "Promoted")


def _change_roles(b: Bench, s: Signer) -> Attempt:
    target = b.enrol(frozenset({Role.CUSTODIAN}), Rank.CONSTABLE, "TARGET")
    return lambda: b.app.officers.change_roles(
        s, target.officer_id, frozenset({Role.REVIEWER}), "Moved to the review team"
    )


def _rotate_key(b: Bench, s: Signer) -> Attempt:
    target = b.enrol(frozenset({Role.CUSTODIAN}), Rank.CONSTABLE, "TARGET")
    key = keys.public_b64(keys.generate().public_key())
    return lambda: b.app.officers.rotate_key(s, target.officer_id, key, "Laptop lost")


def _propose(b: Bench, s: Signer) -> Attempt:
    return lambda: b.app.entries.propose(s, proposal())


def _authorise(b: Bench, s: Signer) -> Attempt:
    entry = b.proposed()
    return lambda: b.app.entries.authorise(s, entry.id, "Necessary and proportionate.")


def _verify_source(b: Bench, s: Signer) -> Attempt:
    entry = b.active()
    return lambda: b.app.entries.verify_source(s, entry.id, SourceStatus.LIVE, None, "PNC checked")


def _review(b: Bench, s: Signer) -> Attempt:
    entry = b.active()
    return lambda: b.app.entries.review(
        s, entry.id, ReviewOutcome.RETAIN, "Still wanted.", None, None
    )


def _remove(b: Bench, s: Signer) -> Attempt:
    entry = b.active()
    return lambda: b.app.entries.remove(s, entry.id, RemovalReason.CASE_CLOSED, None, "NFA")


def _reveal(b: Bench, s: Signer) -> Attempt:
    entry = b.proposed()
    return lambda: b.app.entries.reveal(s, entry.id, "Subject access request 42")


def _checked(b: Bench) -> Entry:
    """An active entry with a source check at version 3."""
    entry = b.active()
    b.app.entries.verify_source(b.world.custodian, entry.id, SourceStatus.LIVE, None, "PNC checked")
    return entry


def _correct(b: Bench, s: Signer) -> Attempt:
    entry = _checked(b)
    return lambda: b.app.entries.correct(
        s, entry.id, 3, None, {"status": "resolved"}, "The warrant had been withdrawn"
    )


def _retract(b: Bench, s: Signer) -> Attempt:
    entry = _checked(b)
    return lambda: b.app.entries.retract(s, entry.id, 3, "Recorded against the wrong entry")


def _confirm(b: Bench, s: Signer) -> Attempt:
    entry = b.active()
    late = b.app.entries.remove(
        b.world.custodian,
        entry.id,
        RemovalReason.CASE_CLOSED,
        clock.now() - timedelta(days=100),
        "NFA",
        backdate_reason="Case file found in archive",
        source_ref="CASE-2026-77",
    )
    assert late.state.pending == (3,)
    return lambda: b.app.entries.confirm(s, entry.id, 3, "Checked against the case file")


def _expire(b: Bench, s: Signer) -> Attempt:
    now = clock.now()
    entry = b.proposed(
        review_by=(now + timedelta(seconds=30)).isoformat(),
        expires_at=(now + timedelta(seconds=60)).isoformat(),
    )
    b.clock.advance(timedelta(minutes=2))  # the module clock only ever moves forward
    return lambda: b.app.retention.expire(s, entry.id, b.new_id("RUN"))


def _publish_policy(b: Bench, s: Signer) -> Attempt:
    # The built-in rules under another title: later cells are judged exactly as before.
    return lambda: b.app.policies.publish(s, PolicyDocument(title="Matrix test policy"), None)


def _authorise_deployment(b: Bench, s: Signer) -> Attempt:
    start = clock.now() + timedelta(hours=1)
    return lambda: b.app.deployments.authorise(
        s,
        "Central station concourse",
        "People wanted on warrant are known to travel through it",
        "Locate people wanted on warrant for violent offences",
        UseCase.HOTSPOT,
        [Category.WANTED_ON_WARRANT],
        start,
        start + timedelta(hours=6),
    )


def _compile(b: Bench, s: Signer) -> Attempt:
    deployment, entry = b.deployment(), b.active()
    return lambda: b.app.deployments.compile(s, deployment.id, [entry.id])


def _start(b: Bench, s: Signer) -> Attempt:
    deployment = b.deployment()
    b.app.deployments.compile(b.world.custodian, deployment.id, [])
    return lambda: b.app.deployments.start(s, deployment.id)


def _end(b: Bench, s: Signer) -> Attempt:
    deployment = b.deployment()
    b.app.deployments.compile(b.world.custodian, deployment.id, [])
    b.app.deployments.start(b.world.authoriser, deployment.id)
    return lambda: b.app.deployments.end(s, deployment.id)


def _reconstruct(b: Bench, s: Signer) -> Attempt:
    # Reconstruction only reads; the service checks the reader's standing, as the CLI calls it.
    deployment = b.deployment()
    b.app.deployments.compile(b.world.custodian, deployment.id, [])

    def attempt() -> object:
        return reconstruct_deployment(b.app, s, deployment.id)

    return attempt


def _disclose(b: Bench, s: Signer) -> Attempt:
    return lambda: b.app.disclosures.record(
        s, "Court order 2026/12", "Defence solicitor", "bundle of the whole record"
    )


def _read_access_log(b: Bench, s: Signer) -> Attempt:
    return lambda: b.app.disclosures.accesses(s)


def _open_retention(b: Bench, s: Signer) -> Attempt:
    # The step shared by the first hold and the first erasure of an entry, recorded on its own.
    entry = b.active()

    def attempt() -> object:
        record = b.app.retention._retention(s, entry.id)
        b.app.record(record, signer=s)
        return record

    return attempt


def _place_hold(b: Bench, s: Signer) -> Attempt:
    entry = b.active()
    return lambda: b.app.retention.place_hold(s, entry.id, "CASE-1", "Appeal pending")


def _release_hold(b: Bench, s: Signer) -> Attempt:
    entry = b.active()
    b.app.retention.place_hold(b.world.legal, entry.id, "CASE-1", "Appeal pending")
    return lambda: b.app.retention.release_hold(s, entry.id, "CASE-1", "Appeal concluded")


def _erase(b: Bench, s: Signer) -> Attempt:
    entry = b.active()
    b.app.entries.remove(b.world.custodian, entry.id, RemovalReason.ERASURE_UPHELD, None, "Upheld")
    return lambda: b.app.retention.erase(s, entry.id, "Erasure request upheld")


def _record_sweep(b: Bench, s: Signer) -> Attempt:
    return lambda: b.app.retention.record_sweep(
        s, b.new_id("RUN"), {"expired": 0, "erased": 0}, [], [], []
    )


CALLS: dict[Action, dict[str, Setup]] = {
    Action.ENROL_OFFICER: {"enrol": _enrol},
    Action.REVOKE_OFFICER: {"revoke": _revoke},
    Action.CHANGE_RANK: {"change_rank": _change_rank},
    Action.CHANGE_ROLES: {"change_roles": _change_roles},
    Action.ROTATE_KEY: {"rotate_key": _rotate_key},
    Action.PROPOSE_ENTRY: {"propose": _propose},
    Action.AUTHORISE_ENTRY: {"authorise": _authorise},
    Action.VERIFY_SOURCE: {"verify_source": _verify_source},
    Action.REVIEW_ENTRY: {"review": _review},
    Action.REMOVE_ENTRY: {"remove": _remove},
    Action.CONSULT_SUBJECT: {"reveal": _reveal},
    Action.CORRECT_ENTRY: {"correct": _correct, "retract": _retract},
    Action.CONFIRM_LATE_FACT: {"confirm": _confirm},
    Action.EXPIRE_ENTRY: {"expire": _expire},
    Action.PUBLISH_POLICY: {"publish_policy": _publish_policy},
    Action.AUTHORISE_DEPLOYMENT: {"authorise_deployment": _authorise_deployment},
    Action.COMPILE_DEPLOYMENT: {"compile_deployment": _compile},
    Action.RUN_DEPLOYMENT: {"start_deployment": _start, "end_deployment": _end},
    Action.RECONSTRUCT_DEPLOYMENT: {"reconstruct": _reconstruct},
    Action.EXPORT_RECORD: {"record_disclosure": _disclose},
    Action.READ_ACCESS_LOG: {"accesses": _read_access_log},
    Action.OPEN_RETENTION: {"_retention": _open_retention},
    Action.PLACE_HOLD: {"place_hold": _place_hold, "release_hold": _release_hold},
    Action.ERASE_SUBJECT: {"erase": _erase},
    Action.RECORD_SWEEP: {"record_sweep": _record_sweep},
}

CELLS = [
    pytest.param(action, call, role, id=f"{action.name}-{call}-{role.value}")
    for action, calls in CALLS.items()
    for call in calls
    for role in Role
]


def test_every_action_but_founding_has_a_call_in_the_matrix() -> None:
    """Founding has no acting officer yet; it has its own cells below."""
    assert set(CALLS) == set(Action) - {Action.FOUND_STORE}


def needed(action: Action) -> str:
    return " or ".join(sorted(r.value for r in ALLOWED[action]))


def new_events(app: WatchlistApp, after: int) -> list[tuple[str, str]]:
    """(actor, type) of every event stored after position ``after``."""
    return [
        (app.codec.decode(n.state, typed=False).actor, n.topic)
        for n in app.recorder.select_notifications(after + 1, 100)
    ]


@pytest.mark.parametrize(("action", "call", "role"), CELLS)
def test_the_cell(bench: Bench, action: Action, call: str, role: Role) -> None:
    signer = bench.enrol(frozenset({role}))
    attempt = CALLS[action][call](bench, signer)
    before = bench.app.position()

    if role in ALLOWED[action]:
        attempt()
        written = new_events(bench.app, before)
        if action in READS:
            assert written == []
        else:
            assert written, "an allowed write recorded nothing"
            assert {actor for actor, _ in written} == {signer.officer_id}
            actions = {ACTION_OF_TOPIC[topic] for _, topic in written}
            assert action in actions
            # Everything written is itself an action the role may take (what verification checks).
            assert all(role in ALLOWED[a] for a in actions), actions
    else:
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.message == (
            f"permission: officer {signer.officer_id} needs the {needed(action)} role to {action}"
        )
        assert bench.app.position() == before, "a refused call wrote something"


def test_everything_the_matrix_recorded_verifies(bench: Bench) -> None:
    """Each allowed write above was signed by an officer holding the role at its position."""
    report = verify_store(bench.app)
    assert report.ok, [f.describe() for f in report.failures]


# -- founding: no officer exists before it, so the founder's role is fixed by the founding itself --


def _founded(tmp_path: Path, roles: list[str]) -> tuple[WatchlistApp, Signer]:
    """A store founded with the founder self-enrolled holding ``roles``, written as ``found`` does
    but with the roles chosen (``found`` itself always makes the founder an administrator)."""
    settings = StoreSettings(tmp_path / "home")
    MasterKey.create(settings.master_key_path)
    app = WatchlistApp(settings)
    founder = Signer("FOUNDER-01", keys.generate())
    now = clock.now()
    origin = Origin(
        actor=founder.officer_id,
        effective_at=now,
        origin="test.example/watchlist",
        admin_officer_id=founder.officer_id,
        admin_public_key=founder.public_key,
        log_public_key=keys.public_b64(keys.generate().public_key()),
    )
    officer = Officer(
        actor=founder.officer_id,
        effective_at=now,
        officer_id=founder.officer_id,
        name="First Officer",
        rank=SENIOR.value,
        roles=roles,
        public_key=founder.public_key,
        key_id=founder.key_id,
    )
    app.record(origin, officer, signer=founder, origin="test.example/watchlist")
    return app, founder


def test_founding_through_the_write_path_always_makes_the_founder_an_administrator(
    tmp_path: Path, frozen: clock.FrozenClock
) -> None:
    settings = StoreSettings(tmp_path / "home")
    MasterKey.create(settings.master_key_path)
    app = WatchlistApp(settings)
    founder = Signer("FOUNDER-01", keys.generate())
    log_key = keys.public_b64(keys.generate().public_key())
    app.officers.found("test.example/watchlist", "First Officer", SENIOR, founder, log_key)
    assert app.officer(founder.officer_id).roles == ALLOWED[Action.FOUND_STORE] == {Role.ADMIN}
    assert verify_store(app).ok
    app.close()


@pytest.mark.parametrize(
    "role",
    [
        pytest.param(
            role,
            id=f"FOUND_STORE-found-{role.value}",
        )
        for role in Role
    ],
)
def test_a_founding_verifies_only_if_the_founder_holds_an_allowed_role(
    tmp_path: Path, frozen: clock.FrozenClock, role: Role
) -> None:
    app, _ = _founded(tmp_path, [role.value])
    report = verify_store(app)
    if role in ALLOWED[Action.FOUND_STORE]:
        assert report.ok, [f.describe() for f in report.failures]
    else:
        assert not report.ok
        assert any("did not hold a role allowed" in f.problem for f in report.failures), [
            f.describe() for f in report.failures
        ]
    app.close()


# -- verification applies the same table to stored events ------------------------------------------


def forge(app: WatchlistApp, stream: UUID, topic: str, signer: Signer, **payload: Any) -> int:
    """Append a well-formed, correctly chained event to ``stream`` signed by ``signer``, straight
    through the recorder (never through a command, so no permission check runs); its position."""
    records = app.store_recorder.select_records(stream)
    version = len(records) + 1
    prev = state_hash(records[-1].stored.state) if records else GENESIS_PREV
    now = clock.now()
    event = SimpleNamespace(
        originator_id=stream,
        originator_version=version,
        timestamp=now,
        actor=signer.officer_id,
        effective_at=now,
        **payload,
    )
    codec = EnvelopeCodec(app.mapper.transcoder)  # type: ignore[arg-type]
    state = codec.encode(event, topic, app.verifier.founding.origin, prev, signer)
    positions = app.recorder.insert_events([StoredEvent(stream, version, topic, state)])
    assert positions is not None
    (position,) = positions
    return position


def _review_payload(now: datetime) -> dict[str, Any]:
    return {
        "outcome": "retain",
        "rationale": "Forged review.",
        "review_by": now + timedelta(days=30),
        "expires_at": now + timedelta(days=180),
    }


FORGERIES: list[Any] = [
    pytest.param(
        "watchlist:Entry.Reviewed",
        "custodian",
        _review_payload,
        id="review-by-custodian",
    ),
    pytest.param(
        "watchlist:Entry.Removed",
        "reviewer",
        lambda now: {
            "reason": "case_closed",
            "note": None,
            "backdate_reason": None,
            "source_ref": None,
            "needs_confirmation": False,
        },
        id="remove-by-reviewer",
    ),
    pytest.param(
        "watchlist:Entry.Expired",
        "custodian",
        lambda now: {"run_id": "RUN-FORGED"},
        id="expire-by-custodian",
    ),
    pytest.param(
        "watchlist:Entry.Authorised",
        "legal",
        lambda now: {"rationale": "Forged.", "rank": "superintendent"},
        id="authorise-by-legal",
    ),
]


@pytest.mark.parametrize(("topic", "who", "payload"), FORGERIES)
def test_verification_refuses_an_entry_event_signed_without_the_role(
    sqlite_world: World, topic: str, who: str, payload: Callable[[datetime], dict[str, Any]]
) -> None:
    world = sqlite_world
    signer: Signer = getattr(world, who)
    entry = world.active()
    position = forge(world.app, entry.id, topic, signer, **payload(clock.now()))
    action = ACTION_OF_TOPIC[topic]
    assert not world.app.officer(signer.officer_id).roles & ALLOWED[action]

    report = verify_store(world.reopen())
    # A forged authorisation also claims a rank the signer's registry record does not hold.
    rank_rules = ("rank_claim_mismatch", "authoriser_rank_too_low")
    assert [f.describe() for f in report.failures if not f.problem.startswith(rank_rules)] == [
        f"integrity failure at stream {entry.id} version 3 position {position}: "
        f"officer {signer.officer_id} did not hold a role allowed to {action} at this position"
    ]
    with pytest.raises(IntegrityFailure, match="did not hold a role allowed"):
        world.reopen().entries.get(entry.id)


def test_verification_refuses_records_of_their_own_stream_signed_without_the_role(
    sqlite_world: World,
) -> None:
    """A policy version and an officer enrolment, each the first event of a new stream."""
    world = sqlite_world
    policy = forge(
        world.app,
        policy_stream(1),
        "watchlist:PolicyVersion.Published",
        world.custodian,
        originator_topic="watchlist:PolicyVersion",
        version=1,
        document=PolicyDocument(title="Forged").as_record(),
    )
    rogue = Signer("ROGUE-01", keys.generate())
    enrolment = forge(
        world.app,
        officer_stream(rogue.officer_id),
        "watchlist:Officer.Enrolled",
        world.legal,
        originator_topic="watchlist:Officer",
        officer_id=rogue.officer_id,
        name="Rogue",
        rank="commander",
        roles=["admin"],
        public_key=rogue.public_key,
        key_id=rogue.key_id,
    )
    report = verify_store(world.reopen())
    custodian, legal = world.custodian.officer_id, world.legal.officer_id
    assert [(f.position, f.problem) for f in report.failures] == [
        (
            policy,
            f"officer {custodian} did not hold a role allowed to publish a policy version "
            "at this position",
        ),
        (
            enrolment,
            f"officer {legal} did not hold a role allowed to enrol an officer at this position",
        ),
    ]


def test_verification_judges_the_role_held_at_the_events_position(
    sqlite_world: World, frozen: clock.FrozenClock
) -> None:
    """A genuine review stays valid after the reviewer loses the role; a forged one after that is
    invalid; and granting the role later does not make an earlier forged event valid."""
    world = sqlite_world
    entry = world.active()
    world.app.entries.review(
        world.reviewer, entry.id, ReviewOutcome.RETAIN, "Still wanted.", None, None
    )
    reviewer = world.reviewer.officer_id
    world.app.officers.change_roles(
        world.admin, reviewer, frozenset({Role.CUSTODIAN}), "Moved post"
    )
    frozen.advance(timedelta(minutes=1))
    late = forge(
        world.app, entry.id, "watchlist:Entry.Reviewed", world.reviewer, **_review_payload(T0)
    )
    early = forge(
        world.app, entry.id, "watchlist:Entry.Reviewed", world.custodian, **_review_payload(T0)
    )
    world.app.officers.change_roles(
        world.admin,
        world.custodian.officer_id,
        frozenset({Role.CUSTODIAN, Role.REVIEWER}),
        "Now reviews too",
    )
    report = verify_store(world.reopen())
    assert [(f.version, f.position, f.problem) for f in report.failures] == [
        (
            4,
            late,
            f"officer {reviewer} did not hold a role allowed to review an entry at this position",
        ),
        (
            5,
            early,
            f"officer {world.custodian.officer_id} did not hold a role allowed to review an entry "
            "at this position",
        ),
    ]
