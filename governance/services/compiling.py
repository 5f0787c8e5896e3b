"""Compiling a deployment's watchlist: choose the candidates, then run the gate over them.

The candidates come from the projection (an index of entries on the list, or off it only since
before the freshness window); the gate (``DeploymentService.compile``) judges each one from its
verified events, so a projection row can add a candidate but never a verdict.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from governance import clock
from governance.application import WatchlistApp
from governance.domain.deployment import Deployment
from governance.integrity.signing import Signer
from projections.queries import candidates


def compile_watchlist(app: WatchlistApp, signer: Signer, deployment_id: UUID) -> Deployment:
    """Judge every candidate at the deployment's planned start, as known now, and record it."""
    now = clock.now()
    window = app.policies.at(now).document.source_freshness
    pool = [UUID(e) for e in candidates(app, now - window - timedelta(days=1))]
    return app.deployments.compile(signer, deployment_id, pool)
