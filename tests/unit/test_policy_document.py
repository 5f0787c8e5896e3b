"""The policy document (a plain value) and its validation model (pydantic) stay in step.

``PolicyDocument`` is what the rules read; ``PolicyInput`` checks what a file or an event says. Two
declarations of the same fields must agree on names, order and defaults, and a document's record
(stored in the signed event) must be what the validation model writes.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from governance.domain.policy import DEFAULT, PolicyDocument
from governance.domain.policy_input import PolicyInput
from governance.domain.vocabulary import Category, Rank


def test_the_same_fields_in_the_same_order_with_the_same_defaults() -> None:
    ours = {f.name: getattr(DEFAULT, f.name) for f in dataclasses.fields(PolicyDocument)}
    theirs = dict(PolicyInput())
    assert list(ours) == list(theirs)
    assert ours == theirs


def test_a_validated_document_is_a_plain_document_with_the_validated_values() -> None:
    data = {
        "title": "Stricter",
        "permitted_categories": ["wanted_on_warrant"],
        "max_review_days": {"wanted_on_warrant": 30},
        "min_authoriser_rank": "chief_superintendent",
        "effective_at": "2027-01-01T00:00:00Z",
    }
    document = PolicyDocument.model_validate(data)
    assert type(document) is PolicyDocument
    assert document == PolicyDocument(**dict(PolicyInput.model_validate(data)))
    assert document.permitted_categories == (Category.WANTED_ON_WARRANT,)
    assert document.min_authoriser_rank is Rank.CHIEF_SUPERINTENDENT
    assert document.effective_at == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "data",
    [
        {"colour": "blue"},
        {"source_freshness_hours": 0},
        {"permitted_categories": ["suspect"], "max_review_days": {"wanted_on_warrant": 30}},
        {"effective_at": "2027-01-01T00:00:00"},
    ],
)
def test_what_the_validation_model_refuses_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as ours:
        PolicyDocument.model_validate(data)
    with pytest.raises(ValidationError) as theirs:
        PolicyInput.model_validate(data)
    assert ours.value.errors(include_context=False) == theirs.value.errors(include_context=False)


def test_the_record_is_what_the_validation_model_writes() -> None:
    changed = DEFAULT.model_copy(
        update={"permitted_categories": (Category.SUSPECT,), "reviewer_may_be_proposer": True}
    )
    for document in (DEFAULT, changed):
        fields = {f.name: getattr(document, f.name) for f in dataclasses.fields(document)}
        expected = PolicyInput(**fields).model_dump(mode="json", exclude={"effective_at"})
        assert document.as_record() == expected
    assert DEFAULT.as_record()["permitted_categories"] == [c.value for c in Category]
    assert PolicyDocument.model_validate(changed.as_record()) == changed
