"""The payload fields of every event type, by topic: exactly these, no more and no fewer.

A plain table, because the offline verifier cannot import the aggregates (they need the eventsourcing
library). ``tests/unit/test_payload_fields.py`` holds it equal to the catalogue
(``governance.domain.catalogue.EVENT_TYPES``: each event class's fields less the statement's header);
docs/event-format.md lists the same fields. Both verifiers refuse a payload whose keys differ.
"""

from __future__ import annotations

PAYLOAD_FIELDS: dict[str, frozenset[str]] = {
    "watchlist:Consultation.Recorded": frozenset(
        {"originator_topic", "entry_id", "purpose", "kind"}
    ),
    "watchlist:Deployment.Authorised": frozenset(
        {
            "originator_topic",
            "location",
            "location_reason",
            "objective",
            "use_case",
            "categories",
            "planned_start",
            "planned_end",
            "rank",
        }
    ),
    "watchlist:Deployment.Compiled": frozenset(
        {
            "basis",
            "judged_at",
            "policy_version",
            "manifest",
            "manifest_sha256",
            "excluded",
            "size_warning",
        }
    ),
    "watchlist:Deployment.Ended": frozenset(),
    "watchlist:Deployment.Started": frozenset(),
    "watchlist:Disclosure.Recorded": frozenset(
        {"originator_topic", "purpose", "recipient", "scope"}
    ),
    "watchlist:Entry.Authorised": frozenset({"rationale", "rank"}),
    "watchlist:Entry.Confirmed": frozenset({"confirms", "note"}),
    "watchlist:Entry.Corrected": frozenset({"supersedes", "changes", "reason"}),
    "watchlist:Entry.Expired": frozenset({"run_id"}),
    "watchlist:Entry.Proposed": frozenset(
        {
            "originator_topic",
            "subject",
            "category",
            "source_record_ref",
            "offence_ref",
            "objective",
            "rationale",
            "image",
            "vulnerable",
            "minor",
            "safeguarding_rationale",
            "review_by",
            "expires_at",
        }
    ),
    "watchlist:Entry.Removed": frozenset(
        {"reason", "note", "backdate_reason", "source_ref", "needs_confirmation"}
    ),
    "watchlist:Entry.Retracted": frozenset({"supersedes", "reason"}),
    "watchlist:Entry.Reviewed": frozenset({"outcome", "rationale", "review_by", "expires_at"}),
    "watchlist:Entry.SourceVerified": frozenset({"status", "note"}),
    "watchlist:Officer.Enrolled": frozenset(
        {"originator_topic", "officer_id", "name", "rank", "roles", "public_key", "key_id"}
    ),
    "watchlist:Officer.KeyRotated": frozenset({"public_key", "key_id", "reason"}),
    "watchlist:Officer.RankChanged": frozenset({"rank", "reason"}),
    "watchlist:Officer.Revoked": frozenset({"reason"}),
    "watchlist:Officer.RolesChanged": frozenset({"roles", "reason"}),
    "watchlist:Origin.Founded": frozenset(
        {"originator_topic", "origin", "admin_officer_id", "admin_public_key", "log_public_key"}
    ),
    "watchlist:PolicyVersion.Published": frozenset({"originator_topic", "version", "document"}),
    "watchlist:Retention.Erased": frozenset({"reason", "run_id"}),
    "watchlist:Retention.HoldPlaced": frozenset({"case_ref", "reason"}),
    "watchlist:Retention.HoldReleased": frozenset({"case_ref", "reason"}),
    "watchlist:Retention.Opened": frozenset({"originator_topic", "entry_id"}),
    "watchlist:SweepRun.Completed": frozenset(
        {"originator_topic", "run_id", "counts", "review_overdue", "expiring_soon", "held"}
    ),
}
