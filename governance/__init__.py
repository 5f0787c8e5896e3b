"""Watchlist governance: the domain core and write side.

Every watchlist decision is an immutable event signed by the officer who made it, recorded through
one eventsourcing Application (``governance.application``). This package imports no CLI code.
"""

__version__ = "0.1.0"
