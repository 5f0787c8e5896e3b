"""The ENTRY.json file a custodian submits, validated at the edge with pydantic.

Unknown fields are rejected; every problem is reported as one ``field: message`` line. Rules that
depend on the clock or the policy in force (review and expiry dates, age, category) are checked when
the entry is created (``Entry.propose``, by ``governance.domain.rules.check_proposal``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from governance.domain.vocabulary import Category
from governance.errors import InvalidInput

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Rationale = Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=8000)]

STRICT = ConfigDict(strict=True, frozen=True, extra="forbid")


class Subject(BaseModel):
    """The personal data of the person listed; sealed before it enters any event."""

    model_config = STRICT
    name: Text
    date_of_birth: date
    subject_ref: Ref
    image_ref: Ref | None = None


class Image(BaseModel):
    """Provenance of the image used: lawful basis, source and capture date (APP watchlist)."""

    model_config = STRICT
    legal_basis: Text
    source: Text
    captured_on: date
    quality_score: float | None = Field(default=None, ge=0, le=1)


class EntryProposal(BaseModel):
    """A proposed watchlist entry (``watchlist entry propose --file ENTRY.json``)."""

    model_config = STRICT
    subject: Subject
    category: Category
    source_record_ref: Ref
    offence_ref: Ref | None = None
    objective: Text
    rationale: Rationale
    image: Image
    vulnerable: bool
    safeguarding_rationale: Rationale | None = None
    review_by: AwareDatetime
    expires_at: AwareDatetime

    @model_validator(mode="after")
    def _cross_field_rules(self) -> EntryProposal:
        problems = []
        if self.category is Category.SUSPECT and self.offence_ref is None:
            problems.append("offence_ref: a suspect entry needs the offence reference")
        if self.category is Category.VULNERABLE_AT_RISK and not self.vulnerable:
            problems.append("vulnerable: a vulnerable_at_risk entry must be flagged vulnerable")
        if self.vulnerable and self.safeguarding_rationale is None:
            problems.append(
                "safeguarding_rationale: a vulnerable person needs a recorded safeguarding rationale"
            )
        if self.review_by > self.expires_at:
            problems.append("review_by: must not be later than expires_at")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def parse_proposal(text: str | bytes) -> EntryProposal:
    """Validate ENTRY.json content, raising ``InvalidInput`` with one line per problem."""
    try:
        return EntryProposal.model_validate_json(text)
    except ValidationError as error:
        raise InvalidInput(validation_lines(error)) from None


def validation_lines(error: ValidationError) -> list[str]:
    """``field: message`` lines from a pydantic error, never echoing the input values."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        for line in message.split("\n"):
            if line.split(" ")[0].endswith(":"):
                lines.append(line)  # a cross-field rule that names its own field
            elif not where:
                lines.append(f"file: {_friendly(line, item['type'])}")
            else:
                lines.append(f"{where}: {_friendly(line, item['type'])}")
    return lines


def _friendly(message: str, kind: str) -> str:
    if kind == "extra_forbidden":
        return "unknown field (not part of this document)"
    if kind == "missing":
        return "is required"
    if kind == "timezone_aware" or kind.startswith("datetime"):
        return "needs a UTC offset, e.g. 2027-02-01T00:00:00Z"
    return message
