"""Compiling a deployment's watchlist: choose the candidates, then run the gate over them.

The candidates are every entry ever proposed, read from the signed ``Entry.Proposed`` events (not
from the projection, whose unsigned status column could hide one); the gate
(``DeploymentService.compile``) judges each one from its verified events and accounts for every
entry on the list: included, or excluded with its reasons. Only entries that, as their verified
events say, left the list before the freshness window are left out of the record.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from governance import clock
from governance.application import WatchlistApp
from governance.domain.deployment import Deployment
from governance.integrity.signing import Signer
from governance.services.stored_history import PROPOSED


def compile_watchlist(app: WatchlistApp, signer: Signer, deployment_id: UUID) -> Deployment:
    """Judge every candidate at the deployment's planned start, as known now, and record it."""
    now = clock.now()
    window = app.policies.at(now).document.source_freshness
    pool = [UUID(str(n.originator_id)) for n in app.notifications([PROPOSED])]
    return app.deployments.compile(signer, deployment_id, pool, now - window - timedelta(days=1))
