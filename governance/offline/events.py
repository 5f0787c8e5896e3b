"""The per-event rules of the offline verifier: envelope, placement, chain, signer standing.

Part of ``python -m governance.offline.bundle`` (see that module and docs/bundle-format.md). Needs only the
standard library and ``cryptography``; it replays the officer registry from the events themselves.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from governance.domain.permissions import ACTION_OF_TOPIC, ALLOWED
from governance.domain.rechecks import (
    ENTRY_PREFIX,
    POLICY_PUBLISHED,
    RANKED,
    Bounds,
    EntryContext,
    Published,
    bounds_in_force,
    rule_problems,
)
from governance.ledger import merkle
from governance.offline import statement

EVENT_FORMAT = statement.FORMAT
GENESIS_PREV = "0" * 64
STREAMS = uuid5(NAMESPACE_URL, "urn:watchlist-governance:stream")
ORIGIN_STREAM = str(uuid5(STREAMS, "store:origin"))
FOUNDED = "watchlist:Origin.Founded"
ENROLLED = "watchlist:Officer.Enrolled"
FOUNDING = ("origin", "admin_officer_id", "admin_public_key", "log_public_key")
#: The payload fields each officer event sets in the officer's standing.
OFFICER_CHANGES = {
    ENROLLED: ("rank", "roles", "key_id", "public_key"),
    "watchlist:Officer.Revoked": (),
    "watchlist:Officer.RankChanged": ("rank",),
    "watchlist:Officer.RolesChanged": ("roles",),
    "watchlist:Officer.KeyRotated": ("key_id", "public_key"),
}
#: The roles allowed to record each event type (an action missing from ALLOWED: no role may).
ROLES_FOR = {t: {r.value for r in ALLOWED.get(a, ())} for t, a in ACTION_OF_TOPIC.items()}
TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Event:
    """One row of events.jsonl: where the store kept the event, and its exact stored bytes."""

    position: int
    stream: str
    version: int
    topic: str
    state: bytes


@dataclass
class Report:
    """What the verifier found: failures, the recomputed tree, checkpoint coverage, cosignatures."""

    failures: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoint_size: int | None = None
    cosignatures: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, where: str, problem: str, event: Event | None = None, at: Any = None) -> None:
        """Record a failure at an event, or at ``where`` (bundle, merkle-log, checkpoint:FILE)."""
        place = (
            (where, None, at) if event is None else (event.stream, event.version, event.position)
        )
        self.failures.append(dict(zip(("stream", "version", "position"), place, strict=True)))
        self.failures[-1]["problem"] = problem


def to_int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def from_b64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not a string")
    return base64.b64decode(text, validate=True)


def key_id(public_key: Any) -> str:
    """16 hex digits of SHA-256 of a base64 raw Ed25519 public key ("" if it is not base64)."""
    try:
        return hashlib.sha256(from_b64(public_key)).hexdigest()[:16]
    except (TypeError, ValueError):
        return ""


def signature_holds(public_key: str, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``data`` by the base64 public key."""
    try:
        Ed25519PublicKey.from_public_bytes(from_b64(public_key)).verify(signature, data)
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


def parse_envelope(state: bytes) -> tuple[dict[str, Any], bytes, bytes, dict[str, Any]]:
    """(statement, exact signed bytes, signature, sealed ciphertexts), parsed strictly by
    ``governance.offline.statement``; ValueError (a StatementError) naming what is malformed."""
    parsed = statement.parse_envelope(state)
    return parsed.statement, parsed.signed, parsed.signature, parsed.sealed


class Replay:
    """Checks events in store order against an officer registry rebuilt from the events alone."""

    def __init__(self) -> None:
        self.founding: dict[str, str] = {}
        self.officers: dict[str, dict[str, Any]] = {}  # officer id -> standing, in enrolment order
        self.heads: dict[str, tuple[int, str]] = {}  # stream -> (last version, its state's hash)
        self.latest: datetime | None = None
        self.published: list[Published] = []  # valid policy versions so far, in store order
        self.entries: dict[str, EntryContext] = {}  # entry stream -> its valid events so far

    def check(self, e: Event, first: bool) -> list[str]:
        """Every problem with the next event in store order; replay it into the registry if valid."""
        version, prev = self.heads.get(e.stream, (0, GENESIS_PREV))
        self.heads[e.stream] = (e.version, hashlib.sha256(e.state).hexdigest())
        gap = [f"version {version + 1} is missing (found {e.version})"] * (e.version != version + 1)
        try:
            st, signed, signature, sealed = parse_envelope(e.state)
        except ValueError as error:
            return [*gap, str(error)]
        p = st["payload"]
        if first and (e.topic, e.stream, e.version) == (FOUNDED, ORIGIN_STREAM, 1):
            self.founding = {n: p[n] for n in FOUNDING if isinstance(p.get(n), str)}
        try:
            recorded: datetime | None = datetime.strptime(
                st["recorded_at"], "%Y-%m-%dT%H:%M:%S.%fZ"
            )
        except ValueError:
            recorded = None
        late = bool(recorded and self.latest and recorded < self.latest - TOLERANCE)
        self.latest = max(self.latest or recorded, recorded) if recorded else self.latest
        checks = (
            (first and len(self.founding) < 4, "the first event is not a founding record"),
            (st["stream"] != e.stream, "the statement names another stream: the event was moved"),
            (st["version"] != e.version, "the statement names another version"),
            (st["type"] != e.topic, "the statement's type differs from the stored topic"),
            (st["origin"] != self.founding.get("origin"), "the origin is not the store's origin"),
            (st["prev"] != prev, "hash chain broken: prev is not the previous event's hash"),
            (recorded is None, "recorded_at is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ"),
            (late, "recorded_at is >5 min before an earlier event's: a backdated insert"),
        )
        problems = gap + [problem for bad, problem in checks if bad]
        for name, value in p.items():
            if isinstance(value, dict) and value.get("alg") == "AES-256-GCM" and "key_ref" in value:
                try:
                    digest = hashlib.sha256(from_b64(sealed.get(name))).hexdigest()
                except (TypeError, ValueError):
                    digest = None
                if digest != value.get("ciphertext_sha256"):
                    problems.append(f"sealed field {name!r} does not match its signed hash")
        key, standing = self.standing(e.topic, st["actor"], st["key_id"], p, first)
        problems += standing
        if key is not None and not signature_holds(key, signature, signed):
            problems.append("signature does not verify")
        if recorded is not None:
            problems += self.rules(e, st, p, recorded)
        if e.topic in OFFICER_CHANGES:
            try:
                officer_id, after = self.officer_change(e, p)
            except ValueError as error:
                problems.append(str(error))
            except (KeyError, TypeError):
                problems.append("the officer event lacks a well-formed field")
            else:
                problems += self.shared_key(officer_id, after)
                if not problems:
                    self.officers[officer_id] = after
        if not problems:
            self.follow(e, st, p)
        return problems

    def rules(
        self, e: Event, st: dict[str, Any], p: dict[str, Any], recorded: datetime
    ) -> list[str]:
        """The write-time rules checked again (governance.domain.rechecks): the rank from the
        registry replayed so far, the policy in force as published so far, the entry's facts."""
        if e.topic not in RANKED and not e.topic.startswith(ENTRY_PREFIX):
            return []
        try:
            effective: datetime | None = datetime.strptime(
                st["effective_at"], "%Y-%m-%dT%H:%M:%S.%fZ"
            )
        except ValueError:
            effective = None
        officer = self.officers.get(st["actor"])
        rank = officer.get("rank") if officer is not None and e.topic in RANKED else None
        return rule_problems(
            e.topic,
            st["actor"],
            recorded,
            effective,
            p,
            rank if isinstance(rank, str) else None,
            bounds_in_force(self.published, recorded),
            self.entries.get(e.stream, EntryContext())
            if e.topic.startswith(ENTRY_PREFIX)
            else None,
        )

    def follow(self, e: Event, st: dict[str, Any], p: dict[str, Any]) -> None:
        """Take a valid event into the policy versions and entry facts later rules read."""
        if e.topic.startswith(ENTRY_PREFIX):
            context = self.entries.setdefault(e.stream, EntryContext())
            context.follow(e.topic, e.version, st["actor"], p)
        elif e.topic == POLICY_PUBLISHED:
            try:
                effective = datetime.strptime(st["effective_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
                version = to_int(p["version"])
                bounds = Bounds.of(p["document"])
            except (KeyError, TypeError, ValueError, AttributeError):
                return
            self.published.append(Published(version, effective, bounds))

    def shared_key(self, officer_id: str, after: dict[str, Any]) -> list[str]:
        """A key registered to another officer, now or before, makes two officers one signer."""
        kid = after["key_id"]
        holders = sorted(
            other
            for other, standing in self.officers.items()
            if other != officer_id and (standing["key_id"] == kid or kid in standing["previous"])
        )
        if not holders:
            return []
        return [f"key {kid} of officer {officer_id} is also registered to {', '.join(holders)}"]

    def standing(
        self, topic: str, actor: str, kid: str, p: dict[str, Any], first: bool
    ) -> tuple[str | None, list[str]]:
        """The key the event must verify under, and any problem with the signer's standing."""
        found, admin_key = self.founding, self.founding.get("admin_public_key", "")
        if topic not in ROLES_FOR or len(found) < 4:
            return None, [f"unknown event type {topic}" if found else "no founding record"]
        if topic == FOUNDED:
            if not first or (actor, kid) != (found["admin_officer_id"], key_id(admin_key)):
                return None, ["a founding record that is not this store's, self-signed"]
            return admin_key, []
        first_admin = actor == found["admin_officer_id"] == p.get("officer_id")
        if topic == ENROLLED and first_admin and actor not in self.officers:
            if p.get("public_key") != admin_key or kid != key_id(admin_key):
                return None, ["the first administrator is enrolled without the founding key"]
            if "admin" not in (p.get("roles") or []):
                return admin_key, [
                    "the founder did not hold a role allowed to found the store (admin)"
                ]
            return admin_key, []  # the first administrator's self-signed enrolment
        officer = self.officers.get(actor)
        if officer is None:
            return None, [f"signed by {actor}, not an enrolled officer at this position"]
        if kid != officer["key_id"]:
            how = "rotated out by" if kid in officer["previous"] else "not registered to"
            return None, [f"signed with key {kid}, {how} officer {actor} at this position"]
        if officer["status"] == "revoked":
            return None, [f"signed by officer {actor} after they were revoked"]
        if not ROLES_FOR[topic] & set(officer["roles"]):
            return officer["public_key"], [f"officer {actor} held no role allowed to do this"]
        return officer["public_key"], []

    def officer_change(self, e: Event, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The officer an officer event changes and their standing after it (ValueError if bad)."""
        streams = {str(uuid5(STREAMS, f"officer:{o}")): o for o in self.officers}
        officer_id = p["officer_id"] if e.topic == ENROLLED else streams.get(e.stream, "")
        if not isinstance(officer_id, str) or not officer_id:
            raise ValueError("an officer event in a stream with no enrolled officer")
        own = str(uuid5(STREAMS, f"officer:{officer_id}"))
        if e.topic == ENROLLED and (officer_id in self.officers or e.stream != own):
            raise ValueError(f"enrolment of {officer_id} is not the start of its officer stream")
        old = self.officers.get(officer_id, {"officer_id": officer_id, "previous": []})
        new = {**old, **{name: p[name] for name in OFFICER_CHANGES[e.topic]}}
        new["roles"] = sorted(new["roles"])
        new["status"] = "revoked" if e.topic.endswith(".Revoked") else old.get("status", "active")
        if "key_id" in old and new["key_id"] != old["key_id"]:
            new["previous"] = [*old["previous"], old["key_id"]]
        if not all(isinstance(v, str) for v in [new["rank"], new["key_id"], *new["roles"]]):
            raise TypeError("a field has the wrong type")
        if key_id(new["public_key"]) != new["key_id"]:
            raise ValueError("the officer's key_id is not the id of the public key it names")
        return officer_id, new
