"""Policy versions: the configurable rules in force from a given instant.

Every rule a judgement depends on lives in a policy document (review intervals, source freshness,
minimum authoriser rank, backdating bounds, retention). Whether an inclusion was justified at T is
judged by the version in force at T, never today's. Version 0 is the built-in default (the values of
``governance.domain.defaults``, sourced in domain.md); admins publish later versions as signed events.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateCreated, event

from governance.domain import defaults
from governance.domain.aggregate import Governed, named_stream
from governance.domain.vocabulary import Category, Rank
from governance.errors import InvalidInput


@dataclass(frozen=True, kw_only=True)
class PolicyDocument:
    """The rules of one policy version. Omitted fields take the built-in defaults.

    A plain value: what a policy file or a stored event may say is checked by
    ``governance.domain.policy_input.PolicyInput`` (pydantic, imported only to validate), through
    ``model_validate``; a ``PolicyDocument`` made directly in code is trusted as it stands.
    """

    title: str = "Built-in defaults"
    permitted_categories: tuple[Category, ...] = tuple(Category)
    max_review_days: dict[Category, int] = field(
        default_factory=lambda: {c: d.days for c, d in defaults.MAX_REVIEW_INTERVAL.items()}
    )
    protected_review_days: int = defaults.PROTECTED_REVIEW_INTERVAL.days
    source_freshness_hours: int = 24
    min_authoriser_rank: Rank = defaults.MIN_AUTHORISER_RANK
    watchlist_size_warning: int = 2000
    max_future_skew_minutes: int = 5
    free_backdating_hours: int = 24
    second_officer_backdating_days: int = 90
    max_entry_lifetime_days: int = defaults.MAX_ENTRY_LIFETIME.days
    expiry_warning_days: int = defaults.EXPIRY_WARNING.days
    retention_days_after_removal: int = 180
    reviewer_may_be_proposer: bool = False
    effective_at: datetime | None = None

    @classmethod
    def model_validate(cls, data: Any) -> PolicyDocument:
        """A document from untrusted data, or pydantic's ``ValidationError`` saying what is wrong."""
        from governance.domain.policy_input import PolicyInput  # noqa: PLC0415 - pydantic

        return cls(**dict(PolicyInput.model_validate(data)))

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> PolicyDocument:
        """A copy with some fields replaced (not validated, as pydantic's ``model_copy``)."""
        return dataclasses.replace(self, **(update or {}))

    def review_interval(self, category: Category, protected: bool) -> timedelta:
        """Longest allowed gap between reviews; shorter for minors and vulnerable people."""
        days = self.max_review_days.get(category, self.protected_review_days)
        return timedelta(days=min(days, self.protected_review_days) if protected else days)

    @property
    def source_freshness(self) -> timedelta:
        return timedelta(hours=self.source_freshness_hours)

    @property
    def max_entry_lifetime(self) -> timedelta:
        return timedelta(days=self.max_entry_lifetime_days)

    def as_record(self) -> dict[str, Any]:
        """The document as stored in the signed event (every field explicit)."""
        from governance.domain.policy_input import PolicyInput  # noqa: PLC0415 - pydantic

        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        record: dict[str, Any] = PolicyInput.model_validate(fields).model_dump(
            mode="json", exclude={"effective_at"}
        )
        return record


DEFAULT = PolicyDocument()


def parse_policy(text: bytes, filename: str) -> PolicyDocument:
    """Validate a policy file (TOML or JSON by extension), one line per problem."""
    import tomllib  # noqa: PLC0415 - only publishing reads TOML

    from pydantic import ValidationError  # noqa: PLC0415 - only validating needs pydantic

    from governance.domain.proposal import validation_lines  # noqa: PLC0415

    try:
        data = (
            tomllib.loads(text.decode("utf-8")) if filename.endswith(".toml") else json.loads(text)
        )
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(
            f"file: {filename} is not valid {'TOML' if filename.endswith('.toml') else 'JSON'} ({error})"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput("file: a policy document must be a table/object")
    try:
        return PolicyDocument.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(validation_lines(error)) from None


def policy_stream(version: int) -> UUID:
    """Each policy version is its own one-event stream, so two publishers cannot both take a number."""
    return named_stream("policy", str(version))


class PolicyVersion(Governed):
    """One published policy version."""

    TOPIC = "watchlist:PolicyVersion"

    @staticmethod
    def create_id(version: int) -> UUID:
        return policy_stream(version)

    class Published(Governed.Event, AggregateCreated):
        """An administrator published a policy version, in force from ``effective_at``."""

        TOPIC = "watchlist:PolicyVersion.Published"
        version: int
        document: dict[str, Any]

    @event(Published)
    def __init__(
        self, actor: str, effective_at: datetime, version: int, document: dict[str, Any]
    ) -> None:
        self.number = version
        self.document = PolicyDocument.model_validate(document)
        self.effective_at = effective_at
        self.published_by = actor
