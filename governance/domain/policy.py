"""Policy versions: the configurable rules in force from a given instant.

Every rule a judgement depends on lives in a policy document (review intervals, source freshness,
minimum authoriser rank, backdating bounds, retention). Whether an inclusion was justified at T is
judged by the version in force at T, never today's. Version 0 is the built-in default (the values of
``governance.domain.defaults``, sourced in domain.md); admins publish later versions as signed events.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from eventsourcing.domain import AggregateCreated, event
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from governance.domain import defaults
from governance.domain.aggregate import Governed, named_stream
from governance.domain.vocabulary import Category, Rank
from governance.errors import InvalidInput

Days = Annotated[int, Field(ge=1, le=3650)]


class PolicyDocument(BaseModel):
    """The rules of one policy version. Omitted fields take the built-in defaults."""

    # Built on first use, not at import: most commands never validate a policy document.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    title: str = "Built-in defaults"
    permitted_categories: tuple[Category, ...] = tuple(Category)
    max_review_days: dict[Category, Days] = Field(
        default_factory=lambda: {c: d.days for c, d in defaults.MAX_REVIEW_INTERVAL.items()}
    )
    protected_review_days: Days = defaults.PROTECTED_REVIEW_INTERVAL.days
    source_freshness_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    min_authoriser_rank: Rank = defaults.MIN_AUTHORISER_RANK
    watchlist_size_warning: Annotated[int, Field(ge=1)] = 2000
    max_future_skew_minutes: Annotated[int, Field(ge=0, le=60)] = 5
    free_backdating_hours: Annotated[int, Field(ge=0, le=24 * 7)] = 24
    second_officer_backdating_days: Annotated[int, Field(ge=1, le=3650)] = 90
    max_entry_lifetime_days: Days = defaults.MAX_ENTRY_LIFETIME.days
    expiry_warning_days: Annotated[int, Field(ge=0, le=365)] = defaults.EXPIRY_WARNING.days
    retention_days_after_removal: Days = 180
    reviewer_may_be_proposer: bool = False
    effective_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _every_permitted_category_has_a_review_interval(self) -> PolicyDocument:
        missing = [c.value for c in self.permitted_categories if c not in self.max_review_days]
        if missing:
            raise ValueError(f"max_review_days: no review interval for {', '.join(missing)}")
        return self

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
        record: dict[str, Any] = self.model_dump(mode="json", exclude={"effective_at"})
        return record


@cache
def default_policy() -> PolicyDocument:
    """Version 0, the built-in defaults (made on first use, like the model it is an instance of)."""
    return PolicyDocument()


if TYPE_CHECKING:
    DEFAULT: PolicyDocument


def __getattr__(name: str) -> Any:
    """``DEFAULT``: ``default_policy()``, for callers that name the built-in version a constant."""
    if name == "DEFAULT":
        return default_policy()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_policy(text: bytes, filename: str) -> PolicyDocument:
    """Validate a policy file (TOML or JSON by extension), one line per problem."""
    import tomllib  # noqa: PLC0415 - only publishing reads TOML

    from governance.domain.proposal import validation_lines  # noqa: PLC0415 - pydantic models

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
