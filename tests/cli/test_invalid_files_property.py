"""Property: any invalid ENTRY.json is refused by ``entry propose`` with exit 2 and nothing written.

Invalid files are made by mutating the valid document (drop a required field, add an unknown one,
replace a value with a wrong type, an invalid category, a naive date-time, a bare date or an empty
string), or are random bytes. The store is built once per test function, not per example.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.domain.vocabulary import Category
from tests.cli.conftest import Cli
from tests.conftest import entry_document

REQUIRED = [
    "subject",
    "category",
    "source_record_ref",
    "objective",
    "rationale",
    "image",
    "vulnerable",
    "review_by",
    "expires_at",
    "subject.name",
    "subject.date_of_birth",
    "subject.subject_ref",
    "image.legal_basis",
    "image.source",
    "image.captured_on",
]
OPTIONAL = [
    "offence_ref",
    "safeguarding_rationale",
    "subject.image_ref",
    "image.quality_score",
]
KNOWN = {path.rpartition(".")[2] for path in REQUIRED + OPTIONAL}
TEXT_FIELDS = [
    "source_record_ref",
    "objective",
    "rationale",
    "offence_ref",
    "safeguarding_rationale",
    "subject.name",
    "subject.subject_ref",
    "subject.image_ref",
    "image.legal_basis",
    "image.source",
]
INSTANTS = ["review_by", "expires_at"]
DATES = ["subject.date_of_birth", "image.captured_on"]
OBJECTS = ["subject", "image"]
#: Each field with values of a type it never accepts (strict mode: no coercion).
WRONG_TYPES: dict[str, st.SearchStrategy[Any]] = {
    **{
        path: st.one_of(st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2))
        for path in TEXT_FIELDS
    },
    **{
        path: st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans())
        for path in INSTANTS + DATES
    },
    "category": st.one_of(
        st.integers(), st.booleans(), st.none(), st.lists(st.just("suspect"), max_size=2)
    ),
    "vulnerable": st.one_of(
        st.sampled_from(["true", "false", "yes", 0, 1]), st.integers(), st.none()
    ),
    "subject": st.one_of(
        st.text(max_size=10), st.integers(), st.none(), st.lists(st.integers(), max_size=2)
    ),
    "image": st.one_of(
        st.text(max_size=10), st.integers(), st.none(), st.lists(st.integers(), max_size=2)
    ),
    "image.quality_score": st.one_of(
        st.text(max_size=5), st.booleans(), st.floats(min_value=1.01, max_value=1e6)
    ),
}
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(lambda name: name not in KNOWN)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
CATEGORIES = {c.value for c in Category}


@dataclass(frozen=True)
class Mutation:
    """One change that makes the document invalid, and the field a refusal should name."""

    kind: str
    path: str
    value: Any = None


def mutations() -> st.SearchStrategy[Mutation]:
    instants_and_dates = INSTANTS + DATES
    return st.one_of(
        st.sampled_from(REQUIRED).map(lambda path: Mutation("drop", path)),
        st.tuples(st.sampled_from(["", "subject.", "image."]), NAME, JSON_VALUES).map(
            lambda t: Mutation("set", t[0] + t[1], t[2])
        ),
        st.sampled_from(sorted(WRONG_TYPES)).flatmap(
            lambda path: WRONG_TYPES[path].map(lambda value: Mutation("set", path, value))
        ),
        st.text(max_size=30)
        .filter(lambda text: text not in CATEGORIES)
        .map(lambda text: Mutation("set", "category", text)),
        st.tuples(st.sampled_from(INSTANTS), st.datetimes()).map(
            lambda t: Mutation("set", t[0], t[1].isoformat())
        ),
        st.tuples(st.sampled_from(INSTANTS), st.dates()).map(
            lambda t: Mutation("set", t[0], t[1].isoformat())
        ),
        st.tuples(
            st.sampled_from(
                [*TEXT_FIELDS, *instants_and_dates, *OBJECTS, "category", "vulnerable"]
            ),
            st.sampled_from(["", " ", "\t\n"]),
        ).map(lambda t: Mutation("set", t[0], t[1])),
    )


def apply(document: dict[str, Any], mutation: Mutation) -> str | None:
    """Apply ``mutation`` in place; return the field path it touched, or None if it could not apply."""
    parent_path, _, key = mutation.path.rpartition(".")
    parent = document.get(parent_path) if parent_path else document
    if not isinstance(parent, dict):
        return None
    if mutation.kind == "drop":
        if key not in parent:
            return None
        del parent[key]
    else:
        parent[key] = mutation.value
    return mutation.path


@st.composite
def invalid_files(draw: st.DrawFn) -> tuple[bytes, set[str]]:
    """Bytes of an invalid ENTRY.json and the fields a refusal may name ('file' for the whole file)."""
    if draw(st.integers(0, 5)) == 0:
        data = draw(st.binary(max_size=64) | st.text(max_size=40).map(str.encode))
        return data, {"file"}
    document = entry_document()
    touched: set[str] = set()
    for mutation in draw(st.lists(mutations(), min_size=1, max_size=3)):
        path = apply(document, mutation)
        if path is not None:
            touched.add(path)
    if (
        not touched
    ):  # every mutation hit a field an earlier one replaced; fall back to one that applies
        touched.add(apply(document, Mutation("set", "unknown_extra", 1)) or "unknown_extra")
    return json.dumps(document).encode(), touched


ERROR_LINE = re.compile(r"^error: (?P<field>[A-Za-z_][A-Za-z0-9_.]*): \S")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=invalid_files())
def test_an_invalid_entry_file_is_refused_with_exit_2_and_nothing_written(
    store: Cli, case: tuple[bytes, set[str]]
) -> None:
    data, touched = case
    path = store.home.parent / "invalid-entry.json"
    path.write_bytes(data)
    before = store.snapshot()
    result = store.run("entry", "propose", "--file", str(path), officer="PC-1001")
    after = store.snapshot()
    report = f"file: {data!r}\nexit {result.exit_code}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.exit_code == 2, report
    assert result.stdout == "", report
    assert "Traceback" not in result.stdout + result.stderr, report
    named = {m["field"] for m in map(ERROR_LINE.match, result.stderr.splitlines()) if m}
    assert named, report
    # A mutated field is named (or one of its parents, when the parent itself was replaced or
    # dropped), or 'file' when the whole file is wrong.
    accepted = touched | {p.partition(".")[0] for p in touched}
    assert named & accepted, report
    assert after == before, report
