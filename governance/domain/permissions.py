"""Who may do what: the role-by-action matrix, enforced in the write path and in verification.

The same table is used when a command is accepted (``require``) and when a stored event is verified
(``role_for_topic``): an event signed by an officer who lacked the role at that position is invalid.
"""

from __future__ import annotations

from enum import StrEnum

from governance.domain.vocabulary import Role
from governance.errors import PermissionDenied


class Action(StrEnum):
    """Every write the system accepts."""

    FOUND_STORE = "found the store"
    ENROL_OFFICER = "enrol an officer"
    REVOKE_OFFICER = "revoke an officer"
    CHANGE_RANK = "change an officer's rank"
    CHANGE_ROLES = "change an officer's roles"
    ROTATE_KEY = "rotate an officer's key"
    PROPOSE_ENTRY = "propose an entry"
    AUTHORISE_ENTRY = "authorise an entry"
    VERIFY_SOURCE = "record a source check"
    REVIEW_ENTRY = "review an entry"
    REMOVE_ENTRY = "remove an entry"
    CONSULT_SUBJECT = "see a subject's personal data"
    CORRECT_ENTRY = "correct or retract a recorded fact"
    CONFIRM_LATE_FACT = "confirm a fact recorded late"
    EXPIRE_ENTRY = "expire an entry"
    PUBLISH_POLICY = "publish a policy version"
    AUTHORISE_DEPLOYMENT = "authorise a deployment"
    COMPILE_DEPLOYMENT = "compile a deployment's watchlist"
    RUN_DEPLOYMENT = "start or end a deployment"
    RECONSTRUCT_DEPLOYMENT = "reconstruct a deployment"
    OPEN_RETENTION = "open an entry's retention record"
    PLACE_HOLD = "place or release a legal hold"
    ERASE_SUBJECT = "erase a subject's personal data"
    RECORD_SWEEP = "record a retention sweep"
    EXPORT_RECORD = "export the record"
    READ_ACCESS_LOG = "read the access log"


#: The roles allowed to take each action (any one suffices).
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.FOUND_STORE: frozenset({Role.ADMIN}),
    Action.ENROL_OFFICER: frozenset({Role.ADMIN}),
    Action.REVOKE_OFFICER: frozenset({Role.ADMIN}),
    Action.CHANGE_RANK: frozenset({Role.ADMIN}),
    Action.CHANGE_ROLES: frozenset({Role.ADMIN}),
    Action.ROTATE_KEY: frozenset({Role.ADMIN}),
    Action.PROPOSE_ENTRY: frozenset({Role.CUSTODIAN}),
    Action.AUTHORISE_ENTRY: frozenset({Role.AUTHORISER}),
    Action.VERIFY_SOURCE: frozenset({Role.CUSTODIAN}),
    Action.REVIEW_ENTRY: frozenset({Role.REVIEWER}),
    Action.REMOVE_ENTRY: frozenset({Role.CUSTODIAN}),
    Action.CONSULT_SUBJECT: frozenset({Role.CUSTODIAN, Role.AUTHORISER, Role.REVIEWER, Role.LEGAL}),
    Action.CORRECT_ENTRY: frozenset({Role.CUSTODIAN, Role.REVIEWER, Role.AUTHORISER}),
    Action.CONFIRM_LATE_FACT: frozenset({Role.CUSTODIAN, Role.REVIEWER, Role.AUTHORISER}),
    Action.EXPIRE_ENTRY: frozenset({Role.SCHEDULER}),
    Action.PUBLISH_POLICY: frozenset({Role.ADMIN}),
    Action.AUTHORISE_DEPLOYMENT: frozenset({Role.AUTHORISER}),
    Action.COMPILE_DEPLOYMENT: frozenset({Role.CUSTODIAN}),
    Action.RUN_DEPLOYMENT: frozenset({Role.AUTHORISER}),
    Action.RECONSTRUCT_DEPLOYMENT: frozenset({Role.LEGAL}),
    Action.EXPORT_RECORD: frozenset({Role.LEGAL}),
    Action.READ_ACCESS_LOG: frozenset({Role.LEGAL, Role.ADMIN}),
    Action.OPEN_RETENTION: frozenset({Role.LEGAL, Role.ADMIN, Role.SCHEDULER}),
    Action.PLACE_HOLD: frozenset({Role.LEGAL}),
    Action.ERASE_SUBJECT: frozenset({Role.ADMIN, Role.SCHEDULER}),
    Action.RECORD_SWEEP: frozenset({Role.SCHEDULER}),
}

#: The action each stored event type records.
ACTION_OF_TOPIC: dict[str, Action] = {
    "watchlist:Origin.Founded": Action.FOUND_STORE,
    "watchlist:Officer.Enrolled": Action.ENROL_OFFICER,
    "watchlist:Officer.Revoked": Action.REVOKE_OFFICER,
    "watchlist:Officer.RankChanged": Action.CHANGE_RANK,
    "watchlist:Officer.RolesChanged": Action.CHANGE_ROLES,
    "watchlist:Officer.KeyRotated": Action.ROTATE_KEY,
    "watchlist:Entry.Proposed": Action.PROPOSE_ENTRY,
    "watchlist:Entry.Authorised": Action.AUTHORISE_ENTRY,
    "watchlist:Entry.SourceVerified": Action.VERIFY_SOURCE,
    "watchlist:Entry.Reviewed": Action.REVIEW_ENTRY,
    "watchlist:Entry.Removed": Action.REMOVE_ENTRY,
    "watchlist:Entry.Corrected": Action.CORRECT_ENTRY,
    "watchlist:Entry.Retracted": Action.CORRECT_ENTRY,
    "watchlist:Entry.Confirmed": Action.CONFIRM_LATE_FACT,
    "watchlist:Entry.Expired": Action.EXPIRE_ENTRY,
    "watchlist:Consultation.Recorded": Action.CONSULT_SUBJECT,
    "watchlist:PolicyVersion.Published": Action.PUBLISH_POLICY,
    "watchlist:Deployment.Authorised": Action.AUTHORISE_DEPLOYMENT,
    "watchlist:Deployment.Compiled": Action.COMPILE_DEPLOYMENT,
    "watchlist:Deployment.Started": Action.RUN_DEPLOYMENT,
    "watchlist:Deployment.Ended": Action.RUN_DEPLOYMENT,
    "watchlist:Disclosure.Recorded": Action.EXPORT_RECORD,
    "watchlist:Retention.Opened": Action.OPEN_RETENTION,
    "watchlist:Retention.HoldPlaced": Action.PLACE_HOLD,
    "watchlist:Retention.HoldReleased": Action.PLACE_HOLD,
    "watchlist:Retention.Erased": Action.ERASE_SUBJECT,
    "watchlist:SweepRun.Completed": Action.RECORD_SWEEP,
}


def require(officer_id: str, roles: frozenset[Role], action: Action) -> None:
    """Refuse ``action`` unless the officer holds one of the roles it needs."""
    allowed = ALLOWED[action]
    if not roles & allowed:
        needed = " or ".join(sorted(r.value for r in allowed))
        raise PermissionDenied(
            f"permission: officer {officer_id} needs the {needed} role to {action}"
        )
