"""Every refusal path of the CLI: a clear error on stderr, the right exit code, nothing written.

Each refusal is checked for: the exit code (1 refused, 2 invalid input or usage); a stderr line naming
the field or rule; one ``error:`` line per problem; an empty stdout; no traceback in either stream; and
a store snapshot (events, subject keys, files in the home) identical before and after.
Times are relative to the frozen clock of the ``cli`` fixture (T0 = 2026-11-26T09:00:00Z).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from governance.integrity import keys
from tests.cli.conftest import PASSPHRASE, Cli
from tests.conftest import REMOVE, T0

REFUSED, INVALID = 1, 2


def at(delta: timedelta) -> str:
    """An instant relative to the frozen clock, with an explicit offset."""
    return (T0 + delta).isoformat()


def error_lines(stderr: str) -> list[str]:
    """The one-per-problem ``error: ...`` lines the CLI prints on stderr."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def refused(
    cli: Cli,
    *args: str,
    code: int,
    says: Sequence[str],
    lines: int | None = 1,
    officer: str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run ``watchlist ARGS`` and assert a clean refusal that wrote nothing."""
    before = cli.snapshot()
    result = cli.run(*args, officer=officer, env=env)
    after = cli.snapshot()
    report = f"exit {result.exit_code}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.exit_code == code, report
    assert result.stdout == "", report
    assert "Traceback" not in result.stdout, report
    assert "Traceback" not in result.stderr, report
    for text in says:
        assert text in result.stderr, report
    if lines is not None:
        assert len(error_lines(result.stderr)) == lines, report
    assert after == before, "the refused command wrote to the store"
    return result


def usage_refused(cli: Cli, *args: str, option: str, officer: str | None = None) -> Result:
    """A value Click itself rejects (not in a closed list): usage error, exit 2, nothing written."""
    result = refused(
        cli,
        *args,
        code=INVALID,
        says=["Usage:", f"Invalid value for '{option}'"],
        lines=None,
        officer=officer,
    )
    assert error_lines(result.stderr) == []
    return result


def propose(cli: Cli, officer: str = "PC-1001", **changes: Any) -> str:
    """Propose an entry through the CLI and return its id."""
    path = cli.write_entry(**changes)
    entry_id: str = cli.ok("entry", "propose", "--file", str(path), officer=officer)["entry_id"]
    return entry_id


def refuse_proposal(
    cli: Cli,
    *,
    says: Sequence[str],
    lines: int = 1,
    code: int = INVALID,
    officer: str = "PC-1001",
    **changes: Any,
) -> Result:
    """Write ENTRY.json with ``changes`` and assert ``entry propose`` refuses it."""
    path = cli.write_entry(**changes)
    return refused(
        cli,
        "entry",
        "propose",
        "--file",
        str(path),
        code=code,
        says=says,
        lines=lines,
        officer=officer,
    )


MINOR = {"name": "Sam Young", "date_of_birth": "2010-01-01", "subject_ref": "NOMINAL-000999"}
SAFEGUARDING = "Safeguarding: a missing child at risk of exploitation; the family has been told."


class TestProposeFile:
    def test_refuses_a_file_that_does_not_exist(self, store: Cli) -> None:
        missing = store.home.parent / "no-such-entry.json"
        refused(
            store,
            "entry",
            "propose",
            "--file",
            str(missing),
            code=INVALID,
            says=["--file", "cannot read"],
            officer="PC-1001",
        )

    def test_refuses_a_directory_given_as_the_file(self, store: Cli) -> None:
        refused(
            store,
            "entry",
            "propose",
            "--file",
            str(store.home.parent),
            code=INVALID,
            says=["--file"],
            officer="PC-1001",
        )

    def test_refuses_a_file_that_is_not_json(self, store: Cli) -> None:
        path = store.home.parent / "broken.json"
        path.write_text('{"subject": {"name": "Jane"')
        refused(
            store,
            "entry",
            "propose",
            "--file",
            str(path),
            code=INVALID,
            says=["file:", "JSON"],
            officer="PC-1001",
        )

    def test_refuses_a_json_array(self, store: Cli) -> None:
        path = store.home.parent / "array.json"
        path.write_text("[]")
        refused(
            store,
            "entry",
            "propose",
            "--file",
            str(path),
            code=INVALID,
            says=["file:", "object"],
            officer="PC-1001",
        )

    def test_refuses_an_unknown_field(self, store: Cli) -> None:
        refuse_proposal(store, says=["intelligence_score", "unknown field"], intelligence_score=7)

    def test_refuses_an_unknown_field_inside_the_subject(self, store: Cli) -> None:
        subject = {
            "name": "Jane Example",
            "date_of_birth": "1990-04-01",
            "subject_ref": "N-1",
            "nickname": "JJ",
        }
        refuse_proposal(store, says=["subject.nickname", "unknown field"], subject=subject)

    def test_refuses_a_missing_required_field(self, store: Cli) -> None:
        refuse_proposal(store, says=["source_record_ref", "is required"], source_record_ref=REMOVE)


class TestProposeRules:
    def test_refuses_a_category_outside_the_closed_list(self, store: Cli) -> None:
        refuse_proposal(
            store, says=["category", "wanted_on_warrant"], category="intelligence_interest"
        )

    def test_refuses_a_suspect_entry_without_an_offence_reference(self, store: Cli) -> None:
        refuse_proposal(store, says=["offence_ref", "suspect"], category="suspect")

    @pytest.mark.parametrize(
        "rationale", ["", "   ", "Too short."], ids=["empty", "blank", "too-short"]
    )
    def test_refuses_a_blank_or_too_short_rationale(self, store: Cli, rationale: str) -> None:
        refuse_proposal(store, says=["rationale"], rationale=rationale)

    def test_refuses_a_vulnerable_person_without_a_safeguarding_rationale(self, store: Cli) -> None:
        refuse_proposal(
            store,
            says=["safeguarding_rationale", "vulnerable"],
            vulnerable=True,
            review_by=at(timedelta(days=5)),
        )

    def test_refuses_a_minor_without_a_safeguarding_rationale(self, store: Cli) -> None:
        refuse_proposal(
            store,
            says=["safeguarding_rationale", "under 18"],
            subject=MINOR,
            review_by=at(timedelta(days=5)),
        )

    def test_reports_both_problems_of_a_minor_with_a_late_review_and_no_safeguarding(
        self, store: Cli
    ) -> None:
        result = refuse_proposal(
            store, says=["safeguarding_rationale", "review_by"], lines=2, subject=MINOR
        )
        assert "within 7 days" in result.stderr

    def test_accepts_a_minor_with_a_safeguarding_rationale_and_a_weekly_review(
        self, store: Cli
    ) -> None:
        """The control for the two refusals above: the same minor, done right, is accepted."""
        propose(
            store,
            subject=MINOR,
            safeguarding_rationale=SAFEGUARDING,
            review_by=at(timedelta(days=7)),
        )

    @pytest.mark.parametrize(
        ("changes", "says"),
        [
            ({"category": "suspect"}, "offence_ref"),
            ({"vulnerable": True, "review_by": at(timedelta(days=5))}, "safeguarding_rationale"),
            (
                {"review_by": at(timedelta(days=60)), "expires_at": at(timedelta(days=30))},
                "review_by",
            ),
        ],
        ids=["suspect-without-offence", "vulnerable-without-safeguarding", "review-after-expiry"],
    )
    def test_names_the_field_first_for_a_cross_field_rule(
        self, store: Cli, changes: dict[str, Any], says: str
    ) -> None:
        result = refuse_proposal(store, says=[says], **changes)
        assert error_lines(result.stderr)[0].startswith(f"error: {says}:")


class TestProposeDates:
    def test_refuses_a_review_by_without_an_offset(self, store: Cli) -> None:
        refuse_proposal(store, says=["review_by", "UTC offset"], review_by="2027-02-01T00:00:00")

    def test_refuses_a_review_by_that_is_a_bare_date(self, store: Cli) -> None:
        refuse_proposal(store, says=["review_by", "UTC offset"], review_by="2027-02-01")

    def test_refuses_an_expires_at_without_an_offset(self, store: Cli) -> None:
        refuse_proposal(store, says=["expires_at", "UTC offset"], expires_at="2027-06-01T00:00:00")

    def test_refuses_a_review_by_in_the_past(self, store: Cli) -> None:
        refuse_proposal(
            store, says=["review_by", "in the future"], review_by=at(-timedelta(days=1))
        )

    def test_refuses_a_review_by_beyond_90_days_for_wanted_on_warrant(self, store: Cli) -> None:
        refuse_proposal(
            store, says=["review_by", "within 90 days"], review_by=at(timedelta(days=91))
        )

    def test_refuses_a_review_by_beyond_7_days_for_a_missing_person(self, store: Cli) -> None:
        refuse_proposal(
            store,
            says=["review_by", "within 7 days"],
            category="missing_person",
            review_by=at(timedelta(days=8)),
        )

    def test_refuses_a_review_by_after_expires_at(self, store: Cli) -> None:
        refuse_proposal(
            store,
            says=["review_by", "expires_at"],
            review_by=at(timedelta(days=60)),
            expires_at=at(timedelta(days=30)),
        )

    def test_refuses_an_expires_at_beyond_the_maximum_lifetime(self, store: Cli) -> None:
        refuse_proposal(
            store, says=["expires_at", "within 365 days"], expires_at=at(timedelta(days=400))
        )


class TestProposeSeveralProblems:
    def test_prints_one_line_per_field_problem(self, store: Cli) -> None:
        result = refuse_proposal(
            store,
            says=["category", "rationale", "review_by", "colour"],
            lines=4,
            category="intelligence_interest",
            rationale="short",
            review_by="2027-02-01T00:00:00",
            colour="red",
        )
        named = [line.split(":")[1].strip() for line in error_lines(result.stderr)]
        assert sorted(named) == ["category", "colour", "rationale", "review_by"]

    def test_prints_one_line_per_date_problem(self, store: Cli) -> None:
        refuse_proposal(
            store,
            says=["review_by: must be in the future", "expires_at: must be in the future"],
            lines=2,
            review_by=at(-timedelta(days=2)),
            expires_at=at(-timedelta(days=1)),
        )


class TestProposeIdentity:
    def test_refuses_a_reviewer_proposing(self, store: Cli) -> None:
        refuse_proposal(
            store, says=["permission", "INSP-3001", "custodian"], code=REFUSED, officer="INSP-3001"
        )

    def test_refuses_an_officer_who_is_not_enrolled_signing_with_some_key(self, store: Cli) -> None:
        path = store.write_entry()
        key = store.home / "keys" / "PC-1001.pem"
        refused(
            store,
            "--key",
            str(key),
            "entry",
            "propose",
            "--file",
            str(path),
            code=REFUSED,
            says=["GHOST-9999", "not enrolled"],
            officer="GHOST-9999",
        )

    def test_refuses_an_officer_who_is_not_enrolled(self, store: Cli) -> None:
        refuse_proposal(
            store, says=["GHOST-9999", "not enrolled"], code=REFUSED, officer="GHOST-9999"
        )

    def test_refuses_a_signed_command_without_an_acting_officer(self, store: Cli) -> None:
        path = store.write_entry()
        refused(
            store,
            "entry",
            "propose",
            "--file",
            str(path),
            code=INVALID,
            says=["--as", "WATCHLIST_OFFICER"],
            env={"WATCHLIST_OFFICER": ""},
        )

    def test_refuses_a_wrong_passphrase_without_showing_any_passphrase(self, store: Cli) -> None:
        wrong = "not-the-right-passphrase-7f3a"
        path = store.write_entry()
        result = refused(
            store,
            "entry",
            "propose",
            "--file",
            str(path),
            code=REFUSED,
            says=["key:", "wrong passphrase"],
            officer="PC-1001",
            env={"WATCHLIST_PASSPHRASE": wrong},
        )
        for secret in (wrong, PASSPHRASE):
            assert secret not in result.stdout
            assert secret not in result.stderr
            assert secret not in result.output


class TestAuthorise:
    def test_refuses_the_officer_who_proposed_the_entry(self, store: Cli) -> None:
        entry_id = propose(store, officer="SUPT-2001")
        refused(
            store,
            "entry",
            "authorise",
            entry_id,
            "--rationale",
            "I proposed it and I approve it myself.",
            code=REFUSED,
            says=["authorised_by_proposer"],
            officer="SUPT-2001",
        )

    def test_refuses_an_authoriser_below_the_minimum_rank(self, store: Cli) -> None:
        entry_id = propose(store)
        refused(
            store,
            "entry",
            "authorise",
            entry_id,
            "--rationale",
            "Necessary and proportionate.",
            code=REFUSED,
            says=["authoriser_rank_too_low", "inspector"],
            officer="INSP-4001",
        )

    def test_refuses_an_officer_without_the_authoriser_role(self, store: Cli) -> None:
        entry_id = propose(store)
        refused(
            store,
            "entry",
            "authorise",
            entry_id,
            "--rationale",
            "Necessary and proportionate.",
            code=REFUSED,
            says=["permission", "authoriser"],
            officer="INSP-3001",
        )

    def test_refuses_an_entry_that_does_not_exist(self, store: Cli) -> None:
        missing = str(uuid.uuid4())
        refused(
            store,
            "entry",
            "authorise",
            missing,
            "--rationale",
            "Necessary and proportionate.",
            code=REFUSED,
            says=["entry:", missing, "not found"],
            officer="SUPT-2001",
        )

    def test_refuses_a_malformed_entry_id(self, store: Cli) -> None:
        refused(
            store,
            "entry",
            "authorise",
            "not-an-entry-id",
            "--rationale",
            "Necessary and proportionate.",
            code=INVALID,
            says=["entry_id", "UUID"],
            officer="SUPT-2001",
        )

    def test_refuses_an_entry_that_is_already_active(self, store: Cli, active_entry: str) -> None:
        refused(
            store,
            "entry",
            "authorise",
            active_entry,
            "--rationale",
            "Necessary and proportionate.",
            code=REFUSED,
            says=["status", "active"],
            officer="SUPT-2001",
        )

    @pytest.mark.parametrize("rationale", ["", "   "], ids=["empty", "blank"])
    def test_refuses_a_blank_rationale(self, store: Cli, rationale: str) -> None:
        entry_id = propose(store)
        refused(
            store,
            "entry",
            "authorise",
            entry_id,
            "--rationale",
            rationale,
            code=INVALID,
            says=["rationale", "blank"],
            officer="SUPT-2001",
        )


class TestVerifySource:
    def test_refuses_a_status_outside_live_or_resolved(self, store: Cli, active_entry: str) -> None:
        usage_refused(
            store,
            "entry",
            "verify-source",
            active_entry,
            "--status",
            "probably",
            option="--status",
            officer="PC-1001",
        )

    def test_refuses_a_checked_at_without_an_offset(self, store: Cli, active_entry: str) -> None:
        refused(
            store,
            "entry",
            "verify-source",
            active_entry,
            "--status",
            "live",
            "--checked-at",
            "2026-11-26T08:00:00",
            code=INVALID,
            says=["checked-at", "UTC offset"],
            officer="PC-1001",
        )

    def test_refuses_a_checked_at_more_than_5_minutes_in_the_future(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store,
            "entry",
            "verify-source",
            active_entry,
            "--status",
            "live",
            "--checked-at",
            at(timedelta(minutes=6)),
            code=INVALID,
            says=["checked-at", "future"],
            officer="PC-1001",
        )

    def test_refuses_a_check_3_days_ago_without_the_late_record_details(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store,
            "entry",
            "verify-source",
            active_entry,
            "--status",
            "live",
            "--checked-at",
            at(-timedelta(days=3)),
            code=INVALID,
            says=["checked-at", "24 hours"],
            officer="PC-1001",
        )

    def test_names_an_option_that_verify_source_has_when_the_check_is_late(
        self, store: Cli, active_entry: str
    ) -> None:
        result = refused(
            store,
            "entry",
            "verify-source",
            active_entry,
            "--status",
            "live",
            "--checked-at",
            at(-timedelta(days=3)),
            code=INVALID,
            says=["checked-at"],
            officer="PC-1001",
        )
        assert "--backdate-reason" not in result.stderr
        assert "--note" in result.stderr

    def test_refuses_an_officer_without_the_custodian_role(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store,
            "entry",
            "verify-source",
            active_entry,
            "--status",
            "live",
            code=REFUSED,
            says=["permission", "custodian"],
            officer="INSP-3001",
        )

    def test_refuses_a_check_of_a_removed_entry(self, store: Cli, active_entry: str) -> None:
        store.ok(
            "entry", "remove", active_entry, "--reason", "arrested_or_located", officer="PC-1001"
        )
        refused(
            store,
            "entry",
            "verify-source",
            active_entry,
            "--status",
            "live",
            code=REFUSED,
            says=["status", "removed"],
            officer="PC-1001",
        )


class TestReview:
    def test_refuses_a_proposed_entry_that_is_not_yet_active(self, store: Cli) -> None:
        entry_id = propose(store)
        refused(
            store,
            "entry",
            "review",
            entry_id,
            "--outcome",
            "retain",
            "--rationale",
            "Still wanted; warrant live.",
            code=REFUSED,
            says=["status", "proposed"],
            officer="INSP-3001",
        )

    def test_refuses_the_officer_who_proposed_the_entry(self, store: Cli) -> None:
        store.ok(
            "officer", "enrol", "SGT-6001", "--name", "Pat Dual", "--rank", "sergeant",
            "--role", "custodian", "--role", "reviewer", officer="ADMIN-01",
        )  # fmt: skip
        entry_id = propose(store, officer="SGT-6001")
        store.ok(
            "entry",
            "authorise",
            entry_id,
            "--rationale",
            "Necessary and proportionate.",
            officer="SUPT-2001",
        )
        refused(
            store,
            "entry",
            "review",
            entry_id,
            "--outcome",
            "retain",
            "--rationale",
            "I proposed it and I keep it.",
            code=REFUSED,
            says=["proposed", "cannot review"],
            officer="SGT-6001",
        )

    def test_refuses_an_officer_without_the_reviewer_role(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store,
            "entry",
            "review",
            active_entry,
            "--outcome",
            "retain",
            "--rationale",
            "Still wanted; warrant live.",
            code=REFUSED,
            says=["permission", "reviewer"],
            officer="PC-1001",
        )

    def test_refuses_an_outcome_outside_retain_or_remove(
        self, store: Cli, active_entry: str
    ) -> None:
        usage_refused(
            store, "entry", "review", active_entry, "--outcome", "extend", "--rationale", "x",
            option="--outcome", officer="INSP-3001",
        )  # fmt: skip

    def test_refuses_a_removal_review_with_a_next_review_date(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store,
            "entry",
            "review",
            active_entry,
            "--outcome",
            "remove",
            "--rationale",
            "No longer necessary.",
            "--review-by",
            at(timedelta(days=30)),
            code=INVALID,
            says=["review-by", "removal"],
            officer="INSP-3001",
        )

    def test_refuses_a_review_by_in_the_past(self, store: Cli, active_entry: str) -> None:
        refused(
            store,
            "entry",
            "review",
            active_entry,
            "--outcome",
            "retain",
            "--rationale",
            "Still wanted; warrant live.",
            "--review-by",
            at(-timedelta(days=1)),
            code=INVALID,
            says=["review_by", "in the future"],
            officer="INSP-3001",
        )

    def test_refuses_a_local_time_that_does_not_exist(self, store: Cli, active_entry: str) -> None:
        refused(
            store,
            "entry",
            "review",
            active_entry,
            "--outcome",
            "retain",
            "--rationale",
            "Still wanted; warrant live.",
            "--review-by",
            "2026-03-29T01:30:00[Europe/London]",
            code=INVALID,
            says=["review-by", "does not exist", "Europe/London"],
            officer="INSP-3001",
        )

    def test_refuses_an_ambiguous_local_time(self, store: Cli, active_entry: str) -> None:
        refused(
            store,
            "entry",
            "review",
            active_entry,
            "--outcome",
            "retain",
            "--rationale",
            "Still wanted; warrant live.",
            "--review-by",
            "2026-10-25T01:30:00[Europe/London]",
            code=INVALID,
            says=["review-by", "ambiguous", "Europe/London"],
            officer="INSP-3001",
        )

    def test_reports_a_bad_review_by_and_a_bad_expires_at_on_two_lines(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store,
            "entry",
            "review",
            active_entry,
            "--outcome",
            "retain",
            "--rationale",
            "Still wanted; warrant live.",
            "--review-by",
            "2027-01-01",
            "--expires-at",
            "2027-06-01T00:00:00",
            code=INVALID,
            says=["review-by", "expires-at"],
            lines=2,
            officer="INSP-3001",
        )


class TestRemove:
    def test_refuses_a_reason_outside_the_closed_list(self, store: Cli, active_entry: str) -> None:
        usage_refused(
            store,
            "entry",
            "remove",
            active_entry,
            "--reason",
            "felt_like_it",
            option="--reason",
            officer="PC-1001",
        )

    def test_refuses_removing_an_entry_twice(self, store: Cli, active_entry: str) -> None:
        store.ok(
            "entry", "remove", active_entry, "--reason", "arrested_or_located", officer="PC-1001"
        )
        refused(
            store,
            "entry",
            "remove",
            active_entry,
            "--reason",
            "arrested_or_located",
            code=REFUSED,
            says=["status", "removed"],
            officer="PC-1001",
        )

    def test_refuses_a_removal_2_days_back_without_reason_or_source(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store,
            "entry",
            "remove",
            active_entry,
            "--reason",
            "arrested_or_located",
            "--effective-at",
            at(-timedelta(days=2)),
            code=INVALID,
            says=["effective-at", "--backdate-reason", "--source-ref"],
            officer="PC-1001",
        )

    def test_refuses_a_removal_2_days_back_with_a_reason_but_no_source(
        self, store: Cli, active_entry: str
    ) -> None:
        result = refused(
            store,
            "entry",
            "remove",
            active_entry,
            "--reason",
            "arrested_or_located",
            "--effective-at",
            at(-timedelta(days=2)),
            "--backdate-reason",
            "Arrest reported late by the neighbouring force.",
            code=INVALID,
            says=["effective-at", "--source-ref"],
            officer="PC-1001",
        )
        assert "--backdate-reason" not in result.stderr

    def test_accepts_a_removal_2_days_back_with_reason_and_source(
        self, store: Cli, active_entry: str
    ) -> None:
        removed = store.ok(
            "entry", "remove", active_entry, "--reason", "arrested_or_located",
            "--effective-at", at(-timedelta(days=2)),
            "--backdate-reason", "Arrest reported late by the neighbouring force.",
            "--source-ref", "CUSTODY-2026-7781", officer="PC-1001",
        )  # fmt: skip
        assert removed == {
            "entry_id": active_entry,
            "status": "removed",
            "effective_at": "2026-11-24T09:00:00.000000Z",
            "awaiting_confirmation": [],
        }

    def test_a_removal_more_than_90_days_back_waits_for_a_second_officer(
        self, store: Cli, active_entry: str
    ) -> None:
        late = store.ok(
            "entry",
            "remove",
            active_entry,
            "--reason",
            "arrested_or_located",
            "--effective-at",
            at(-timedelta(days=91)),
            "--backdate-reason",
            "Arrest never recorded at the time.",
            "--source-ref",
            "CUSTODY-2026-0001",
            officer="PC-1001",
        )
        assert late["status"] == "active"
        assert late["awaiting_confirmation"] == [3]
        refused(
            store,
            "entry",
            "confirm",
            active_entry,
            "--event",
            "3",
            "--note",
            "I recorded it myself.",
            code=REFUSED,
            says=["cannot confirm it themselves"],
            officer="PC-1001",
        )
        confirmed = store.ok(
            "entry",
            "confirm",
            active_entry,
            "--event",
            "3",
            "--note",
            "Custody record checked.",
            officer="SUPT-2001",
        )
        assert confirmed["status"] == "removed"
        assert confirmed["awaiting_confirmation"] == []

    def test_refuses_an_effective_at_that_is_a_bare_date(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store,
            "entry",
            "remove",
            active_entry,
            "--reason",
            "arrested_or_located",
            "--effective-at",
            "2026-11-25",
            code=INVALID,
            says=["effective-at", "is a date"],
            officer="PC-1001",
        )


class TestShowWithPurpose:
    def test_refuses_an_admin_who_may_not_see_personal_data_and_records_nothing(
        self, store: Cli, active_entry: str
    ) -> None:
        result = refused(
            store,
            "entry",
            "show",
            active_entry,
            "--purpose",
            "Curiosity",
            code=REFUSED,
            says=["permission", "ADMIN-01"],
            officer="ADMIN-01",
        )
        assert "Jane" not in result.output
        assert "NOMINAL" not in result.output
        history = store.ok("entry", "history", active_entry)
        assert [h["type"] for h in history] == ["Proposed", "Authorised"]

    def test_refuses_a_blank_purpose(self, store: Cli, active_entry: str) -> None:
        result = refused(
            store,
            "entry",
            "show",
            active_entry,
            "--purpose",
            "   ",
            code=INVALID,
            says=["purpose"],
            officer="LEGAL-5001",
        )
        assert "Jane" not in result.output

    def test_refuses_an_entry_that_does_not_exist(self, store: Cli) -> None:
        missing = str(uuid.uuid4())
        refused(store, "entry", "show", missing, code=REFUSED, says=["entry:", "not found"])


class TestOfficer:
    def test_refuses_enrolment_by_an_officer_who_is_not_an_admin(self, store: Cli) -> None:
        refused(
            store,
            "officer",
            "enrol",
            "PC-1002",
            "--name",
            "New Constable",
            "--rank",
            "constable",
            "--role",
            "custodian",
            code=REFUSED,
            says=["permission", "admin"],
            officer="PC-1001",
        )
        assert not (store.home / "keys" / "PC-1002.pem").exists()

    def test_refuses_enrolling_an_existing_officer_id_with_a_public_key(
        self, store: Cli, tmp_path: Path
    ) -> None:
        public = tmp_path / "new.pub.pem"
        public.write_bytes(keys.public_pem(keys.generate().public_key()))
        refused(
            store,
            "officer",
            "enrol",
            "PC-1001",
            "--name",
            "Someone Else",
            "--rank",
            "constable",
            "--role",
            "custodian",
            "--public-key",
            str(public),
            code=REFUSED,
            says=["PC-1001", "already enrolled"],
            officer="ADMIN-01",
        )

    def test_refuses_enrolling_an_existing_officer_id(self, store: Cli) -> None:
        refused(
            store,
            "officer",
            "enrol",
            "PC-1001",
            "--name",
            "Someone Else",
            "--rank",
            "constable",
            "--role",
            "custodian",
            code=REFUSED,
            says=["PC-1001", "already enrolled"],
            officer="ADMIN-01",
        )

    @pytest.mark.parametrize(
        "officer_id",
        ["X", "bad id", "_LEAD-1", "a" * 65],
        ids=["short", "space", "underscore", "long"],
    )
    def test_refuses_an_invalid_officer_id(self, store: Cli, officer_id: str) -> None:
        refused(
            store,
            "officer",
            "enrol",
            officer_id,
            "--name",
            "New Officer",
            "--rank",
            "constable",
            "--role",
            "custodian",
            code=INVALID,
            says=["officer_id", "not a valid officer id"],
            officer="ADMIN-01",
        )

    def test_refuses_an_unknown_rank(self, store: Cli) -> None:
        usage_refused(
            store, "officer", "enrol", "PC-1002", "--name", "New Constable", "--rank", "general",
            "--role", "custodian", option="--rank", officer="ADMIN-01",
        )  # fmt: skip

    def test_refuses_an_unknown_role(self, store: Cli) -> None:
        usage_refused(
            store, "officer", "enrol", "PC-1002", "--name", "New Constable", "--rank", "constable",
            "--role", "superuser", option="--role", officer="ADMIN-01",
        )  # fmt: skip

    def test_refuses_revoking_the_last_admin(self, store: Cli) -> None:
        refused(
            store,
            "officer",
            "revoke",
            "ADMIN-01",
            "--reason",
            "Leaving the force.",
            code=REFUSED,
            says=["last active administrator"],
            officer="ADMIN-01",
        )

    def test_refuses_revoking_an_officer_who_is_not_enrolled(self, store: Cli) -> None:
        refused(
            store,
            "officer",
            "revoke",
            "GHOST-9999",
            "--reason",
            "Never existed.",
            code=REFUSED,
            says=["officer:", "GHOST-9999 is not enrolled"],
            officer="ADMIN-01",
        )

    def test_names_the_unknown_officer_when_refusing_a_revocation(self, store: Cli) -> None:
        refused(
            store,
            "officer",
            "revoke",
            "GHOST-9999",
            "--reason",
            "Never existed.",
            code=REFUSED,
            says=["officer:", "GHOST-9999", "not"],
            officer="ADMIN-01",
        )


NO_STORE_READS = [
    ("officer", "list"),
    ("entry", "list"),
    ("entry", "show", "0b5f7d3c-2f7e-4a8e-9d61-0a9b4c1e2d3f"),
    ("entry", "history", "0b5f7d3c-2f7e-4a8e-9d61-0a9b4c1e2d3f"),
    ("audit", "verify"),
]


class TestHomeWithoutAStore:
    @pytest.mark.parametrize(
        "command", NO_STORE_READS, ids=[" ".join(c[:2]) for c in NO_STORE_READS]
    )
    def test_refuses_a_read_command_and_creates_no_store(
        self, cli: Cli, command: tuple[str, ...]
    ) -> None:
        refused(cli, *command, code=REFUSED, says=["store:", "watchlist init"])
        assert not (cli.home / "watchlist.sqlite").exists()

    def test_refuses_a_read_command_in_an_existing_empty_home_and_creates_no_store(
        self, cli: Cli
    ) -> None:
        cli.home.mkdir()
        refused(cli, "entry", "list", code=REFUSED, says=["store:", "watchlist init"])
        assert list(cli.home.iterdir()) == []


class TestInit:
    def test_refuses_a_second_init_on_the_same_home(self, store: Cli) -> None:
        refused(
            store,
            "init",
            "--origin",
            "other.example/watchlist",
            "--admin",
            "ADMIN-02",
            "--name",
            "Another Admin",
            code=REFUSED,
            says=["store:", "already holds"],
        )

    def test_refuses_a_second_init_with_the_same_admin(self, store: Cli) -> None:
        refused(
            store,
            "init",
            "--origin",
            "test.example/watchlist",
            "--admin",
            "ADMIN-01",
            "--name",
            "Alex Admin",
            code=REFUSED,
            says=["store:", "already holds"],
        )

    def test_refuses_an_invalid_admin_id_and_creates_nothing(self, cli: Cli) -> None:
        refused(
            cli, "init", "--origin", "test.example/watchlist", "--admin", "x", "--name", "Alex",
            code=INVALID, says=["admin", "not a valid officer id"],
        )  # fmt: skip
        assert not (cli.home / "watchlist.sqlite").exists()


class TestJsonOutputOnRefusal:
    def test_keeps_stdout_empty_for_invalid_input_with_json(self, store: Cli) -> None:
        path = store.write_entry(category="intelligence_interest")
        refused(
            store,
            "entry",
            "propose",
            "--file",
            str(path),
            "--json",
            code=INVALID,
            says=["category"],
            officer="PC-1001",
        )

    def test_keeps_stdout_empty_for_a_refusal_with_json(self, store: Cli) -> None:
        entry_id = propose(store, officer="SUPT-2001")
        refused(
            store,
            "entry",
            "authorise",
            entry_id,
            "--rationale",
            "I proposed it and I approve it myself.",
            "--json",
            code=REFUSED,
            says=["authorised_by_proposer"],
            officer="SUPT-2001",
        )
