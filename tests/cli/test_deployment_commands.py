"""``watchlist deployment ...``: authorise, compile through the gate, start, end, show, reconstruct.

Every command goes through the CLI with ``--json`` (reconstruct: ``--format``). Each refusal is checked
for its exit code (1 refused, 2 invalid input or usage), a stderr line naming the field or rule, an
empty stdout, no traceback, and a store left exactly as it was. Times are relative to the frozen
clock of the ``cli`` fixture (T0 = 2026-11-26T09:00:00Z); a later instant is simulated by nesting
``clock.frozen(...)``. The standard deployment is planned from T0+1h to T0+9h and compiled at T0.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from typer.testing import Result

from governance import clock
from tests.cli.conftest import Cli
from tests.conftest import T0

REFUSED, INVALID = 1, 2
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

#: The officers of the ``store`` fixture that these tests use; each test enrols only those it needs.
OFFICERS = {
    "PC-1001": ("constable", ["custodian"]),
    "SUPT-2001": ("superintendent", ["authoriser", "custodian"]),
    "INSP-4001": ("inspector", ["authoriser"]),
    "LEGAL-5001": ("constable", ["legal"]),
}


def at(delta: timedelta) -> str:
    """An instant relative to the frozen clock, with an explicit offset."""
    return (T0 + delta).isoformat()


def stamp(delta: timedelta) -> str:
    """How the CLI prints that instant: RFC 3339 UTC with microseconds."""
    return (T0 + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def refused(
    cli: Cli,
    *args: str,
    code: int,
    says: Sequence[str],
    officer: str | None = None,
    json_flag: bool = True,
) -> Result:
    """Run ``watchlist ARGS [--json]`` and assert a clean refusal that wrote nothing."""
    before = cli.snapshot()
    result = cli.run(*args, *(["--json"] if json_flag else []), officer=officer)
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


def proposed_entry(cli: Cli, **changes: Any) -> str:
    """An entry proposed by PC-1001."""
    path = cli.write_entry(**changes)
    entry_id: str = cli.ok("entry", "propose", "--file", str(path), officer="PC-1001")["entry_id"]
    return entry_id


def active_entry(cli: Cli, *, source: str | None = "live", **changes: Any) -> str:
    """An entry authorised by SUPT-2001, with a source check of ``source`` now (None: no check)."""
    entry_id = proposed_entry(cli, **changes)
    cli.ok("entry", "authorise", entry_id, "--rationale", "Proportionate.", officer="SUPT-2001")
    if source is not None:
        cli.ok("entry", "verify-source", entry_id, "--status", source, officer="PC-1001")
    return entry_id


def plan(
    *,
    start: timedelta | str = HOUR,
    end: timedelta | str = 9 * HOUR,
    categories: Sequence[str] = ("wanted_on_warrant",),
    location: str = "Market Square, Example Town",
    location_reason: str = "Persons wanted on warrant repeatedly seen here",
    use_case: str = "intelligence_led",
) -> list[str]:
    """The arguments of ``deployment authorise``."""
    return [
        "deployment",
        "authorise",
        "--location",
        location,
        "--location-reason",
        location_reason,
        "--objective",
        "Locate persons wanted on warrant for violent offences",
        "--use-case",
        use_case,
        *[arg for category in categories for arg in ("--category", category)],
        "--start",
        start if isinstance(start, str) else at(start),
        "--end",
        end if isinstance(end, str) else at(end),
    ]


def authorised(cli: Cli, **changes: Any) -> str:
    """A deployment authorised by SUPT-2001 (see ``plan``); returns its id."""
    deployment_id: str = cli.ok(*plan(**changes), officer="SUPT-2001")["deployment_id"]
    return deployment_id


def compiled(cli: Cli, deployment_id: str) -> dict[str, Any]:
    """Compile the deployment's watchlist as PC-1001."""
    result: dict[str, Any] = cli.ok("deployment", "compile", deployment_id, officer="PC-1001")
    return result


def exclusion_reasons(result: dict[str, Any], entry_id: str) -> list[str]:
    """The reasons the gate gave for leaving ``entry_id`` off, asserting it was left off."""
    assert entry_id not in result["included"]
    found = [x["reasons"] for x in result["excluded"] if x["entry_id"] == entry_id]
    assert len(found) == 1, result["excluded"]
    reasons: list[str] = found[0]
    return reasons


class TestAuthorise:
    def test_an_authoriser_of_sufficient_rank_authorises_and_gets_a_deployment_id(
        self, staffed: Cli
    ) -> None:
        result = staffed.ok(*plan(categories=("wanted_on_warrant", "suspect")), officer="SUPT-2001")
        assert set(result) == {"deployment_id"}
        deployment_id = str(uuid.UUID(result["deployment_id"]))
        shown = staffed.ok("deployment", "show", deployment_id)
        assert shown["deployment_id"] == deployment_id
        assert shown["status"] == "authorised"
        assert shown["authorised_by"] == "SUPT-2001"
        assert shown["categories"] == ["suspect", "wanted_on_warrant"]
        assert (shown["planned_start"], shown["planned_end"]) == (stamp(HOUR), stamp(9 * HOUR))


class TestAuthoriseRefusals:
    def test_refuses_an_officer_without_the_authoriser_role(self, staffed: Cli) -> None:
        refused(
            staffed,
            *plan(),
            code=REFUSED,
            says=["permission", "authoriser"],
            officer="PC-1001",
        )

    def test_refuses_an_authoriser_below_the_minimum_rank(self, staffed: Cli) -> None:
        enrol(staffed, "INSP-4001")
        refused(
            staffed,
            *plan(),
            code=REFUSED,
            says=["authoriser_rank_too_low", "inspector", "superintendent"],
            officer="INSP-4001",
        )

    def test_refuses_an_end_before_the_start(self, staffed: Cli) -> None:
        refused(
            staffed,
            *plan(start=5 * HOUR, end=2 * HOUR),
            code=INVALID,
            says=["end:", "after start"],
            officer="SUPT-2001",
        )

    def test_refuses_a_window_that_is_already_over(self, staffed: Cli) -> None:
        refused(
            staffed,
            *plan(start=-5 * HOUR, end=-HOUR),
            code=INVALID,
            says=["end:", "already over"],
            officer="SUPT-2001",
        )

    def test_refuses_a_start_without_an_offset(self, staffed: Cli) -> None:
        refused(
            staffed,
            *plan(start="2026-11-26T10:00:00"),
            code=INVALID,
            says=["start:", "offset"],
            officer="SUPT-2001",
        )

    def test_refuses_a_blank_location_reason(self, staffed: Cli) -> None:
        refused(
            staffed,
            *plan(location_reason="   "),
            code=INVALID,
            says=["location-reason:", "required"],
            officer="SUPT-2001",
        )

    def test_refuses_a_use_case_outside_the_closed_list(self, staffed: Cli) -> None:
        result = refused(
            staffed,
            *plan(use_case="general_surveillance"),
            code=INVALID,
            says=["Usage:", "Invalid value for '--use-case'"],
            officer="SUPT-2001",
        )
        assert "error:" not in result.stderr

    def test_refuses_a_category_the_published_policy_does_not_permit(self, staffed: Cli) -> None:
        policy = staffed.home.parent / "policy.toml"
        policy.write_text('permitted_categories = ["wanted_on_warrant"]\n', encoding="utf-8")
        staffed.ok("policy", "publish", str(policy), officer="ADMIN-01")
        refused(
            staffed,
            *plan(categories=("wanted_on_warrant", "missing_person")),
            code=INVALID,
            says=["category:", "missing_person", "not permitted"],
            officer="SUPT-2001",
        )


class TestCompile:
    def test_includes_an_active_entry_with_a_fresh_live_source_check(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed)
        deployment_id = authorised(staffed)
        result = compiled(staffed, deployment_id)
        assert set(result) >= {
            "deployment_id",
            "basis",
            "manifest_sha256",
            "included",
            "excluded",
        }
        assert result["deployment_id"] == deployment_id
        assert isinstance(result["basis"], int)
        assert result["basis"] > 0
        assert re.fullmatch(r"[0-9a-f]{64}", result["manifest_sha256"])
        assert result["included"] == [entry_id]
        assert result["excluded"] == []

    def test_excludes_a_proposed_entry_as_not_authorised(self, staffed: Cli) -> None:
        entry_id = proposed_entry(staffed)
        result = compiled(staffed, authorised(staffed))
        assert "not_authorised" in exclusion_reasons(result, entry_id)

    def test_excludes_an_active_entry_whose_source_was_never_checked(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed, source=None)
        result = compiled(staffed, authorised(staffed))
        assert exclusion_reasons(result, entry_id) == ["source_not_verified_recently"]

    def test_excludes_an_entry_whose_source_is_resolved(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed, source="resolved")
        result = compiled(staffed, authorised(staffed))
        assert exclusion_reasons(result, entry_id) == ["source_resolved"]

    def test_excludes_an_entry_in_a_category_the_deployment_does_not_seek(
        self, staffed: Cli
    ) -> None:
        entry_id = active_entry(staffed, category="unlawfully_at_large")
        result = compiled(staffed, authorised(staffed, categories=("wanted_on_warrant",)))
        assert exclusion_reasons(result, entry_id) == ["category_not_permitted"]

    def test_excludes_an_entry_whose_review_falls_due_before_the_planned_start(
        self, staffed: Cli
    ) -> None:
        entry_id = active_entry(staffed, review_by=at(30 * timedelta(minutes=1)))
        result = compiled(staffed, authorised(staffed, start=HOUR))
        assert exclusion_reasons(result, entry_id) == ["review_overdue"]

    def test_excludes_an_entry_removed_recently(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed)
        staffed.ok(
            "entry", "remove", entry_id, "--reason", "arrested_or_located", officer="PC-1001"
        )
        result = compiled(staffed, authorised(staffed))
        assert "removed" in exclusion_reasons(result, entry_id)

    def test_includes_only_the_justified_entry_among_several(self, staffed: Cli) -> None:
        justified = active_entry(staffed)
        unchecked = active_entry(staffed, source=None)
        proposed = proposed_entry(staffed)
        result = compiled(staffed, authorised(staffed))
        assert result["included"] == [justified]
        assert {x["entry_id"] for x in result["excluded"]} == {unchecked, proposed}
        for excluded in result["excluded"]:
            assert set(excluded) >= {"entry_id", "reasons"}
            assert excluded["reasons"]


class TestCompileRefusals:
    def test_refuses_an_officer_without_the_custodian_role(self, staffed: Cli) -> None:
        deployment_id = authorised(staffed)
        refused(
            staffed,
            "deployment",
            "compile",
            deployment_id,
            code=REFUSED,
            says=["permission", "custodian"],
            officer="ADMIN-01",
        )

    def test_refuses_a_deployment_that_has_started(self, staffed: Cli) -> None:
        active_entry(staffed)
        deployment_id = authorised(staffed)
        compiled(staffed, deployment_id)
        with clock.frozen(T0 + HOUR):
            staffed.ok("deployment", "start", deployment_id, officer="SUPT-2001")
            refused(
                staffed,
                "deployment",
                "compile",
                deployment_id,
                code=REFUSED,
                says=["status:", "started"],
                officer="PC-1001",
            )

    def test_refuses_a_deployment_whose_planned_window_has_passed(self, staffed: Cli) -> None:
        deployment_id = authorised(staffed, start=HOUR, end=3 * HOUR)
        with clock.frozen(T0 + 4 * HOUR):
            refused(
                staffed,
                "deployment",
                "compile",
                deployment_id,
                code=REFUSED,
                says=["planned_end:"],
                officer="PC-1001",
            )

    def test_refuses_a_deployment_that_does_not_exist(self, staffed: Cli) -> None:
        missing = str(uuid.uuid4())
        refused(
            staffed,
            "deployment",
            "compile",
            missing,
            code=REFUSED,
            says=["deployment:", missing, "not found"],
            officer="PC-1001",
        )

    def test_refuses_a_malformed_deployment_id(self, staffed: Cli) -> None:
        refused(
            staffed,
            "deployment",
            "compile",
            "not-a-deployment",
            code=INVALID,
            says=["deployment_id:"],
            officer="PC-1001",
        )


class TestStartAndEnd:
    def test_starts_and_ends_a_compiled_deployment_and_shows_its_record(self, staffed: Cli) -> None:
        entry_id = active_entry(staffed)
        deployment_id = authorised(staffed)
        compile_result = compiled(staffed, deployment_id)
        with clock.frozen(T0 + HOUR):
            assert staffed.ok("deployment", "start", deployment_id, officer="SUPT-2001") == {
                "deployment_id": deployment_id,
                "started_at": stamp(HOUR),
            }
            running = staffed.ok("deployment", "show", deployment_id)
        with clock.frozen(T0 + 8 * HOUR):
            assert staffed.ok("deployment", "end", deployment_id, officer="SUPT-2001") == {
                "deployment_id": deployment_id,
                "ended_at": stamp(8 * HOUR),
            }
            shown = staffed.ok("deployment", "show", deployment_id)
        assert running["status"] == "started"
        assert shown["status"] == "ended"
        assert (shown["started_at"], shown["ended_at"]) == (stamp(HOUR), stamp(8 * HOUR))
        assert shown["compiled_at"] == stamp(timedelta(0))
        assert shown["basis"] == compile_result["basis"]
        assert shown["manifest_sha256"] == compile_result["manifest_sha256"]
        assert [m["entry_id"] for m in shown["manifest"]] == [entry_id]
        assert all(isinstance(m["version"], int) for m in shown["manifest"])
        assert (
            hashlib.sha256(rfc8785.dumps(shown["manifest"])).hexdigest() == shown["manifest_sha256"]
        )
        assert shown["excluded"] == []
        assert shown["location"] == "Market Square, Example Town"
        assert shown["use_case"] == "intelligence_led"
        assert "subject" not in json.dumps(shown)

    def test_shows_a_compiled_deployment_as_compiled(self, staffed: Cli) -> None:
        deployment_id = authorised(staffed)
        compiled(staffed, deployment_id)
        assert staffed.ok("deployment", "show", deployment_id)["status"] == "compiled"


class TestStartAndEndRefusals:
    def test_refuses_to_start_a_deployment_that_was_never_compiled(self, staffed: Cli) -> None:
        deployment_id = authorised(staffed)
        refused(
            staffed,
            "deployment",
            "start",
            deployment_id,
            code=REFUSED,
            says=["compile:", "not been compiled"],
            officer="SUPT-2001",
        )

    def test_refuses_to_start_on_a_compile_older_than_the_freshness_window(
        self, staffed: Cli
    ) -> None:
        deployment_id = authorised(staffed, start=HOUR, end=3 * DAY)
        compiled(staffed, deployment_id)
        with clock.frozen(T0 + 24 * HOUR + timedelta(minutes=1)):
            refused(
                staffed,
                "deployment",
                "start",
                deployment_id,
                code=REFUSED,
                says=["compile:", "24 hours", "compile it again"],
                officer="SUPT-2001",
            )

    def test_refuses_to_start_after_the_planned_end(self, staffed: Cli) -> None:
        deployment_id = authorised(staffed, start=HOUR, end=3 * HOUR)
        compiled(staffed, deployment_id)
        with clock.frozen(T0 + 4 * HOUR):
            refused(
                staffed,
                "deployment",
                "start",
                deployment_id,
                code=REFUSED,
                says=["planned_end:"],
                officer="SUPT-2001",
            )

    def test_refuses_to_start_twice(self, staffed: Cli) -> None:
        deployment_id = authorised(staffed)
        compiled(staffed, deployment_id)
        with clock.frozen(T0 + HOUR):
            staffed.ok("deployment", "start", deployment_id, officer="SUPT-2001")
            refused(
                staffed,
                "deployment",
                "start",
                deployment_id,
                code=REFUSED,
                says=["status:", "already started"],
                officer="SUPT-2001",
            )

    def test_refuses_to_end_a_deployment_that_has_not_started(self, staffed: Cli) -> None:
        deployment_id = authorised(staffed)
        compiled(staffed, deployment_id)
        refused(
            staffed,
            "deployment",
            "end",
            deployment_id,
            code=REFUSED,
            says=["status:", "not started"],
            officer="SUPT-2001",
        )

    def test_never_goes_live_with_an_entry_that_is_no_longer_justified_at_go_live(
        self, staffed: Cli
    ) -> None:
        enrol(staffed, "LEGAL-5001")
        entry_id = active_entry(staffed, review_by=at(2 * HOUR))
        deployment_id = authorised(staffed, start=HOUR, end=9 * HOUR)
        assert compiled(staffed, deployment_id)["included"] == [entry_id]
        with clock.frozen(T0 + 3 * HOUR):  # compile 3h old: fresh; the review fell due at T0+2h
            result = staffed.run(
                "deployment", "start", deployment_id, "--json", officer="SUPT-2001"
            )
            if result.exit_code == 0:
                report = json.loads(reconstruct(staffed, deployment_id, "--format", "json"))
                assert report["manifest_matches"] is True, report["manifest_problems"]
                assert report["entries"][0]["class"] != "UNJUSTIFIED_AS_KNOWN_THEN"
            else:
                assert result.exit_code == REFUSED, result.stderr
                assert result.stdout == ""

    def test_refuses_an_officer_without_the_authoriser_role(self, staffed: Cli) -> None:
        deployment_id = authorised(staffed)
        compiled(staffed, deployment_id)
        refused(
            staffed,
            "deployment",
            "start",
            deployment_id,
            code=REFUSED,
            says=["permission", "authoriser"],
            officer="PC-1001",
        )


def run_deployment(cli: Cli, **changes: Any) -> tuple[str, str]:
    """One justified entry; a deployment compiled at T0, started at T0+1h, ended at T0+9h."""
    entry_id = active_entry(cli)
    deployment_id = authorised(cli, **changes)
    compiled(cli, deployment_id)
    with clock.frozen(T0 + HOUR):
        cli.ok("deployment", "start", deployment_id, officer="SUPT-2001")
    with clock.frozen(T0 + 9 * HOUR):
        cli.ok("deployment", "end", deployment_id, officer="SUPT-2001")
    return entry_id, deployment_id


def reconstruct(cli: Cli, deployment_id: str, *options: str) -> str:
    """``watchlist --as LEGAL-5001 deployment reconstruct ID OPTIONS``: its stdout."""
    result = cli.run("deployment", "reconstruct", deployment_id, *options, officer="LEGAL-5001")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


LATE_REMOVAL_RECORDED = 7 * DAY
REMOVAL_EFFECTIVE = 30 * timedelta(minutes=1)  # half an hour before go-live at T0+1h


def remove_late(cli: Cli, entry_id: str) -> None:
    """A week later, PC-1001 records a removal that took effect before the deployment went live."""
    cli.ok(
        "entry",
        "remove",
        entry_id,
        "--reason",
        "arrested_or_located",
        "--effective-at",
        at(REMOVAL_EFFECTIVE),
        "--backdate-reason",
        "Arrest reported late by the neighbouring force",
        "--source-ref",
        "CUSTODY-2026-7781",
        officer="PC-1001",
    )


@pytest.fixture
def ran(staffed: Cli) -> tuple[Cli, str, str]:
    """A store with LEGAL-5001 and one deployment run over one justified entry."""
    enrol(staffed, "LEGAL-5001")
    entry_id, deployment_id = run_deployment(staffed)
    return staffed, entry_id, deployment_id


class TestReconstructJson:
    def test_reconstructs_a_deployment_consistently_when_nothing_was_learned_later(
        self, ran: tuple[Cli, str, str]
    ) -> None:
        cli, entry_id, deployment_id = ran
        with clock.frozen(T0 + DAY):
            report = json.loads(reconstruct(cli, deployment_id, "--format", "json"))
        assert set(report) >= {
            "deployment",
            "then_basis",
            "now_basis",
            "manifest_matches",
            "entries",
        }
        assert report["deployment"]["deployment_id"] == deployment_id
        assert report["deployment"]["status"] == "ended"
        assert report["then_basis"] == report["deployment"]["basis"]
        assert report["now_basis"] >= report["then_basis"]
        assert report["manifest_matches"] is True
        [row] = report["entries"]
        assert row["entry_id"] == entry_id
        for side in ("then", "now"):
            assert set(row[side]) >= {"listed", "current", "justified", "reasons"}
            assert (row[side]["listed"], row[side]["current"], row[side]["justified"]) == (
                True,
                True,
                True,
            )
            assert row[side]["reasons"] == []
        assert row["class"] == "CONSISTENT"

    def test_marks_an_entry_removed_before_go_live_but_recorded_a_week_later_as_retroactively_invalidated(
        self, ran: tuple[Cli, str, str]
    ) -> None:
        cli, entry_id, deployment_id = ran
        with clock.frozen(T0 + LATE_REMOVAL_RECORDED):
            remove_late(cli, entry_id)
            report = json.loads(reconstruct(cli, deployment_id, "--format", "json"))
        assert report["manifest_matches"] is True
        assert report["now_basis"] > report["then_basis"]
        [row] = report["entries"]
        assert row["then"]["justified"] is True
        assert row["then"]["reasons"] == []
        assert (row["now"]["listed"], row["now"]["current"], row["now"]["justified"]) == (
            False,
            False,
            False,
        )
        assert row["now"]["reasons"] == ["removed"]
        assert row["class"] == "RETROACTIVELY_INVALIDATED"
        assert row["learned_at"] == stamp(LATE_REMOVAL_RECORDED)
        assert row["learned_by"] == "PC-1001"
        assert row["lag_seconds"] == int(
            (LATE_REMOVAL_RECORDED - REMOVAL_EFFECTIVE).total_seconds()
        )

    def test_writes_the_report_to_a_file_and_keeps_stdout_empty(
        self, ran: tuple[Cli, str, str]
    ) -> None:
        cli, _, deployment_id = ran
        target = cli.home.parent / "reconstruction.json"
        printed = reconstruct(cli, deployment_id, "--format", "json")
        result = cli.run(
            "deployment",
            "reconstruct",
            deployment_id,
            "--format",
            "json",
            "--output",
            str(target),
            officer="LEGAL-5001",
        )
        assert result.exit_code == 0, result.stderr
        assert result.stdout == ""
        assert json.loads(target.read_text(encoding="utf-8")) == json.loads(printed)

    def test_refuses_a_deployment_that_was_never_compiled(self, ran: tuple[Cli, str, str]) -> None:
        cli, _, _ = ran
        deployment_id = authorised(cli)
        refused(
            cli,
            "deployment",
            "reconstruct",
            deployment_id,
            code=REFUSED,
            says=["deployment:", "never compiled"],
            officer="LEGAL-5001",
            json_flag=False,
        )

    def test_refuses_an_officer_without_the_legal_role(self, ran: tuple[Cli, str, str]) -> None:
        cli, _, deployment_id = ran
        refused(
            cli,
            "deployment",
            "reconstruct",
            deployment_id,
            code=REFUSED,
            says=["permission", "legal"],
            officer="PC-1001",
            json_flag=False,
        )


class TestReconstructReports:
    def test_markdown_has_the_entries_table_and_each_class(self, ran: tuple[Cli, str, str]) -> None:
        cli, entry_id, deployment_id = ran
        with clock.frozen(T0 + LATE_REMOVAL_RECORDED):
            remove_late(cli, entry_id)
            markdown = reconstruct(cli, deployment_id, "--format", "md")
        assert markdown.startswith("# Deployment reconstruction")
        assert "| entry | on list | then: justified | then: reasons |" in markdown
        [row] = [line for line in markdown.splitlines() if line.startswith(f"| `{entry_id}` |")]
        assert "RETROACTIVELY_INVALIDATED" in row
        assert "removed" in row

    def test_html_is_one_self_contained_document(self, ran: tuple[Cli, str, str]) -> None:
        cli, entry_id, deployment_id = ran
        html = reconstruct(cli, deployment_id, "--format", "html")
        assert html.startswith("<!DOCTYPE html>")
        assert html.count("<html") == 1
        assert html.rstrip().endswith("</html>")
        assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
        assert "<script" not in html.lower()
        assert "<link" not in html.lower()
        assert "url(" not in html
        assert entry_id in html
        assert "CONSISTENT" in html

    def test_html_escapes_html_in_user_text(self, staffed: Cli) -> None:
        enrol(staffed, "LEGAL-5001")
        location = 'Market Square <script>alert("x")</script> & Co'
        _, deployment_id = run_deployment(staffed, location=location)
        html = reconstruct(staffed, deployment_id, "--format", "html")
        assert "<script" not in html.lower()
        assert "Market Square &lt;script&gt;alert(" in html
        assert "&amp; Co" in html

    def test_writes_an_html_report_to_a_file_and_keeps_stdout_empty(
        self, ran: tuple[Cli, str, str]
    ) -> None:
        cli, _, deployment_id = ran
        target = cli.home.parent / "reconstruction.html"
        result = cli.run(
            "deployment",
            "reconstruct",
            deployment_id,
            "--format",
            "html",
            "--output",
            str(target),
            officer="LEGAL-5001",
        )
        assert result.exit_code == 0, result.stderr
        assert result.stdout == ""
        assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
