"""What a policy document may say, checked with pydantic where one comes in: a file or an event.

``PolicyInput`` is the validation model of ``governance.domain.policy.PolicyDocument`` (the plain
value the rules read), with the same fields and defaults (a unit test holds them in step). It is
imported only to validate or to write a document's record, so the many commands that only read the
rules in force never import pydantic.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from governance.domain import defaults
from governance.domain.vocabulary import Category, Rank

Days = Annotated[int, Field(ge=1, le=3650)]


class PolicyInput(BaseModel):
    """The rules of one policy version, validated. Omitted fields take the built-in defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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
    def _every_permitted_category_has_a_review_interval(self) -> PolicyInput:
        missing = [c.value for c in self.permitted_categories if c not in self.max_review_days]
        if missing:
            raise ValueError(f"max_review_days: no review interval for {', '.join(missing)}")
        return self
