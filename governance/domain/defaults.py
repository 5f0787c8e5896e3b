"""Default governance rules, in force until a policy version says otherwise.

Each value is marked S (from a cited source in domain.md) or D (a reasonable default, configurable).
"""

from __future__ import annotations

from datetime import timedelta

from governance.domain.vocabulary import Category, Rank

#: D (domain.md a): minimum rank of the authorising officer; the source does not say.
MIN_AUTHORISER_RANK = Rank.SUPERINTENDENT

#: D (domain.md b3): maximum interval between reviews, per category.
MAX_REVIEW_INTERVAL: dict[Category, timedelta] = {
    Category.WANTED_ON_WARRANT: timedelta(days=90),
    Category.SUSPECT: timedelta(days=90),
    Category.UNLAWFULLY_AT_LARGE: timedelta(days=90),
    Category.COURT_ORDER_BREACH: timedelta(days=90),
    Category.MISSING_PERSON: timedelta(days=7),
    Category.VULNERABLE_AT_RISK: timedelta(days=7),
    Category.RISK_TO_SELF_OR_OTHERS: timedelta(days=7),
}

#: D (domain.md b3): minors and people flagged vulnerable are reviewed at least weekly whatever
#: their category (the source says "per deployment" for minors; the compile gate enforces that).
PROTECTED_REVIEW_INTERVAL = timedelta(days=7)

#: D: the longest an entry may stand before it lapses (SIS-style alerts are reviewed within a year).
MAX_ENTRY_LIFETIME = timedelta(days=365)

#: Architecture "Time": backdating bounds for effective_at relative to recorded_at.
MAX_FUTURE_SKEW = timedelta(minutes=5)
FREE_BACKDATING = timedelta(hours=24)
MAX_BACKDATING_WITHOUT_SECOND_OFFICER = timedelta(days=90)

#: D (domain.md b2): source verification must be this fresh at go-live.
SOURCE_FRESHNESS = timedelta(hours=24)

#: D (domain.md b4): warn the custodian this long before expiry.
EXPIRY_WARNING = timedelta(days=14)

#: S (domain.md a): under-18s are minors.
ADULT_AGE = 18
