"""Reconstructing a past deployment for the legal team: the permission check, then the read side.

The answer itself is built by ``projections.reconstruction`` from the projection (an index) and the
verified events it cites; this use case decides who may ask.
"""

from __future__ import annotations

from uuid import UUID

from governance.application import WatchlistApp
from governance.domain.permissions import Action
from governance.integrity.signing import Signer
from projections.reconstruction import Reconstruction, reconstruct


def reconstruct_deployment(
    app: WatchlistApp, signer: Signer, deployment_id: UUID
) -> Reconstruction:
    """Every entry the deployment's gate judged, as known then and now (legal, fresh standing)."""
    app.authenticate(signer, Action.RECONSTRUCT_DEPLOYMENT, fresh=True)
    return reconstruct(app, deployment_id)
