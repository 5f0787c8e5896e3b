"""Parsing and formatting instants: every accepted time carries an explicit UTC offset.

Accepted: RFC 3339 / ISO 8601 date-times with ``Z`` or ``+HH:MM`` offsets, optionally followed by an
RFC 9557 zone annotation (``2026-03-29T01:30:00+00:00[Europe/London]``). A zone annotation without an
offset (``2026-03-29T02:30:00[Europe/London]``) is resolved strictly: a local time that does not
exist (spring gap) or is ambiguous (autumn fold) is refused. Naive date-times and bare dates are
refused wherever an instant is meant.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from governance.errors import InvalidInput

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

_PATTERN = re.compile(
    r"^(?P<local>\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
    r"(?P<offset>[Zz]|[+-]\d{2}:?\d{2})?"
    r"(?:\[(?P<zone>[A-Za-z0-9_+\-/]+)\])?$"
)
_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_instant(text: str, field: str) -> datetime:
    """Parse ``text`` as an instant and return it in UTC, or raise ``InvalidInput`` naming ``field``."""
    value = text.strip()
    if _BARE_DATE.match(value):
        raise InvalidInput(
            f"{field}: '{value}' is a date, but an instant is needed: "
            f"add a time and a UTC offset, e.g. {value}T00:00:00Z"
        )
    match = _PATTERN.match(value)
    if not match:
        raise InvalidInput(
            f"{field}: '{value}' is not an ISO 8601 date-time with a UTC offset (e.g. 2026-11-26T09:00:00Z)"
        )
    local_text, offset, zone = match["local"], match["offset"], match["zone"]
    try:
        local = datetime.fromisoformat(local_text.replace("t", "T").replace(" ", "T"))
    except ValueError:
        raise InvalidInput(f"{field}: '{value}' is not a valid date-time") from None
    if offset is None and zone is None:
        raise InvalidInput(f"{field}: '{value}' has no UTC offset; write it with Z or +HH:MM")
    tz = _zone(zone, field) if zone else None
    if offset is not None:
        instant = datetime.fromisoformat(local.isoformat() + _normal_offset(offset))
        if tz is not None and instant.astimezone(tz).utcoffset() != instant.utcoffset():
            raise InvalidInput(f"{field}: offset {offset} does not match zone {zone} at that time")
        return instant.astimezone(UTC)
    assert tz is not None
    return _resolve_local(local, tz, field, value)


def parse_optional_instant(text: str | None, field: str) -> datetime | None:
    """Like ``parse_instant`` but passes ``None`` through."""
    return None if text is None else parse_instant(text, field)


def _normal_offset(offset: str) -> str:
    if offset in ("Z", "z"):
        return "+00:00"
    return offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"


def _zone(name: str, field: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415 - only for a zone name

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{field}: unknown time zone '{name}'") from None


def _resolve_local(local: datetime, tz: ZoneInfo, field: str, text: str) -> datetime:
    """Resolve a wall-clock time in ``tz``, refusing times in a gap or a fold."""
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != local:
        raise InvalidInput(f"{field}: '{text}' does not exist in {tz.key} (clocks go forward)")
    if first.utcoffset() != second.utcoffset():
        raise InvalidInput(
            f"{field}: '{text}' is ambiguous in {tz.key} (clocks go back); give an explicit offset"
        )
    return first.astimezone(UTC)


def require_aware(value: datetime, field: str) -> datetime:
    """Return ``value`` in UTC, or refuse a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field}: a date-time without a UTC offset is not accepted")
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """Render an instant as RFC 3339 UTC with microseconds, e.g. ``2026-11-26T09:00:00.000000Z``."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" becomes "Z"


def parse_formatted(text: str) -> datetime:
    """Inverse of ``format_instant`` for trusted stored text (``...Z``, always UTC)."""
    value = datetime.fromisoformat(text)
    if value.utcoffset() != timedelta(0) or not text.endswith("Z"):
        raise ValueError(f"not a stored UTC instant: {text!r}")
    return value


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(value: datetime) -> int:
    """UTC microseconds since the Unix epoch: the integer form projections store."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """Inverse of ``to_micros``."""
    return _EPOCH + timedelta(microseconds=value)


_NAIVE_EPOCH = datetime(1970, 1, 1)


def format_micros(value: int) -> str:
    """``format_instant(from_micros(value))``, without building an aware datetime on the way."""
    return (_NAIVE_EPOCH + timedelta(microseconds=value)).isoformat(timespec="microseconds") + "Z"


def age_in_years(born: date, at: datetime) -> int:
    """Completed years of age at instant ``at`` (UTC date)."""
    today = at.astimezone(UTC).date()
    years = today.year - born.year
    if (today.month, today.day) < (born.month, born.day):
        years -= 1
    return years
