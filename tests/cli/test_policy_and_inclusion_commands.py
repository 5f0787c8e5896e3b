"""``watchlist policy ...`` and ``watchlist inclusion``, through the CLI with ``--json``.

Policy: the built-in version 0, publishing TOML and JSON documents, the version in force at an
instant, and every refusal (exit code, the field or rule named on stderr, empty stdout, no traceback,
nothing written). Inclusion: the point-in-time answer for one entry at T, as known now, at an instant
or at a deployment's compile basis. Times are relative to the frozen clock of the ``cli`` fixture
(T0 = 2026-11-26T09:00:00Z); a later instant is simulated by nesting ``clock.frozen(...)``.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from governance import clock
from tests.cli.conftest import Cli
from tests.conftest import T0

REFUSED, INVALID = 1, 2
HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)

#: The officers of the ``store`` fixture that these tests use; each test enrols only those it needs.
OFFICERS = {
    "PC-1001": ("constable", ["custodian"]),
    "SUPT-2001": ("superintendent", ["authoriser", "custodian"]),
}
ALL_CATEGORIES = [
    "wanted_on_warrant",
    "suspect",
    "unlawfully_at_large",
    "court_order_breach",
    "missing_person",
    "vulnerable_at_risk",
    "risk_to_self_or_others",
]


def at(delta: timedelta) -> str:
    """An instant relative to the frozen clock, with an explicit offset."""
    return (T0 + delta).isoformat()


def stamp(delta: timedelta) -> str:
    """How the CLI prints that instant: RFC 3339 UTC with microseconds."""
    return (T0 + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def refused(
    cli: Cli, *args: str, code: int, says: Sequence[str], officer: str | None = None
) -> Result:
    """Run ``watchlist ARGS --json`` and assert a clean refusal that wrote nothing."""
    before = cli.snapshot()
    result = cli.run(*args, "--json", officer=officer)
    report = f"exit {result.exit_code}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.exit_code == code, report
    assert result.stdout == "", report
    assert "Traceback" not in result.stdout + result.stderr, report
    for text in says:
        assert text in result.stderr, report
    assert cli.snapshot() == before, "the refused command wrote to the store"
    return result


def enrol(cli: Cli, *officer_ids: str) -> None:
    """Enrol officers as the ``store`` fixture does (same ids, ranks and roles)."""
    for officer_id in officer_ids:
        rank, roles = OFFICERS[officer_id]
        cli.ok(
            "officer",
            "enrol",
            officer_id,
            "--name",
            f"Officer {officer_id}",
            "--rank",
            rank,
            *[arg for role in roles for arg in ("--role", role)],
            officer="ADMIN-01",
        )


@pytest.fixture
def founded(cli: Cli) -> Cli:
    """A store with only its administrator, ADMIN-01."""
    cli.ok(
        "init", "--origin", "test.example/watchlist", "--admin", "ADMIN-01", "--name", "Alex Admin"
    )
    return cli


@pytest.fixture(scope="module")
def staffed_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding a store with ADMIN-01, PC-1001 and SUPT-2001, enrolled through the CLI at T0.

    Built once per module and copied into each test's own home, since enrolment (key generation
    and encryption) dominates the cost of a test.
    """
    template = Cli(tmp_path_factory.mktemp("staffed") / "home")
    with clock.frozen(T0):
        template.ok(
            "init", "--origin", "test.example/watchlist", "--admin", "ADMIN-01", "--name", "Alex"
        )
        enrol(template, "PC-1001", "SUPT-2001")
    return template.home


@pytest.fixture
def staffed(cli: Cli, staffed_home: Path) -> Cli:
    """This test's own copy of the store with its admin, a custodian and a superintendent authoriser."""
    shutil.copytree(staffed_home, cli.home)
    return cli


def policy_file(cli: Cli, name: str, text: str) -> str:
    """Write a policy document next to the home and return its path."""
    path = cli.home.parent / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def active_entry(cli: Cli, *, verified: bool = True, **changes: Any) -> str:
    """An entry proposed by PC-1001, authorised by SUPT-2001 and (by default) checked live now."""
    path = cli.write_entry(**changes)
    entry_id: str = cli.ok("entry", "propose", "--file", str(path), officer="PC-1001")["entry_id"]
    cli.ok("entry", "authorise", entry_id, "--rationale", "Proportionate.", officer="SUPT-2001")
    if verified:
        cli.ok("entry", "verify-source", entry_id, "--status", "live", officer="PC-1001")
    return entry_id


def inclusion(cli: Cli, entry_id: str, when: str, *options: str) -> dict[str, Any]:
    """``watchlist inclusion ENTRY_ID --at WHEN [OPTIONS] --json``."""
    answer: dict[str, Any] = cli.ok("inclusion", entry_id, "--at", when, *options)
    return answer


TOML_POLICY = """\
title = "Operation Example policy"
source_freshness_hours = 12
permitted_categories = ["wanted_on_warrant", "missing_person"]
"""


class TestPolicyShow:
    def test_shows_version_0_with_the_built_in_defaults_before_any_publication(
        self, founded: Cli
    ) -> None:
        shown = founded.ok("policy", "show")
        assert shown["version"] == 0
        assert shown["effective_at"] is None
        assert shown["title"] == "Built-in defaults"
        assert shown["permitted_categories"] == ALL_CATEGORIES
        assert shown["source_freshness_hours"] == 24
        assert shown["min_authoriser_rank"] == "superintendent"
        assert shown["max_review_days"]["wanted_on_warrant"] == 90
        assert shown["max_review_days"]["missing_person"] == 7
        assert shown["max_future_skew_minutes"] == 5
        assert shown["free_backdating_hours"] == 24

    def test_shows_the_version_in_force_before_and_from_its_effective_time(
        self, founded: Cli
    ) -> None:
        path = policy_file(founded, "policy.toml", TOML_POLICY)
        founded.ok("policy", "publish", path, "--effective-at", at(24 * HOUR), officer="ADMIN-01")

        before = founded.ok("policy", "show", "--at", stamp(24 * HOUR - MICROSECOND))
        from_then = founded.ok("policy", "show", "--at", at(24 * HOUR))
        later = founded.ok("policy", "show", "--at", at(48 * HOUR))

        assert (before["version"], before["source_freshness_hours"]) == (0, 24)
        assert from_then["version"] == later["version"] == 1
        assert from_then["effective_at"] == stamp(24 * HOUR)
        assert from_then["title"] == "Operation Example policy"
        assert from_then["source_freshness_hours"] == 12
        assert from_then["permitted_categories"] == ["wanted_on_warrant", "missing_person"]

    def test_shows_the_version_in_force_now_without_at(self, founded: Cli) -> None:
        path = policy_file(founded, "policy.toml", TOML_POLICY)
        founded.ok("policy", "publish", path, "--effective-at", at(HOUR), officer="ADMIN-01")
        assert founded.ok("policy", "show")["version"] == 0
        with clock.frozen(T0 + HOUR):
            assert founded.ok("policy", "show")["version"] == 1

    def test_refuses_an_at_without_an_offset(self, founded: Cli) -> None:
        refused(
            founded, "policy", "show", "--at", "2026-11-27T09:00:00", code=INVALID, says=["at:"]
        )


class TestPolicyPublish:
    def test_publishes_a_toml_file_and_returns_its_version_and_effective_time(
        self, founded: Cli
    ) -> None:
        path = policy_file(founded, "policy.toml", TOML_POLICY)
        published = founded.ok(
            "policy", "publish", path, "--effective-at", at(2 * HOUR), officer="ADMIN-01"
        )
        assert published == {"version": 1, "effective_at": stamp(2 * HOUR)}

    def test_publishes_a_json_file_in_force_from_now_by_default(self, founded: Cli) -> None:
        path = policy_file(
            founded,
            "policy.json",
            json.dumps(
                {"title": "Chief inspectors authorise", "min_authoriser_rank": "chief_inspector"}
            ),
        )
        published = founded.ok("policy", "publish", path, officer="ADMIN-01")
        assert published == {"version": 1, "effective_at": stamp(timedelta(0))}
        shown = founded.ok("policy", "show")
        assert (shown["version"], shown["min_authoriser_rank"]) == (1, "chief_inspector")

    def test_numbers_each_publication_with_the_next_version(self, founded: Cli) -> None:
        first = policy_file(founded, "first.toml", TOML_POLICY)
        second = policy_file(founded, "second.json", json.dumps({"title": "Second"}))
        assert founded.ok("policy", "publish", first, officer="ADMIN-01")["version"] == 1
        assert founded.ok("policy", "publish", second, officer="ADMIN-01")["version"] == 2
        assert founded.ok("policy", "show")["title"] == "Second"


class TestPolicyPublishRefusals:
    def test_refuses_an_officer_who_is_not_an_admin(self, founded: Cli) -> None:
        enrol(founded, "PC-1001")
        path = policy_file(founded, "policy.toml", TOML_POLICY)
        refused(
            founded,
            "policy",
            "publish",
            path,
            code=REFUSED,
            says=["permission", "admin"],
            officer="PC-1001",
        )

    def test_refuses_a_file_that_is_not_valid_toml(self, founded: Cli) -> None:
        path = policy_file(founded, "policy.toml", 'title = "unterminated\n')
        refused(
            founded,
            "policy",
            "publish",
            path,
            code=INVALID,
            says=["file:", "not valid TOML"],
            officer="ADMIN-01",
        )

    def test_refuses_an_unknown_field(self, founded: Cli) -> None:
        path = policy_file(founded, "policy.toml", TOML_POLICY + 'colour = "blue"\n')
        refused(
            founded,
            "policy",
            "publish",
            path,
            code=INVALID,
            says=["colour:", "unknown field"],
            officer="ADMIN-01",
        )

    def test_does_not_call_a_policy_file_an_entry_file_when_refusing_an_unknown_field(
        self, founded: Cli
    ) -> None:
        path = policy_file(founded, "policy.toml", 'colour = "blue"\n')
        result = refused(
            founded, "policy", "publish", path, code=INVALID, says=["colour:"], officer="ADMIN-01"
        )
        assert "ENTRY.json" not in result.stderr

    def test_refuses_a_category_outside_the_closed_list(self, founded: Cli) -> None:
        path = policy_file(
            founded, "policy.toml", 'permitted_categories = ["wanted_on_warrant", "intelligence"]\n'
        )
        refused(
            founded,
            "policy",
            "publish",
            path,
            code=INVALID,
            says=["permitted_categories"],
            officer="ADMIN-01",
        )

    def test_refuses_an_effective_at_in_the_past(self, founded: Cli) -> None:
        path = policy_file(founded, "policy.toml", TOML_POLICY)
        refused(
            founded,
            "policy",
            "publish",
            path,
            "--effective-at",
            at(-HOUR),
            code=INVALID,
            says=["effective-at:", "past"],
            officer="ADMIN-01",
        )

    def test_refuses_an_effective_at_in_the_past_given_inside_the_file(self, founded: Cli) -> None:
        path = policy_file(
            founded, "policy.json", json.dumps({"title": "Late", "effective_at": at(-HOUR)})
        )
        refused(
            founded,
            "policy",
            "publish",
            path,
            code=INVALID,
            says=["effective-at:", "past"],
            officer="ADMIN-01",
        )

    def test_refuses_an_effective_at_without_an_offset(self, founded: Cli) -> None:
        path = policy_file(founded, "policy.toml", TOML_POLICY)
        refused(
            founded,
            "policy",
            "publish",
            path,
            "--effective-at",
            "2026-11-27T09:00:00",
            code=INVALID,
            says=["effective-at:", "offset"],
            officer="ADMIN-01",
        )


EVIDENCE_KEYS = {"stream", "version", "position", "actor"}


class TestInclusionAnswer:
    def test_answers_with_every_contract_field_and_the_evidence_it_rests_on(
        self, staffed: Cli
    ) -> None:
        entry_id = active_entry(staffed)
        answer = inclusion(staffed, entry_id, at(HOUR))
        assert set(answer) >= {
            "entry_id",
            "at",
            "known_at",
            "basis",
            "listed",
            "current",
            "justified",
            "reasons",
            "evidence",
        }
        assert answer["entry_id"] == entry_id
        assert answer["at"] == stamp(HOUR)
        assert answer["known_at"] == "now"
        assert isinstance(answer["basis"], int)
        assert answer["basis"] > 0
        assert (answer["listed"], answer["current"], answer["justified"]) == (True, True, True)
        assert answer["reasons"] == []
        assert answer["evidence"]
        for item in answer["evidence"]:
            assert set(item) >= EVIDENCE_KEYS, item
            assert item["stream"] == entry_id
            assert item["actor"] in {"PC-1001", "SUPT-2001"}
            assert 0 < item["position"] <= answer["basis"]
        assert {item["actor"] for item in answer["evidence"]} == {"PC-1001", "SUPT-2001"}

    def test_says_not_proposed_at_an_instant_before_the_proposal(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed)
        answer = inclusion(staffed, entry_id, at(-timedelta(days=1)))
        assert (answer["listed"], answer["current"], answer["justified"]) == (False, False, False)
        assert answer["reasons"] == ["not_proposed"]

    def test_gives_identical_answers_for_one_instant_written_with_z_utc_and_plus_0530(
        self, staffed: Cli
    ) -> None:
        entry_id = removed_just_after_noon(staffed)
        with clock.frozen(T0 + 4 * HOUR):
            answers = [inclusion(staffed, entry_id, when) for when in NOON_THREE_WAYS]
        assert answers[0] == answers[1] == answers[2]
        assert answers[0]["at"] == "2026-11-26T12:00:00.000000Z"
        assert (answers[0]["listed"], answers[0]["justified"]) == (True, True)

    def test_gives_identical_answers_for_one_known_at_instant_written_three_ways(
        self, staffed: Cli
    ) -> None:
        entry_id = removed_just_after_noon(staffed)
        with clock.frozen(T0 + 4 * HOUR):
            now = inclusion(staffed, entry_id, at(HOUR))
            answers = [
                inclusion(staffed, entry_id, at(HOUR), "--known-at", when)
                for when in NOON_THREE_WAYS
            ]
        assert [a["known_at"] for a in answers] == list(NOON_THREE_WAYS)
        same = [{k: v for k, v in a.items() if k != "known_at"} for a in answers]
        assert same[0] == same[1] == same[2]
        assert answers[0]["basis"] < now["basis"]


NOON_THREE_WAYS = ("2026-11-26T12:00:00Z", "2026-11-26T12:00:00+00:00", "2026-11-26T17:30:00+05:30")


def removed_just_after_noon(cli: Cli) -> str:
    """An entry active from T0, removed at 13:00Z with effect from one microsecond after 12:00Z.

    So noon, however written, finds it listed and knows nothing of the removal; a parser that read
    ``17:30:00+05:30`` as 17:30 UTC would see the removal both ways.
    """
    entry_id = active_entry(cli)
    with clock.frozen(T0 + 4 * HOUR):
        cli.ok(
            "entry",
            "remove",
            entry_id,
            "--reason",
            "arrested_or_located",
            "--effective-at",
            "2026-11-26T12:00:00.000001Z",
            officer="PC-1001",
        )
    return entry_id


class TestInclusionRemovalBoundary:
    def test_a_removal_effective_exactly_at_t_unlists_the_entry_at_t_but_not_a_microsecond_before(
        self, staffed: Cli
    ) -> None:
        entry_id = active_entry(staffed)
        with clock.frozen(T0 + 2 * HOUR):
            staffed.ok(
                "entry",
                "remove",
                entry_id,
                "--reason",
                "arrested_or_located",
                "--effective-at",
                "2026-11-26T10:00:00Z",
                officer="PC-1001",
            )
            at_t = inclusion(staffed, entry_id, "2026-11-26T10:00:00Z")
            just_before = inclusion(staffed, entry_id, "2026-11-26T09:59:59.999999Z")
        assert at_t["listed"] is False
        assert at_t["justified"] is False
        assert "removed" in at_t["reasons"]
        assert just_before["listed"] is True
        assert just_before["justified"] is True
        assert just_before["reasons"] == []


class TestInclusionKnownAt:
    def test_answers_as_known_at_an_instant_before_a_later_record(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed)
        with clock.frozen(T0 + 2 * HOUR):
            staffed.ok(
                "entry",
                "remove",
                entry_id,
                "--reason",
                "arrested_or_located",
                "--effective-at",
                at(HOUR),
                officer="PC-1001",
            )
            then = inclusion(
                staffed, entry_id, at(90 * timedelta(minutes=1)), "--known-at", at(HOUR)
            )
            now = inclusion(staffed, entry_id, at(90 * timedelta(minutes=1)))
        assert then["known_at"] == at(HOUR)
        assert then["basis"] < now["basis"]
        assert (then["listed"], then["justified"], then["reasons"]) == (True, True, [])
        assert (now["listed"], now["justified"]) == (False, False)
        assert "removed" in now["reasons"]

    def test_answers_as_known_at_a_deployments_compile_basis(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed)
        deployment_id = staffed.ok(
            "deployment",
            "authorise",
            "--location",
            "Market Square",
            "--location-reason",
            "Wanted persons seen here weekly",
            "--objective",
            "Locate persons wanted on warrant",
            "--use-case",
            "intelligence_led",
            "--category",
            "wanted_on_warrant",
            "--start",
            at(HOUR),
            "--end",
            at(9 * HOUR),
            officer="SUPT-2001",
        )["deployment_id"]
        compiled = staffed.ok("deployment", "compile", deployment_id, officer="PC-1001")
        staffed.ok(
            "entry", "remove", entry_id, "--reason", "arrested_or_located", officer="PC-1001"
        )

        then = inclusion(staffed, entry_id, at(HOUR), "--known-at", f"deployment:{deployment_id}")
        now = inclusion(staffed, entry_id, at(HOUR))

        assert then["known_at"] == f"deployment:{deployment_id}"
        assert then["basis"] == compiled["basis"]
        assert (then["listed"], then["justified"], then["reasons"]) == (True, True, [])
        assert now["basis"] > compiled["basis"]
        assert (now["listed"], now["justified"]) == (False, False)
        assert "removed" in now["reasons"]


class TestInclusionRefusals:
    def test_refuses_an_at_without_an_offset(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed, verified=False)
        refused(
            staffed,
            "inclusion",
            entry_id,
            "--at",
            "2026-11-26T10:00:00",
            code=INVALID,
            says=["at:", "offset"],
        )

    def test_refuses_a_local_time_that_does_not_exist(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed, verified=False)
        refused(
            staffed,
            "inclusion",
            entry_id,
            "--at",
            "2026-03-29T01:30:00[Europe/London]",
            code=INVALID,
            says=["at:", "does not exist"],
        )

    def test_refuses_a_known_at_without_an_offset(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed, verified=False)
        refused(
            staffed,
            "inclusion",
            entry_id,
            "--at",
            at(HOUR),
            "--known-at",
            "2026-11-26T10:00:00",
            code=INVALID,
            says=["known-at:"],
        )

    def test_refuses_an_entry_that_does_not_exist(self, staffed: Cli) -> None:
        missing = str(uuid.uuid4())
        refused(
            staffed, "inclusion", missing, "--at", at(HOUR), code=REFUSED, says=["entry:", missing]
        )

    def test_refuses_a_malformed_entry_id(self, staffed: Cli) -> None:
        refused(
            staffed, "inclusion", "not-an-id", "--at", at(HOUR), code=INVALID, says=["entry_id:"]
        )

    def test_refuses_a_known_at_naming_a_deployment_that_does_not_exist(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed, verified=False)
        missing = str(uuid.uuid4())
        refused(
            staffed,
            "inclusion",
            entry_id,
            "--at",
            at(HOUR),
            "--known-at",
            f"deployment:{missing}",
            code=REFUSED,
            says=["deployment:", missing],
        )
