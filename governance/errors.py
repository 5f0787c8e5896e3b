"""The one error hierarchy of the system.

Every expected failure is a ``GovernanceError`` subclass carrying a user-facing message. The CLI maps
each family to one exit code in one place (``commands/errors.py``): refusals exit 1, invalid input 2,
integrity failures 3. Messages never include keys, passphrases or personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class GovernanceError(Exception):
    """Base class: an expected failure with a message fit to show a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def lines(self) -> list[str]:
        """One line per problem, for stderr."""
        return [self.message]


class Refused(GovernanceError):
    """A governance rule, a permission, a missing record or a conflict stopped the action (exit 1)."""


class PermissionDenied(Refused):
    """The acting officer lacks the role, rank or standing the action needs."""


class RuleViolation(Refused):
    """A domain rule forbids the action in the record's current state."""


class NotFound(Refused):
    """The named record does not exist."""


class Conflict(Refused):
    """Someone else changed the record between reading and writing it."""


class StaleRecords(Conflict):
    """An officer or policy record arrived after the command read them; it runs again on them."""


class KeyUnlockFailed(Refused):
    """The private key could not be unlocked (wrong passphrase or unreadable key file)."""


class InvalidInput(GovernanceError):
    """The input is malformed or fails validation (exit 2). Carries one line per problem."""

    def __init__(self, problems: Sequence[str] | str) -> None:
        items = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(items))
        self.problems = items

    @property
    def lines(self) -> list[str]:
        return list(self.problems)


@dataclass(frozen=True)
class Failure:
    """One integrity problem at one place in the store."""

    stream: str
    version: int | None
    position: int | None
    problem: str

    def describe(self) -> str:
        """A one-line description naming what is wrong and where."""
        where = f"stream {self.stream}"
        if self.version is not None:
            where += f" version {self.version}"
        if self.position is not None:
            where += f" position {self.position}"
        return f"integrity failure at {where}: {self.problem}"


class IntegrityFailure(GovernanceError):
    """The record failed verification: bad signature, broken chain, bad proof (exit 3)."""

    def __init__(self, failures: Sequence[Failure] | str) -> None:
        if isinstance(failures, str):
            self.failures: list[Failure] = []
            super().__init__(failures)
        else:
            self.failures = list(failures)
            super().__init__("; ".join(f.describe() for f in self.failures))

    @property
    def lines(self) -> list[str]:
        return [f.describe() for f in self.failures] or [self.message]


class ProofError(IntegrityFailure):
    """A Merkle proof, checkpoint or signed note did not verify."""
