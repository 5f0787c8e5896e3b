"""The projection dispatches on the decoded event's class: every type it keeps has a handler."""

from __future__ import annotations

from governance.domain.catalogue import EVENT_TYPES
from projections.handlers import handle

#: Event types the projection keeps nothing of: they change no answer it gives.
KEEPS_NOTHING = {
    "watchlist:Consultation.Recorded",
    "watchlist:Deployment.Ended",
    "watchlist:Disclosure.Recorded",
    "watchlist:Officer.KeyRotated",
    "watchlist:Officer.RankChanged",
    "watchlist:Officer.RolesChanged",
    "watchlist:Origin.Founded",
    "watchlist:SweepRun.Completed",
}


class TestDispatch:
    def test_only_the_event_types_the_projection_keeps_nothing_of_fall_to_the_default(
        self,
    ) -> None:
        default = handle.dispatch(object)
        unhandled = {topic for topic, cls in EVENT_TYPES.items() if handle.dispatch(cls) is default}
        assert unhandled == KEEPS_NOTHING

    def test_every_entry_event_goes_to_the_entry_handler(self) -> None:
        entry_handlers = {
            handle.dispatch(cls)
            for topic, cls in EVENT_TYPES.items()
            if topic.startswith("watchlist:Entry.")
        }
        assert len(entry_handlers) == 1
