"""The officer and policy records this process has read, and how far it has read them.

Officer and policy events decide who may sign what and which rules are in force, so every check
needs them. They are read once per process and then only what was stored since (``sync``): one
short query for the store's last position and any officer or policy event after the watermark
``known``. A write then checks, under the store's write lock, that nothing of the kind arrived after
the watermark its checks relied on (``governance.storage.records.StaleGovernance``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from governance.domain.officer import Officer, officer_stream
from governance.domain.registry import OfficerState
from governance.integrity.envelope import GENESIS_PREV
from governance.storage.recorders import Record, WatchlistRecorder
from governance.storage.records import POLICY_PUBLISHED

MAX_POSITION = 2**63 - 1
#: The officer events that register a public key (checked for a key held by two officers).
KEY_TOPICS = ("watchlist:Officer.Enrolled", "watchlist:Officer.KeyRotated")


@dataclass
class Timeline:
    """An officer's events, and their verified states so far (extended on demand, in order)."""

    records: list[Record]
    next_index: int = 0
    positions: list[int] = field(default_factory=list)
    states: list[OfficerState] = field(default_factory=list)
    officer: Officer | None = None
    last_hash: str = GENESIS_PREV


class OfficerFeed:
    """Officer timelines and policy records read so far, up to the watermark ``known``."""

    def __init__(self, recorder: WatchlistRecorder) -> None:
        self.recorder = recorder
        #: Every officer and policy event at or before this position has been read (0: none yet).
        self.known = 0
        self.policy_records: list[Record] = []  # policy events read so far, in store order
        self.key_records: list[Record] = []  # enrolments and key rotations read so far, in order
        self._timelines: dict[str, Timeline] = {}
        self._officer_of: dict[str, str] = {}  # officer stream -> officer id, for loaded timelines

    def sync(self) -> None:
        """Read the officer and policy events stored since ``known``, in one short transaction."""
        last, records = self.recorder.governance_since(self.known)
        for record in records:
            if record.stored.topic == POLICY_PUBLISHED:
                self.policy_records.append(record)
                continue
            if record.stored.topic in KEY_TOPICS:
                self.key_records.append(record)
            timeline = self._timelines.get(
                self._officer_of.get(str(record.stored.originator_id), "")
            )
            if timeline is not None:
                # A timeline first loaded after ``known`` may hold the event already.
                held = timeline.records[-1].stored.originator_version if timeline.records else 0
                if record.stored.originator_version > held:
                    timeline.records.append(record)
        self.known = max(self.known, last)

    def watermark(self) -> int:
        """``known``, after a first read of the officer and policy records if there was none yet."""
        if not self.known:
            self.sync()
        return self.known

    def advance(self, position: int) -> None:
        """Note that no officer or policy event was stored up to ``position`` after ``known``.

        Called after a write whose transaction checked exactly that (see ``StaleGovernance``).
        """
        self.known = max(self.known, position)

    def timeline(self, officer_id: str, position: int) -> Timeline:
        """The officer's events, complete for every position before ``position``."""
        if position != MAX_POSITION and position - 1 > self.known:
            self.sync()
        timeline = self._timelines.get(officer_id)
        if timeline is None:
            stream = officer_stream(officer_id)
            timeline = Timeline(self.recorder.select_records(stream))
            self._timelines[officer_id] = timeline
            self._officer_of[str(stream)] = officer_id
        return timeline
