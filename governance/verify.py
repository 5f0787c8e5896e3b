"""Alias kept for scripts and docs: ``python -m governance.verify DIR`` runs the offline verifier.

The verifier itself is the small package ``governance.offline`` (``python -m governance.offline``).
"""

from __future__ import annotations

import sys

from governance.offline.bundle import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
