"""Run an x402 facilitator: ``POST /verify``, ``POST /settle``, ``GET /supported``.

The engine is :class:`fastx402.Facilitator` (Rust): it verifies payments locally and on
chain and settles each authorization exactly once. :func:`create_app` puts it behind a
FastAPI app; ``fastx402 facilitator`` runs that app under uvicorn.
"""

from __future__ import annotations

from fastx402._core import Facilitator
from fastx402.facilitator.app import MAX_BODY_BYTES, create_app

__all__ = ["MAX_BODY_BYTES", "Facilitator", "create_app"]
