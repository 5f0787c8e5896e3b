"""``watchlist hold``, ``entry erase`` and ``sweep`` through the CLI: documents, refusals, nothing written.

The ``cli`` fixture freezes the clock at T0 (2026-11-26T09:00:00Z); later CLI calls nest
``clock.frozen(later)`` (the CLI runs in-process, so it reads the same clock). Every refusal is checked
for its exit code (1 refused, 2 invalid input), a stderr line naming the rule, an empty stdout, no
traceback, and a store identical before and after.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import Result

from governance import clock
from governance.application import WatchlistApp
from governance.services.sweep import exclusive
from governance.storage.settings import StoreSettings
from tests.cli.conftest import Cli
from tests.conftest import T0

REFUSED, INVALID = 1, 2
LOCK_FILE = "sweep.lock"
ERASE_REASON = "Erasure request upheld by the DPO"


def store_state(cli: Cli) -> tuple[Any, ...]:
    """``Cli.snapshot`` (events, key rows, files) without the sweep's lock file.

    The lock file is created by the first sweep (even a dry run, which takes the lock so that its
    report is not read while another sweep changes the store); it holds nothing.
    """
    rows, files = cli.snapshot()
    return rows, tuple(f for f in files if f != LOCK_FILE)


def refused(
    cli: Cli, *args: str, code: int, says: Sequence[str], officer: str | None = None
) -> Result:
    """Run ``watchlist ARGS`` and assert a clean refusal that wrote nothing."""
    before = store_state(cli)
    result = cli.run(*args, officer=officer)
    report = f"exit {result.exit_code}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.exit_code == code, report
    assert result.stdout == "", report
    assert "Traceback" not in result.stdout + result.stderr, report
    for text in says:
        assert text in result.stderr, report
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")], report
    assert store_state(cli) == before, "the refused command wrote to the store"
    return result


def events(cli: Cli) -> int:
    return len(cli.snapshot()[0][0])


def key_rows(cli: Cli) -> int:
    return len(cli.snapshot()[0][1])


def propose(cli: Cli, **changes: Any) -> str:
    """Propose and authorise an entry through the CLI; return its id."""
    entry_id: str = cli.ok(
        "entry", "propose", "--file", str(cli.write_entry(**changes)), officer="PC-1001"
    )["entry_id"]
    cli.ok(
        "entry", "authorise", entry_id, "--rationale", "Necessary and proportionate.",
        officer="SUPT-2001",
    )  # fmt: skip
    return entry_id


def remove(cli: Cli, entry_id: str) -> None:
    cli.ok("entry", "remove", entry_id, "--reason", "case_closed", officer="PC-1001")


def place_hold(cli: Cli, entry_id: str, case: str = "R-v-Example-2026") -> Any:
    return cli.ok(
        "hold", "place", entry_id, "--case-ref", case, "--reason", "Disclosure in proceedings",
        officer="LEGAL-5001",
    )  # fmt: skip


def show(cli: Cli, entry_id: str) -> Any:
    return cli.ok("entry", "show", entry_id)


@pytest.fixture
def scheduled(store: Cli) -> Cli:
    """The store with SCHED-1 (scheduler role only) enrolled through the CLI."""
    store.ok(
        "officer", "enrol", "SCHED-1", "--name", "Retention sweep", "--rank", "constable",
        "--role", "scheduler", officer="ADMIN-01",
    )  # fmt: skip
    return store


@pytest.fixture
def removed_entry(store: Cli, active_entry: str) -> str:
    remove(store, active_entry)
    return active_entry


class TestHolds:
    def test_placing_a_hold_reports_the_entry_held_for_its_case(
        self, store: Cli, active_entry: str
    ) -> None:
        before = events(store)
        document = place_hold(store, active_entry)
        assert document == {"entry_id": active_entry, "held": True, "cases": ["R-v-Example-2026"]}
        assert events(store) == before + 2  # the retention record opened, the hold placed

    def test_a_second_case_adds_a_hold_and_releasing_one_leaves_the_other(
        self, store: Cli, active_entry: str
    ) -> None:
        place_hold(store, active_entry, "CASE-B")
        assert place_hold(store, active_entry, "CASE-A")["cases"] == ["CASE-A", "CASE-B"]
        refused(
            store, "hold", "release", active_entry, "--reason", "Done",
            code=INVALID, says=["case-ref", "several holds"], officer="LEGAL-5001",
        )  # fmt: skip
        released = store.ok(
            "hold", "release", active_entry, "--case-ref", "CASE-A", "--reason", "Case A concluded",
            officer="LEGAL-5001",
        )  # fmt: skip
        assert released == {"entry_id": active_entry, "held": True, "cases": ["CASE-B"]}

    def test_releasing_the_only_hold_reports_the_entry_no_longer_held(
        self, store: Cli, active_entry: str
    ) -> None:
        place_hold(store, active_entry)
        before = events(store)
        released = store.ok(
            "hold", "release", active_entry, "--reason", "Proceedings concluded",
            officer="LEGAL-5001",
        )  # fmt: skip
        assert released == {"entry_id": active_entry, "held": False, "cases": []}
        assert events(store) == before + 1

    @pytest.mark.parametrize("officer", ["PC-1001", "ADMIN-01", "SUPT-2001", "INSP-3001"])
    def test_only_a_legal_officer_may_place_a_hold(
        self, store: Cli, active_entry: str, officer: str
    ) -> None:
        refused(
            store, "hold", "place", active_entry, "--case-ref", "C-1", "--reason", "Evidence",
            code=REFUSED, says=["permission:", "legal"], officer=officer,
        )  # fmt: skip

    def test_only_a_legal_officer_may_release_a_hold(self, store: Cli, active_entry: str) -> None:
        place_hold(store, active_entry)
        refused(
            store, "hold", "release", active_entry, "--reason", "No longer needed",
            code=REFUSED, says=["permission:", "legal"], officer="PC-1001",
        )  # fmt: skip

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_a_hold_without_a_reason_is_invalid(
        self, store: Cli, active_entry: str, reason: str
    ) -> None:
        refused(
            store, "hold", "place", active_entry, "--case-ref", "C-1", "--reason", reason,
            code=INVALID, says=["reason", "required"], officer="LEGAL-5001",
        )  # fmt: skip

    def test_a_hold_without_a_case_reference_is_invalid(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store, "hold", "place", active_entry, "--case-ref", " ", "--reason", "Evidence",
            code=INVALID, says=["case-ref"], officer="LEGAL-5001",
        )  # fmt: skip

    def test_the_same_case_cannot_hold_an_entry_twice(self, store: Cli, active_entry: str) -> None:
        place_hold(store, active_entry, "C-1")
        refused(
            store, "hold", "place", active_entry, "--case-ref", "C-1", "--reason", "Again",
            code=REFUSED, says=["already in place"], officer="LEGAL-5001",
        )  # fmt: skip

    def test_releasing_when_there_is_no_hold_is_refused(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store, "hold", "release", active_entry, "--reason", "Nothing to release",
            code=REFUSED, says=["no hold"], officer="LEGAL-5001",
        )  # fmt: skip
        place_hold(store, active_entry)
        store.ok("hold", "release", active_entry, "--reason", "Concluded", officer="LEGAL-5001")
        refused(
            store, "hold", "release", active_entry, "--reason", "Again",
            code=REFUSED, says=["no hold"], officer="LEGAL-5001",
        )  # fmt: skip

    def test_releasing_a_hold_for_a_case_that_holds_nothing_is_refused(
        self, store: Cli, active_entry: str
    ) -> None:
        place_hold(store, active_entry, "CASE-A")
        refused(
            store, "hold", "release", active_entry, "--case-ref", "CASE-Z", "--reason", "Done",
            code=REFUSED, says=["no hold for case CASE-Z"], officer="LEGAL-5001",
        )  # fmt: skip

    def test_a_hold_on_an_unknown_entry_is_refused(self, store: Cli) -> None:
        unknown = str(uuid.uuid4())
        refused(
            store, "hold", "place", unknown, "--case-ref", "C-1", "--reason", "Evidence",
            code=REFUSED, says=["not found"], officer="LEGAL-5001",
        )  # fmt: skip
        refused(
            store, "hold", "release", unknown, "--reason", "Concluded",
            code=REFUSED, says=["hold"], officer="LEGAL-5001",
        )  # fmt: skip

    def test_a_hold_on_a_malformed_entry_id_is_invalid(self, store: Cli) -> None:
        refused(
            store, "hold", "place", "not-a-uuid", "--case-ref", "C-1", "--reason", "Evidence",
            code=INVALID, says=["entry_id"], officer="LEGAL-5001",
        )  # fmt: skip

    def test_a_hold_on_erased_data_is_refused(self, store: Cli, removed_entry: str) -> None:
        store.ok("entry", "erase", removed_entry, "--reason", ERASE_REASON, officer="ADMIN-01")
        refused(
            store, "hold", "place", removed_entry, "--case-ref", "C-1", "--reason", "Too late",
            code=REFUSED, says=["already been erased"], officer="LEGAL-5001",
        )  # fmt: skip


class TestErase:
    def test_erasing_a_removed_entry_reports_when_and_its_subject_shows_as_erased(
        self, store: Cli, removed_entry: str
    ) -> None:
        assert show(store, removed_entry)["subject"] == "withheld"
        keys_before, events_before = key_rows(store), events(store)
        document = store.ok(
            "entry", "erase", removed_entry, "--reason", ERASE_REASON, officer="ADMIN-01"
        )
        assert document == {"entry_id": removed_entry, "erased_at": "2026-11-26T09:00:00.000000Z"}
        assert key_rows(store) == keys_before - 1
        assert events(store) == events_before + 2  # retention record opened, erasure recorded
        shown = show(store, removed_entry)
        assert shown["subject"] == "erased"
        assert shown["status"] == "removed"
        revealed = store.run(
            "entry", "show", removed_entry, "--purpose", "Subject access request", "--json",
            officer="LEGAL-5001",
        )  # fmt: skip
        assert revealed.exit_code == 0, revealed.stderr
        assert json.loads(revealed.stdout)["subject"] == "erased"
        assert store.ok("audit", "verify")["ok"] is True

    def test_erasing_an_entry_still_on_the_watchlist_is_refused(
        self, store: Cli, active_entry: str
    ) -> None:
        refused(
            store, "entry", "erase", active_entry, "--reason", ERASE_REASON,
            code=REFUSED, says=["still listed", "remove it first"], officer="ADMIN-01",
        )  # fmt: skip

    def test_erasing_an_entry_under_a_legal_hold_is_refused(
        self, store: Cli, removed_entry: str
    ) -> None:
        place_hold(store, removed_entry, "R-v-Example-2026")
        refused(
            store, "entry", "erase", removed_entry, "--reason", ERASE_REASON,
            code=REFUSED, says=["legal hold", "R-v-Example-2026"], officer="ADMIN-01",
        )  # fmt: skip

    @pytest.mark.parametrize("officer", ["PC-1001", "SUPT-2001", "INSP-3001", "LEGAL-5001"])
    def test_only_an_admin_or_the_scheduler_may_erase(
        self, store: Cli, removed_entry: str, officer: str
    ) -> None:
        refused(
            store, "entry", "erase", removed_entry, "--reason", ERASE_REASON,
            code=REFUSED, says=["permission:", "admin or scheduler"], officer=officer,
        )  # fmt: skip

    def test_erasing_twice_is_refused(self, store: Cli, removed_entry: str) -> None:
        store.ok("entry", "erase", removed_entry, "--reason", ERASE_REASON, officer="ADMIN-01")
        refused(
            store, "entry", "erase", removed_entry, "--reason", ERASE_REASON,
            code=REFUSED, says=["already been erased"], officer="ADMIN-01",
        )  # fmt: skip

    def test_an_erasure_without_a_reason_is_invalid(self, store: Cli, removed_entry: str) -> None:
        refused(
            store, "entry", "erase", removed_entry, "--reason", " ",
            code=INVALID, says=["reason", "required"], officer="ADMIN-01",
        )  # fmt: skip

    def test_erasing_an_unknown_entry_is_refused(self, store: Cli) -> None:
        refused(
            store, "entry", "erase", str(uuid.uuid4()), "--reason", ERASE_REASON,
            code=REFUSED, says=["not found"], officer="ADMIN-01",
        )  # fmt: skip


@pytest.fixture
def due_later(scheduled: Cli) -> dict[str, str]:
    """Entries that, at T0 + 200 days, are: to expire, overdue, expiring soon, to erase, held.

    - ``lapsing`` expires at T0 + 180 days (and is not yet past retention at T0 + 200);
    - ``gone`` is removed at T0 (past 180 days' retention at T0 + 200);
    - ``held`` is removed at T0 under a legal hold;
    - ``overdue`` (proposed at T0 + 150) was due for review at T0 + 180;
    - ``soon`` (proposed at T0 + 150) expires at T0 + 210, within the 14-day warning.
    """
    cli = scheduled
    ids = {"lapsing": propose(cli), "gone": propose(cli), "held": propose(cli)}
    remove(cli, ids["gone"])
    place_hold(cli, ids["held"])
    remove(cli, ids["held"])
    proposed_at = T0 + timedelta(days=150)
    with clock.frozen(proposed_at):
        ids["overdue"] = propose(
            cli,
            review_by=(proposed_at + timedelta(days=30)).isoformat(),
            expires_at=(proposed_at + timedelta(days=200)).isoformat(),
        )
        ids["soon"] = propose(
            cli,
            review_by=(proposed_at + timedelta(days=55)).isoformat(),
            expires_at=(proposed_at + timedelta(days=60)).isoformat(),
        )
    return ids


LATER = T0 + timedelta(days=200)
SWEEP_FIELDS = {
    "run_id",
    "dry_run",
    "expired",
    "review_overdue",
    "expiring_soon",
    "erased",
    "held",
    "review_overdue_entries",
    "expiring_soon_entries",
}


class TestSweep:
    def test_a_dry_run_reports_what_is_due_and_writes_nothing(
        self, scheduled: Cli, due_later: dict[str, str]
    ) -> None:
        with clock.frozen(LATER):
            before = store_state(scheduled)
            document = scheduled.ok("sweep", "--dry-run", officer="SCHED-1")
            assert store_state(scheduled) == before
        assert set(document) == SWEEP_FIELDS
        assert document["dry_run"] is True
        assert uuid.UUID(document["run_id"])
        assert (
            document["expired"],
            document["review_overdue"],
            document["expiring_soon"],
            document["erased"],
            document["held"],
        ) == (1, 1, 1, 1, 1)
        assert document["review_overdue_entries"] == [due_later["overdue"]]
        assert document["expiring_soon_entries"] == [due_later["soon"]]
        with clock.frozen(LATER):
            assert show(scheduled, due_later["gone"])["subject"] == "withheld"

    def test_a_dry_run_needs_no_officer_or_key(
        self, scheduled: Cli, due_later: dict[str, str]
    ) -> None:
        with clock.frozen(LATER):
            before = store_state(scheduled)
            result = scheduled.run("sweep", "--dry-run", "--json")
            assert result.exit_code == 0, result.stderr
            assert store_state(scheduled) == before
        assert json.loads(result.stdout)["expired"] == 1

    def test_a_sweep_by_the_scheduler_does_what_is_due_and_records_its_run(
        self, scheduled: Cli, due_later: dict[str, str]
    ) -> None:
        with clock.frozen(LATER):
            events_before, keys_before = events(scheduled), key_rows(scheduled)
            document = scheduled.ok("sweep", officer="SCHED-1")
            assert set(document) == SWEEP_FIELDS
            assert document["dry_run"] is False
            assert (
                document["expired"],
                document["review_overdue"],
                document["expiring_soon"],
                document["erased"],
                document["held"],
            ) == (1, 1, 1, 1, 1)
            assert document["review_overdue_entries"] == [due_later["overdue"]]
            assert document["expiring_soon_entries"] == [due_later["soon"]]
            # Expired (lapsing); retention opened and erased (gone); the run record.
            assert events(scheduled) == events_before + 4
            assert key_rows(scheduled) == keys_before - 1
            assert show(scheduled, due_later["lapsing"])["status"] == "expired"
            assert show(scheduled, due_later["gone"])["subject"] == "erased"
            assert show(scheduled, due_later["held"])["subject"] == "withheld"
            history = scheduled.ok("entry", "history", due_later["lapsing"])
            assert history[-1]["type"] == "Expired"
            assert history[-1]["actor"] == "SCHED-1"
            assert history[-1]["effective_at"] == "2027-05-25T09:00:00.000000Z"

            again = scheduled.ok("sweep", officer="SCHED-1")
            assert (again["expired"], again["erased"], again["held"]) == (0, 0, 1)
            assert again["run_id"] != document["run_id"]
            assert events(scheduled) == events_before + 5  # only the second run's record
            assert scheduled.ok("audit", "verify")["ok"] is True

    def test_a_sweep_by_an_officer_without_the_scheduler_role_is_refused(
        self, scheduled: Cli, due_later: dict[str, str]
    ) -> None:
        with clock.frozen(LATER):
            refused(
                scheduled, "sweep", "--json",
                code=REFUSED, says=["permission:", "scheduler"], officer="PC-1001",
            )  # fmt: skip

    def test_a_sweep_by_an_admin_is_refused_before_it_erases_anything(
        self, scheduled: Cli, removed_entry: str
    ) -> None:
        with clock.frozen(T0 + timedelta(days=181)):
            refused(
                scheduled, "sweep", "--json",
                code=REFUSED, says=["permission:", "scheduler"], officer="ADMIN-01",
            )  # fmt: skip

    def test_a_sweep_without_an_acting_officer_is_invalid(
        self, scheduled: Cli, due_later: dict[str, str]
    ) -> None:
        with clock.frozen(LATER):
            refused(scheduled, "sweep", "--json", code=INVALID, says=["--as"])

    def test_a_sweep_while_another_holds_the_lock_is_refused_at_once(
        self, scheduled: Cli, due_later: dict[str, str]
    ) -> None:
        app = WatchlistApp(StoreSettings(scheduled.home))
        try:
            with clock.frozen(LATER), exclusive(app):
                refused(
                    scheduled, "sweep", "--json",
                    code=REFUSED, says=["another sweep is running"], officer="SCHED-1",
                )  # fmt: skip
                refused(
                    scheduled, "sweep", "--dry-run", "--json",
                    code=REFUSED, says=["another sweep is running"], officer="SCHED-1",
                )  # fmt: skip
        finally:
            app.close()
