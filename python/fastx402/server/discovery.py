"""The ``bazaar`` discovery extension of a seller's 402 answers.

A route that gives input/output schemas or examples (or its own ``extensions["bazaar"]``, e.g.
built with the official SDK's ``declare_discovery_extension``) declares how it is called and
what it answers, so that facilitators can catalog it. The declaration is built and checked by
the core once per route; each 402 answer adds the request's method and, for routes with
parameters, their values and the route template (the official resource server's enrichment),
in the official SDK's key order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastx402._core import bazaar_declaration, bazaar_for_request, validate_bazaar
from fastx402.server.pricing import Route

BAZAAR = "bazaar"
# Answers kept per (pattern, method, path), at most this many (oldest dropped).
CACHE_SIZE = 4096


def declaration(pattern: str, route: Route) -> dict[str, Any] | None:
    """The route's static ``bazaar`` declaration, or None; raises ``ValueError`` naming the
    route when what it gives is not a valid declaration."""
    own = (route.extensions or {}).get(BAZAAR)
    try:
        if own is not None:
            validate_bazaar(_plain(own))
            return dict(own)
        if not route.describes_io:
            return None
        verb = pattern.split(None, 1)[0] if len(pattern.split(None, 1)) == 2 else None
        return bazaar_declaration(
            method=verb,
            body_type=route.body_type,
            input=route.input_example,
            input_schema=_plain(route.input_schema),
            path_params_schema=_plain(route.path_params_schema),
            output_example=route.output_example,
            output_schema=_plain(route.output_schema),
        )
    except ValueError as e:
        raise ValueError(f"route {pattern!r}: bazaar discovery: {e}") from e


def _plain(value: Any) -> Any:
    """A mapping as a dict (the core reads dicts); anything else as is, for the core to name."""
    return dict(value) if isinstance(value, Mapping) else value


class Discovery:
    """The declarations of a route table, and their per-request answers (cached, bounded)."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self._static = {p: d for p, r in routes.items() if (d := declaration(p, r)) is not None}
        self._answers: dict[tuple[str, str, str], dict[str, Any]] = {}

    def static(self, pattern: str) -> dict[str, Any] | None:
        return self._static.get(pattern)

    def for_request(self, pattern: str, method: str, path: str) -> dict[str, Any] | None:
        """The ``bazaar`` extension answered to ``method path`` on ``pattern`` (None: none)."""
        found = self._static.get(pattern)
        if found is None:
            return None
        key = (pattern, method, path)
        answer = self._answers.get(key)
        if answer is None:
            parts = pattern.split(None, 1)
            route_path = parts[1] if len(parts) == 2 else parts[0]
            answer = bazaar_for_request(found, method, route=route_path, path=path)
            if len(self._answers) >= CACHE_SIZE:
                self._answers.pop(next(iter(self._answers)))
            self._answers[key] = answer
        return answer
